"""Shared runs for the rollup, report and daily tests: sessions of the ``livegate`` CLI in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner, Result

from livegate.cli.main import app
from tests.integration.helpers import clean_env

TESTING = [sys.executable, "-m", "livegate.testing"]
LIVEGATE = [sys.executable, "-m", "livegate"]
#: Moves the paper venue's position 10 s into the bundled sample: drift, REDUCING, denials, anomalies.
DRIFT = "10:BTCUSDT:0.01"


def run_cli(
    args: list[str], home: Path, *, hooks: bool = False, timeout: float = 600, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``livegate ARGS`` (``python -m livegate.testing`` with ``hooks``) in ``home`` with a private state dir."""
    home.mkdir(parents=True, exist_ok=True)
    environment = clean_env(home, **env)
    return subprocess.run(
        [*(TESTING if hooks else LIVEGATE), *args],
        cwd=home,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def paper_run(home: Path, name: str = "paper", *, drift: bool = False) -> Path:
    """Run a paper session on the bundled sample into ``home/runs/<name>`` and return the run directory."""
    out = home / "runs" / name
    extra = {"LIVEGATE_TEST_DRIFT": DRIFT} if drift else {}
    done = run_cli(["run", "--no-progress", "--out", str(out)], home, hooks=drift, **extra)
    assert done.returncode == (3 if drift else 0), done.stderr[-2000:]
    return out


def cli(args: list[str]) -> Result:
    """Run ``livegate ARGS`` in this process (fast; for commands that start no session)."""
    return CliRunner().invoke(app, args, catch_exceptions=False)
