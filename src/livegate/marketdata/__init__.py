"""L2 market data: recorded-data replay and the per-symbol quote cache."""

from livegate.marketdata.quote_cache import QuoteCache
from livegate.marketdata.replay import ReplayData, load_replay, repeat_shifted
from livegate.marketdata.sources import BadRow

__all__ = ["BadRow", "QuoteCache", "ReplayData", "load_replay", "repeat_shifted"]
