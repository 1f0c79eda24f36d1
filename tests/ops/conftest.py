"""Runs shared by the rollup, report and execution-quality tests (each is a CLI session in a subprocess)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ops.rollup_helpers import paper_run


@pytest.fixture(scope="session")
def ops_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a home whose ``runs/`` holds a clean paper run (``paper``) and a drifted one (``drifted``, exit 3)."""
    home = tmp_path_factory.mktemp("ops_runs")
    paper_run(home, "paper")
    paper_run(home, "drifted", drift=True)
    return home
