"""Fixtures of the recovery tests: a 30-second slice of the bundled real Binance capture."""

from __future__ import annotations

from pathlib import Path

import pytest

from livegate.runtime.session import bundled_sample
from livegate.testing.crash_harness import HARNESS_PROFILE, write_slice

SLICE_SECS = 30.0


@pytest.fixture(scope="session")
def recovery_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """Return (quotes, trades, profile): 30 s of BTCUSDT and a market maker that fills in parts."""
    root = tmp_path_factory.mktemp("recovery-data")
    quotes, trades = write_slice(*bundled_sample(), root, SLICE_SECS)
    profile = root / "harness.toml"
    profile.write_text(HARNESS_PROFILE, encoding="utf-8")
    return quotes, trades, profile
