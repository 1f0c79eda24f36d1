"""Helpers for end-to-end runs of the ``livegate`` CLI in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

LIVEGATE = [sys.executable, "-m", "livegate"]


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Return the environment without LIVEGATE_* leaks, with a private state dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEGATE_")}
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


def summary(run_dir: Path) -> dict[str, Any]:
    """Return the parsed ``summary.json`` of a run directory."""
    data: dict[str, Any] = json.loads((run_dir / "summary.json").read_text())
    return data
