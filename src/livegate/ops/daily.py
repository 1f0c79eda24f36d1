"""``livegate daily``: preflight -> paper session -> canary shadow -> rollup -> validation -> housekeeping -> alert.

Aurora's daily maintenance over livegate's own commands (issue 13 item 5; docs/daily.md).
Each run of the workflow gets a directory ``RUNS_DIR/daily-<UTC time>`` holding the
sessions (``paper/``, ``canary/``), their command logs (``logs/``), ``rollup.csv``,
``rollup.json``, ``report.html`` and ``daily_summary.json``.

Exit codes (Aurora's): 0 all green; 2 preflight failed (no session ran); 3 not green
(anomalies, a kill, drift, slippage beyond the limit, a fallback to shadow, a failed session).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Final, Protocol

from livegate.config.alerts_models import AlertsConfig
from livegate.ops.daily_steps import CommandOutcome, housekeep, send_summary
from livegate.ops.report_rollup import write_rollup_report
from livegate.ops.rollup_output import Rollup, build_rollup, write_rollup
from livegate.ops.run_facts import RunFacts

__all__ = ["DailyOptions", "DailyOutcome", "StepResult", "StepStatus", "run_daily"]

#: ``daily_summary.json`` schema name.
SUMMARY_SCHEMA: Final = "livegate.daily/1"
#: Exit code of a session stopped by SIGTERM (128 + 15): the canary's time limit, a normal end here.
_SIGTERM_EXIT: Final = 143


class StepStatus(StrEnum):
    """How a step of the workflow ended."""

    PASS = "pass"  # noqa: S105 - a status, not a password
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class StepResult:
    """One step: name, status, detail, the child's exit code and its log (relative to the daily directory)."""

    name: str
    status: StepStatus
    detail: str
    exit_code: int | None = None
    log: str | None = None


@dataclass(frozen=True, slots=True)
class Criterion:
    """One green criterion and whether it held."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class DailyOptions:
    """Options of ``livegate daily``.

    Parameters
    ----------
    runs_dir:
        Where daily directories go (``--runs-dir``, default ``./runs``).
    symbols:
        Symbols of the canary shadow session (``--symbols``; empty: the profile's).
    minutes:
        Length of the canary shadow session in minutes (``--minutes``); the paper session
        replays its whole input.
    skip_paper, skip_canary:
        Leave out a session.
    keep_days:
        Housekeeping removes runs, daily directories and logs older than this many days.
    profile:
        ``--profile`` passed to every command.
    venue:
        The real venue (``adapter:venue``) the canary shadow runs on; None skips it.
    slippage_limit_bps:
        ``[paper] slippage_bps`` + the margin: a session's median fill slippage above it is not green.
    alerts:
        The ``[alerts]`` section the summary alert goes to (None or no destination: logged only).
    """

    runs_dir: Path
    symbols: tuple[str, ...] = ()
    minutes: float = 10.0
    skip_paper: bool = False
    skip_canary: bool = False
    keep_days: int = 14
    profile: str | None = None
    venue: str | None = None
    slippage_limit_bps: Decimal = Decimal(5)
    alerts: AlertsConfig | None = None


@dataclass(slots=True)
class DailyOutcome:
    """What a daily run did; :meth:`to_json` is ``daily_summary.json``."""

    daily_dir: Path
    started: str
    exit_code: int = 0
    steps: list[StepResult] = field(default_factory=list)
    criteria: list[Criterion] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    alert: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        """Return the summary document (paths relative to the daily directory)."""
        return {
            "schema": SUMMARY_SCHEMA,
            "started": self.started,
            "exit_code": self.exit_code,
            "green": self.exit_code == 0,
            "steps": [{**asdict(s), "status": s.status.value} for s in self.steps],
            "criteria": [asdict(c) for c in self.criteria],
            "runs": self.runs,
            "rollup": {"csv": "rollup.csv", "json": "rollup.json"} if self.runs else None,
            "report": "report.html" if self.runs else None,
            "removed": self.removed,
            "alert": self.alert,
        }


class Runner(Protocol):
    """Run ``livegate <args>`` with its output in ``log_path`` (:class:`~livegate.ops.daily_steps.SubprocessRunner`)."""

    def __call__(
        self,
        args: Sequence[str],
        log_path: Path,
        timeout_secs: float | None = None,
        started_marker: Path | None = None,
    ) -> CommandOutcome:
        """Run the command to its end (or SIGTERM ``timeout_secs`` after ``started_marker`` appears)."""
        ...


def _profile_args(options: DailyOptions) -> list[str]:
    return ["--profile", options.profile] if options.profile else []


def run_daily(options: DailyOptions, runner: Runner, now: Callable[[], dt.datetime]) -> DailyOutcome:
    """Run the daily workflow once and return its outcome (``daily_summary.json`` is written).

    Raises
    ------
    OSError
        If the daily directory cannot be created or written.
    """
    started = now()
    daily_dir = options.runs_dir / f"daily-{started.strftime('%Y%m%dT%H%M%SZ')}"
    daily_dir.mkdir(parents=True, exist_ok=False)
    outcome = DailyOutcome(daily_dir=daily_dir, started=started.isoformat())
    sessions: list[tuple[str, str, Path]] = []  # (step, mode requested, run dir)
    if _preflight(options, runner, outcome):
        if options.skip_paper:
            outcome.steps.append(StepResult("paper", StepStatus.SKIP, "--skip-paper"))
        else:
            args = [
                "run",
                "--mode",
                "paper",
                "--no-progress",
                "--out",
                str(daily_dir / "paper"),
                *_profile_args(options),
            ]
            outcome.steps.append(_session("paper", runner, args, daily_dir, None))
            sessions.append(("paper", "paper", daily_dir / "paper"))
        if options.skip_canary:
            outcome.steps.append(StepResult("canary", StepStatus.SKIP, "--skip-canary"))
        elif options.venue is None:
            outcome.steps.append(
                StepResult("canary", StepStatus.SKIP, "no venue configured ([venue] name is replayed data)")
            )
        else:
            args = [
                "run",
                "--mode",
                "shadow",
                "--venue",
                options.venue,
                "--no-progress",
                "--out",
                str(daily_dir / "canary"),
            ]
            args += [a for s in options.symbols for a in ("--symbol", s)] + _profile_args(options)
            outcome.steps.append(_session("canary", runner, args, daily_dir, options.minutes * 60))
            sessions.append(("canary", "shadow", daily_dir / "canary"))
        rollup = _rollup_and_report(daily_dir, [run for _, _, run in sessions], outcome)
        outcome.criteria = _criteria(options, outcome, rollup, sessions)
        outcome.exit_code = 0 if all(c.ok for c in outcome.criteria) else 3
    else:
        outcome.exit_code = 2
    outcome.removed = housekeep(options.runs_dir, options.keep_days, keep=daily_dir)
    outcome.steps.append(StepResult("housekeeping", StepStatus.PASS, f"removed {len(outcome.removed)}"))
    _write_summary(outcome)
    outcome.alert = send_summary(outcome.to_json(), options.alerts)
    _write_summary(outcome)
    return outcome


def _write_summary(outcome: DailyOutcome) -> None:
    path = outcome.daily_dir / "daily_summary.json"
    path.write_text(json.dumps(outcome.to_json(), indent=2) + "\n", encoding="utf-8")


def _preflight(options: DailyOptions, runner: Runner, outcome: DailyOutcome) -> bool:
    """Run ``livegate preflight`` for paper (and for shadow on the venue when the canary runs); True when it passed."""
    checks = [("paper", ["--mode", "paper"])]
    if options.venue is not None and not options.skip_canary:
        checks.append(("shadow", ["--mode", "shadow", "--venue", options.venue]))
    passed = True
    for mode, extra in checks:
        log_path = outcome.daily_dir / "logs" / f"preflight-{mode}.log"
        args = ["preflight", *extra, "--runs", str(outcome.daily_dir), *_profile_args(options)]
        result = runner(args, log_path)
        failed = [line for line in log_path.read_text(encoding="utf-8").splitlines() if line.startswith("FAIL ")]
        ok = result.exit_code == 0
        detail = f"mode {mode}: exit {result.exit_code}" + (f"; {'; '.join(failed)}" if failed else "")
        status = StepStatus.PASS if ok else StepStatus.FAIL
        outcome.steps.append(StepResult(f"preflight {mode}", status, detail, result.exit_code, f"logs/{log_path.name}"))
        passed = passed and ok
    return passed


def _session(name: str, runner: Runner, args: list[str], daily_dir: Path, timeout_secs: float | None) -> StepResult:
    log_path = daily_dir / "logs" / f"{name}.log"
    result = runner(args, log_path, timeout_secs, daily_dir / name / "ledger.sqlite")
    code = result.exit_code
    if code == 0 or (result.timed_out and code == _SIGTERM_EXIT):
        detail = "stopped at the time limit" if result.timed_out else "completed"
        return StepResult(name, StepStatus.PASS, detail, code, f"logs/{log_path.name}")
    what = {2: "refused to start", 3: "completed with anomalies"}.get(code, "failed")
    return StepResult(name, StepStatus.FAIL, f"{what} (exit {code})", code, f"logs/{log_path.name}")


def _rollup_and_report(daily_dir: Path, run_dirs: list[Path], outcome: DailyOutcome) -> Rollup | None:
    present = [run for run in run_dirs if (run / "ledger.sqlite").is_file()]
    if not present:
        outcome.steps.append(StepResult("rollup", StepStatus.SKIP, "no session ran"))
        return None
    rollup = build_rollup(present)
    write_rollup(rollup, daily_dir / "rollup.csv")
    write_rollup(rollup, daily_dir / "rollup.json")
    outcome.runs = [run.name for run in present]
    outcome.steps.append(StepResult("rollup", StepStatus.PASS, f"{len(rollup.rows)} rows: rollup.csv, rollup.json"))
    write_rollup_report(present, daily_dir / "report.html")
    outcome.steps.append(StepResult("report", StepStatus.PASS, "report.html"))
    return rollup


def _criteria(
    options: DailyOptions, outcome: DailyOutcome, rollup: Rollup | None, sessions: list[tuple[str, str, Path]]
) -> list[Criterion]:
    """Judge the green criteria (docs/daily.md): sessions ran, no anomalies, reconcile clean, slippage, no fallback."""
    failed = [s for s in outcome.steps if s.status is StepStatus.FAIL]
    out = [Criterion("sessions completed", not failed, "; ".join(f"{s.name}: {s.detail}" for s in failed) or "all ran")]
    facts: list[RunFacts] = rollup.runs if rollup is not None else []
    anomalies = [f"{f.name}: {kind}" for f in facts for _, kind, _ in f.anomalies]
    states = [f"{f.name} ended {f.trading_state.upper()}" for f in facts if f.trading_state != "active"]
    out.append(Criterion("no anomalies", not anomalies and not states, "; ".join(states + anomalies) or "0 anomalies"))
    drift = [
        f"{f.name}: {d.get('kind')} {d.get('symbol')}" for f in facts for d in f.drift if d.get("beyond_tolerance")
    ]
    out.append(Criterion("reconcile clean", not drift, "; ".join(drift) or "no drift beyond tolerance"))
    limit = options.slippage_limit_bps
    over = []
    for row in rollup.rows if rollup is not None else []:
        median = row.get("slippage_median_bps")
        if isinstance(median, float) and Decimal(str(median)) > limit:
            over.append(f"{row['day']} {row['mode']} {row['symbol']} median {median} bps")
    out.append(Criterion("slippage within limit", not over, "; ".join(over) or f"every median <= {limit} bps"))
    by_dir = {f.run_dir: f for f in facts}
    fallbacks = [
        f"{step}: ran {by_dir[run].mode}, asked {mode}"
        for step, mode, run in sessions
        if run in by_dir and by_dir[run].mode != mode
    ]
    out.append(Criterion("no fallback to shadow", not fallbacks, "; ".join(fallbacks) or "every session ran its mode"))
    return out


def slippage_limit(paper_slippage_bps: str | Decimal, margin_bps: Decimal) -> Decimal:
    """Return ``[paper] slippage_bps`` + ``margin_bps`` (bps).

    Raises
    ------
    ValueError
        If ``paper_slippage_bps`` is not a decimal number.
    """
    try:
        return Decimal(str(paper_slippage_bps)) + margin_bps
    except InvalidOperation as exc:
        raise ValueError(f"[paper] slippage_bps {paper_slippage_bps!r} is not a number") from exc
