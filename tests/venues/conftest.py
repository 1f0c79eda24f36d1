"""Fixtures for venue tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from livegate.domain.market import Quote
from tests.venues.paper_helpers import read_quotes


@pytest.fixture(scope="session")
def quotes(core_data: Path) -> list[Quote]:
    return read_quotes(core_data, 400)
