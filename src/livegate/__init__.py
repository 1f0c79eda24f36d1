"""livegate: a safety-first runtime between a trading strategy and the venues.

Write a strategy by subclassing :class:`Strategy`; see README.md for the API.
"""

from livegate.domain.decisions import Approved, Denied
from livegate.domain.market import Quote, Trade
from livegate.domain.orders import Fill
from livegate.strategy.api import Strategy, StrategyContext

__all__ = ["Approved", "Denied", "Fill", "Quote", "Strategy", "StrategyContext", "Trade"]
