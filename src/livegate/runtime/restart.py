"""``livegate run --resume RUN_DIR``: continue a crashed session where it stopped.

The configuration comes from the run directory (``config_resolved.json``), never from
the current profile or environment, so the resumed run has the same config hash and the
same session id, and its client order ids continue the crashed run's sequence.

* A replayed paper or shadow run continues its data after the last processed event.
* A testnet, canary or live run (issue 9 §6) passes the live gate again (every arming
  key, ``--enable-live`` included, against the run's config hash), reconnects to the
  venue with credentials, settles the ledger's unfinished orders from venue truth,
  imports the venue's fills, cancels the crashed strategy's leftovers, reconciles, then
  trades on the venue's stream (``--max-events`` applies). A refused gate refuses the
  resume (exit 2); ``--fallback-shadow`` never turns a resume into shadow.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path

from livegate.config.loader import ResolvedConfig
from livegate.control.faults import refuse_test_variables
from livegate.control.resume import read_run_inputs, resolved_from_run_dir
from livegate.domain.clock import WallClock
from livegate.domain.enums import Mode
from livegate.domain.errors import ConfigError
from livegate.marketdata.stream import ReaderProcess
from livegate.modes.resolve import ModeResolution
from livegate.runtime.live_session import LiveOptions, run_live_session
from livegate.runtime.session import ProgressCallback, RunOptions, SessionResult, run_replay_session
from livegate.runtime.start import plan_start
from livegate.venues.registry import is_real_venue


def resume_run(
    run_dir: Path,
    env: Mapping[str, str],
    *,
    realtime: float | None = None,
    progress: ProgressCallback | None = None,
    live: LiveOptions | None = None,
    on_ready: Callable[[], None] | None = None,
    reader_process: ReaderProcess = ReaderProcess.AUTO,
) -> SessionResult:
    """Resume the session of ``run_dir`` and run it to the end of its data or stream (blocking).

    Parameters
    ----------
    run_dir:
        The crashed run's directory.
    env:
        The process environment (state dir, arming keys, credentials).
    realtime, progress:
        Replay pacing and progress callback (replayed runs).
    live:
        ``--enable-live`` and ``--max-events`` for a testnet, canary or live run (the
        venue and symbols come from the run's config).
    on_ready:
        Called once the session is rebuilt and reconciled, before its first market event
        (``livegate run`` freezes the rebuilt objects out of garbage collection there).
    reader_process:
        Which replay inputs a second process reads (``--reader-process``).

    Raises
    ------
    ConfigError
        If ``run_dir`` is not a resumable run directory, or the live gate refuses (exit 2).
    DataError
        If the ledger or the data inputs cannot be read.
    ReconcileIncomplete
        If the venue cannot be reconciled before trading (exit 2).
    """
    if not (run_dir / "ledger.sqlite").is_file():
        raise ConfigError(f"cannot resume {run_dir}: no ledger.sqlite in it")
    resolved, mode_value = resolved_from_run_dir(run_dir)
    try:
        mode = Mode(mode_value)
    except ValueError as exc:
        raise ConfigError(f"cannot resume {run_dir}: unknown mode {mode_value!r}") from exc
    refuse_test_variables(env, mode)
    resolution = ModeResolution(mode=mode, source="resume", note="resume")
    if mode.is_real:
        return _resume_venue_run(run_dir, env, resolved, resolution, live or LiveOptions(), on_ready)
    if is_real_venue(resolved.config.venue.name):
        raise ConfigError(
            f"cannot resume {run_dir}: a {mode.value} session on a venue stream keeps nothing to continue; "
            "start a new run"
        )
    inputs = read_run_inputs(run_dir)
    options = RunOptions(
        mode=mode.value,
        quotes=_path(inputs.get("quotes")),
        trades=_path(inputs.get("trades")),
        capture=_path(inputs.get("capture")),
        out=run_dir,
        realtime=realtime,
        resume=True,
        reader_process=reader_process,
    )
    session = run_replay_session(options, env, resolved=resolved, mode=resolution, progress=progress, on_ready=on_ready)
    return asyncio.run(session)


def _resume_venue_run(
    run_dir: Path,
    env: Mapping[str, str],
    resolved: ResolvedConfig,
    resolved_mode: ModeResolution,
    live: LiveOptions,
    on_ready: Callable[[], None] | None,
) -> SessionResult:
    clock = WallClock()
    gated = LiveOptions(
        enable_live=live.enable_live,
        fallback_shadow=False,
        max_events=live.max_events,
        max_minutes=live.max_minutes,
        ignore_market_hours=live.ignore_market_hours,
    )
    plan = plan_start(resolved, resolved_mode, gated, env, clock=clock)  # raises GateRefused (exit 2)
    if plan.adapter is None:
        raise ConfigError(f"cannot resume {run_dir}: venue {resolved.config.venue.name} has no adapter")
    options = RunOptions(mode=resolved_mode.mode.value, out=run_dir, resume=True)
    session = run_live_session(
        options, gated, resolved=resolved, mode=plan.mode, adapter=plan.adapter, clock=clock, env=env, on_ready=on_ready
    )
    return asyncio.run(session)


def _path(value: object) -> Path | None:
    return None if value is None else Path(str(value))
