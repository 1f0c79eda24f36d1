"""L2 portfolio state: orders, positions, PnL and exposure as the engine knows them."""

from livegate.portfolio.book import Portfolio, PositionView

__all__ = ["Portfolio", "PositionView"]
