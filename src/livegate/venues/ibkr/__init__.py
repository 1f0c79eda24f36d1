"""Interactive Brokers adapter (``livegate[ibkr]``): the only package that imports ib_async."""

from __future__ import annotations

from livegate.venues.ibkr.adapter import LIVE_PORT, PAPER_PORT, IbkrAdapter

__all__ = ["LIVE_PORT", "PAPER_PORT", "IbkrAdapter"]
