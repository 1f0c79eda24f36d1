"""Arm a machine for a live-path session test without a second CLI process: the preflight in-process.

``livegate preflight`` as a subprocess costs a Python start and the venue library's
import (about 1.5 s of CPU for ccxt) before its first check. Tests whose subject is the
session that follows (faults, recovery, flatten) only need the artifact the live gate
reads, so they write it here with the very code the command runs
(:func:`livegate.ops.preflight.run_preflight` with the built-in adapter factories, the
same profile, environment, state dir and runs root). The command itself, its output
and exit codes are tested end to end by the venue session and preflight tests
(tests/venues_e2e/test_binance_sessions.py, test_preflight_venue_checks.py,
tests/venues_alpaca_e2e/test_alpaca_sessions.py, tests/venues_ibkr_e2e/test_ibkr_preflight.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

from livegate.config.live_models import run_overrides
from livegate.config.loader import load_config
from livegate.domain.enums import Mode
from livegate.ops.preflight import PreflightInputs, run_preflight, write_artifact

__all__ = ["preflight_in_process"]


def preflight_in_process(profile: Path, env: Mapping[str, str], mode: str, runs_root: Path) -> None:
    """Do what ``livegate preflight --profile PROFILE --mode MODE --runs RUNS_ROOT`` does: check, write the artifact.

    ``env`` is the environment the command would see (state dir, live keys, credentials).
    Fails the test, naming each failed check, when the preflight does not pass.
    """
    resolved = load_config(str(profile), env, run_overrides())
    inputs = PreflightInputs(
        resolved=resolved, mode=Mode(mode), env=env, state_dir=Path(env["LIVEGATE_STATE_DIR"]), runs_root=runs_root
    )
    artifact = asyncio.run(run_preflight(inputs))
    assert artifact.passed, [check.line() for check in artifact.checks if check.status == "FAIL"]
    assert write_artifact(inputs.state_dir, artifact) is not None
