"""Fixtures of the CLI tests: a 30-second slice of the bundled real Binance capture, and a clean env."""

from __future__ import annotations

from pathlib import Path

import pytest

from livegate.runtime.session import bundled_sample
from livegate.testing.crash_harness import write_slice
from tests.integration.helpers import base_env
from tests.venue_emulator.fixtures import emulator_thread_factory


@pytest.fixture(scope="session")
def slice_30s(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Return (quotes, trades): the first 30 s of the bundled BTCUSDT sample."""
    return write_slice(*bundled_sample(), tmp_path_factory.mktemp("slice"), 30.0)


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    """Return this process's environment without LIVEGATE_* and with a private state dir."""
    env = base_env()
    env["LIVEGATE_STATE_DIR"] = str(tmp_path / "state")
    return env


__all__ = ["clean_env", "emulator_thread_factory", "slice_30s"]
