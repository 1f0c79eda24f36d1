"""``livegate run --resume RUN_DIR``: continue a crashed replayed session where it stopped.

The configuration comes from the run directory (``config_resolved.json``), never from
the current profile or environment, so the resumed run has the same config hash and the
same session id, and its client order ids continue the crashed run's sequence.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

from livegate.domain.enums import Mode
from livegate.domain.errors import ConfigError
from livegate.modes.resolve import ModeResolution
from livegate.runtime.faults import refuse_test_variables
from livegate.runtime.resume import read_run_inputs, resolved_from_run_dir
from livegate.runtime.session import ProgressCallback, RunOptions, SessionResult, run_replay_session


def resume_run(
    run_dir: Path,
    env: Mapping[str, str],
    *,
    realtime: float | None = None,
    progress: ProgressCallback | None = None,
) -> SessionResult:
    """Resume the replayed session of ``run_dir`` and run it to the end of its data (blocking).

    Raises
    ------
    ConfigError
        If ``run_dir`` is not a resumable run directory (exit 2).
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
    if mode not in (Mode.PAPER, Mode.SHADOW):
        raise ConfigError(
            f"cannot resume {run_dir}: --resume continues replayed paper or shadow runs, not {mode.value}"
        )
    refuse_test_variables(env, mode)
    inputs = read_run_inputs(run_dir)
    options = RunOptions(
        mode=mode.value,
        quotes=_path(inputs.get("quotes")),
        trades=_path(inputs.get("trades")),
        capture=_path(inputs.get("capture")),
        out=run_dir,
        realtime=realtime,
        resume=True,
    )
    resolution = ModeResolution(mode=mode, source="resume", note="resume")
    return asyncio.run(run_replay_session(options, env, resolved=resolved, mode=resolution, progress=progress))


def _path(value: object) -> Path | None:
    return None if value is None else Path(str(value))
