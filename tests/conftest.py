"""Shared fixtures: the recorded data directory beside the checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO_ROOT.parent / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Return ``../shared/data``; fail loudly when the checkout has no data beside it."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"recorded data not found at {SHARED_DATA}; CI runs with ../shared beside the checkout")
    return SHARED_DATA
