"""livegate: a safety-first runtime between a trading strategy and the venues.

Write a strategy by subclassing :class:`Strategy`; see README.md for the API. The names
below are imported on first use, so ``livegate --help`` does not pay for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from livegate.domain.decisions import Approved, Denied
    from livegate.domain.market import Quote, Trade
    from livegate.domain.orders import Fill
    from livegate.strategy.api import Strategy, StrategyContext

__all__ = ["Approved", "Denied", "Fill", "Quote", "Strategy", "StrategyContext", "Trade"]

_HOMES = {
    "Approved": "livegate.domain.decisions",
    "Denied": "livegate.domain.decisions",
    "Quote": "livegate.domain.market",
    "Trade": "livegate.domain.market",
    "Fill": "livegate.domain.orders",
    "Strategy": "livegate.strategy.api",
    "StrategyContext": "livegate.strategy.api",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'livegate' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
