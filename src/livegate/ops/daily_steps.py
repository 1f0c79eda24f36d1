"""Building blocks of ``livegate daily``: the command runner, housekeeping and the summary alert hook.

The daily workflow (:mod:`livegate.ops.daily`) drives livegate's own commands as child
processes (``python -m livegate preflight|run ...``), so each session has its own process,
signal handlers and locks, exactly as an operator's shell would run it.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from livegate.alerts.model import Alert, AlertKind, AlertSeverity
from livegate.alerts.send import send_now
from livegate.config.alerts_models import AlertsConfig

__all__ = ["CommandOutcome", "SubprocessRunner", "housekeep", "send_summary"]

log = logging.getLogger("livegate")

#: Seconds a child gets to stop gracefully after SIGTERM (cancel, flush, summarize) before SIGKILL.
STOP_GRACE_SECS: Final = 60.0
#: Seconds a session may take to start (create its ledger) before its time limit starts anyway.
STARTUP_LIMIT_SECS: Final = 120.0
_POLL_SECS: Final = 0.2
#: Files under ``RUNS_DIR/logs`` that housekeeping may remove (rotated logs included).
LOG_SUFFIXES: Final = (".log", ".gz", ".1", ".2", ".3", ".4", ".5", ".6", ".7", ".8", ".9")


@dataclass(frozen=True, slots=True)
class CommandOutcome:
    """A finished child command: its exit code, whether the time limit stopped it, and its log file."""

    exit_code: int
    timed_out: bool
    log_path: Path


class SubprocessRunner:
    """Run ``livegate`` commands as child processes, output to a log file each.

    Parameters
    ----------
    with_test_hooks:
        Run ``python -m livegate.testing`` instead of ``python -m livegate`` so the child
        installs the test hooks from the environment too (only when this process runs
        under :mod:`livegate.testing`; production never does).
    env:
        The children's environment.
    """

    def __init__(self, *, with_test_hooks: bool, env: Mapping[str, str]) -> None:
        module = "livegate.testing" if with_test_hooks else "livegate"
        self._prefix = [sys.executable, "-m", module]
        self._env = dict(env)

    def __call__(
        self,
        args: Sequence[str],
        log_path: Path,
        timeout_secs: float | None = None,
        started_marker: Path | None = None,
    ) -> CommandOutcome:
        """Run ``livegate <args>``; ``timeout_secs`` after it started, send SIGTERM (a graceful stop) and wait.

        With ``started_marker`` (a session's ``ledger.sqlite``) the time limit counts from
        when that file appears, so start-up time (imports, the venue's startup
        reconciliation) does not eat the session; a child that never creates it gets
        :data:`STARTUP_LIMIT_SECS` more.

        Raises
        ------
        OSError
            If the child cannot be started or the log file cannot be written.
        """
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("w", encoding="utf-8") as out:
            out.write("$ livegate " + " ".join(args) + "\n")
            out.flush()
            child = subprocess.Popen(  # noqa: S603 - our own interpreter and module, arguments as a list
                [*self._prefix, *args], stdout=out, stderr=subprocess.STDOUT, env=self._env
            )
            if timeout_secs is None:
                return CommandOutcome(child.wait(), False, log_path)
            deadline = time.monotonic() + timeout_secs + (STARTUP_LIMIT_SECS if started_marker else 0.0)
            marked = started_marker is None
            while child.poll() is None and time.monotonic() < deadline:
                if not marked and started_marker is not None and started_marker.exists():
                    marked, deadline = True, time.monotonic() + timeout_secs
                time.sleep(_POLL_SECS)
            if child.poll() is not None:
                return CommandOutcome(child.returncode, False, log_path)
            child.send_signal(signal.SIGTERM)
            try:
                code = child.wait(timeout=STOP_GRACE_SECS)
            except subprocess.TimeoutExpired:
                child.kill()
                code = child.wait()
            return CommandOutcome(code, True, log_path)


def _age_days(path: Path, now_secs: float) -> float:
    return (now_secs - path.stat().st_mtime) / 86_400


def housekeep(runs_dir: Path, keep_days: int, *, keep: Path, now_secs: float | None = None) -> list[str]:
    """Remove run directories, daily directories and logs under ``runs_dir`` older than ``keep_days``.

    Only direct children of ``runs_dir`` are considered: directories holding
    ``ledger.sqlite`` (a run) or ``daily_summary.json`` (a daily run), and files in
    ``runs_dir/logs`` named ``*.log`` or rotated (``*.log.1``, ``*.gz``). Age is the time
    since the entry was last modified. ``keep`` (today's daily directory) is never removed.

    Returns
    -------
    list of str
        Names removed, relative to ``runs_dir``.
    """
    now = time.time() if now_secs is None else now_secs
    removed: list[str] = []
    if keep_days < 0 or not runs_dir.is_dir():
        return removed
    keep_resolved = keep.resolve()
    for entry in sorted(runs_dir.iterdir()):
        if not entry.is_dir() or entry.is_symlink() or entry.resolve() == keep_resolved:
            continue
        is_run = (entry / "ledger.sqlite").is_file() or (entry / "daily_summary.json").is_file()
        if is_run and _age_days(entry, now) > keep_days:
            shutil.rmtree(entry)
            removed.append(entry.name)
    logs = runs_dir / "logs"
    if logs.is_dir():
        for entry in sorted(logs.iterdir()):
            named = ".log" in entry.name and entry.name.endswith(LOG_SUFFIXES)
            if entry.is_file() and named and _age_days(entry, now) > keep_days:
                entry.unlink()
                removed.append(os.path.join("logs", entry.name))
    return removed


def send_summary(summary: Mapping[str, object], alerts: AlertsConfig | None = None) -> dict[str, str]:
    """Send the daily summary alert; return what was sent (``title``, ``body``, ``via``).

    The one hook between ``livegate daily`` and alert delivery: a title (``livegate daily
    GREEN|RED|PREFLIGHT FAILED``) and a short body (steps, failed criteria, where the report
    is), always logged as one ``daily alert:`` line on stderr and, when ``[alerts]`` has a
    destination, delivered at once (:func:`livegate.alerts.send.send_now`; key
    ``daily.summary.<day>``, INFO when green, CRIT otherwise). ``via`` says where it went:
    ``log``, ``alerts`` or ``alerts failed: <reasons>``.

    Raises
    ------
    ConfigError
        If ``[alerts]`` names a destination apprise cannot use (or apprise is missing).
    """
    code = summary.get("exit_code")
    verdict = "GREEN" if code == 0 else "PREFLIGHT FAILED" if code == 2 else "RED"
    title = f"livegate daily {verdict} (exit {code})"
    lines = []
    steps = summary.get("steps")
    if isinstance(steps, list):
        lines += [
            f"{s.get('name')}: {s.get('status')} {s.get('detail', '')}".strip() for s in steps if isinstance(s, dict)
        ]
    criteria = summary.get("criteria")
    if isinstance(criteria, list):
        lines += [
            f"NOT GREEN {c.get('name')}: {c.get('detail')}" for c in criteria if isinstance(c, dict) and not c.get("ok")
        ]
    lines.append(f"report: {summary.get('report')}")
    body = "\n".join(lines)
    log.warning("daily alert: %s | %s", title, body.replace("\n", " | "))
    if alerts is None or not alerts.configured:
        return {"title": title, "body": body, "via": "log"}
    day = str(summary.get("day") or time.strftime("%Y-%m-%d", time.gmtime()))
    severity = AlertSeverity.INFO if code == 0 else AlertSeverity.CRIT
    report = send_now(alerts, Alert(f"{AlertKind.DAILY_SUMMARY}.{day}", severity, title, body))
    via = "alerts" if report.delivered else "alerts failed: " + "; ".join(report.failures)
    return {"title": title, "body": body, "via": via}
