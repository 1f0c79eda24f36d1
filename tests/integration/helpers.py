"""Helpers for end-to-end runs of the ``livegate`` CLI in a subprocess."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Final

from typer.testing import CliRunner

from livegate.cli.main import app

LIVEGATE = [sys.executable, "-m", "livegate"]

#: What every ``livegate`` process a test starts gets on top of :func:`base_env`: the
#: ledger's SQLite ``synchronous=NORMAL`` (``[ledger] synchronous``; WAL journal). A commit
#: then survives a killed process, which is every crash the tests cause (SIGKILL, crash
#: points); only a power loss could take the last commits, and no test can cause one. FULL,
#: the default, fsyncs every commit: ~1,200 fsyncs per bundled-sample session, 2-4 s of idle
#: wall each on this shared disk (fdatasync 0.1-2.6 ms). The default itself stays under
#: test: tests/ledger/test_ledger_store.py, and the no-argument ``livegate run`` of
#: tests/integration/test_run_main_job.py and ``bundled_paper_run`` (tests/conftest.py) run
#: with it. The level is part of the resolved config (and so of the ledger's hash): a preflight
#: written in-process for a CLI session must see it too (tests/arming.py takes the same env).
TEST_SESSION_ENV: Final = {"LIVEGATE_LEDGER__SYNCHRONOUS": "NORMAL"}


def base_env() -> dict[str, str]:
    """Return this process's environment without any LIVEGATE_* variable, plus :data:`TEST_SESSION_ENV`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEGATE_")}
    env.update(TEST_SESSION_ENV)
    return env


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Return :func:`base_env` with a private state dir and ``extra``."""
    env = base_env()
    env["LIVEGATE_STATE_DIR"] = str(tmp_path / "state")
    env.update(extra)
    return env


def livegate(
    args: list[str], tmp_path: Path, *, cwd: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``livegate ARGS`` and return the completed process (never raises on exit code)."""
    return subprocess.run(
        [*LIVEGATE, *args],
        cwd=cwd or tmp_path,
        env=clean_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def livegate_in_process(
    args: list[str], tmp_path: Path, *, cwd: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``livegate ARGS`` in this process (typer's runner), with the environment and cwd :func:`livegate` gives.

    For the commands that read a run directory and print (``ledger verify``/``export``,
    ``check-telemetry``), where a subprocess would only add a Python start (~0.3-0.7 s CPU).
    Sessions and the live path keep :func:`livegate`: a ``livegate`` subprocess, the house
    rule for end-to-end tests. The exit code, stdout and stderr come back as from a
    subprocess (an exception the command lets escape is exit 1, as in a process).
    """
    wanted = clean_env(tmp_path, **env)
    changes: dict[str, str | None] = {k: None for k in os.environ if k not in wanted}
    changes.update({k: v for k, v in wanted.items() if os.environ.get(k) != v})
    with contextlib.chdir(cwd or tmp_path):
        result = CliRunner().invoke(app, args, env=changes)
    return subprocess.CompletedProcess([*LIVEGATE, *args], result.exit_code, result.stdout, result.stderr)


def summary(run_dir: Path) -> dict[str, Any]:
    """Return the parsed ``summary.json`` of a run directory."""
    data: dict[str, Any] = json.loads((run_dir / "summary.json").read_text())
    return data
