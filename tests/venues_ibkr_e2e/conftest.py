"""Fixtures of the IBKR end-to-end tests: the TWS emulator served from a thread."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.tws_emulator import TwsThread, synthetic_ticks
from tests.venues_ibkr_e2e.helpers import SYMBOL


@pytest.fixture
def tws_factory() -> Iterator[Callable[..., TwsThread]]:
    """Return a factory of :class:`TwsThread` (AAPL synthetic ticks by default; closed after the test)."""
    made: list[TwsThread] = []

    def make(**kwargs: Any) -> TwsThread:
        kwargs.setdefault("ticks", synthetic_ticks(SYMBOL, 4000))
        kwargs.setdefault("pace_ms", 5.0)
        thread = TwsThread(**kwargs)
        made.append(thread)
        return thread

    yield make
    for thread in made:
        thread.close()
