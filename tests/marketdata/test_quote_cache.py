"""QuoteCache: last quote per symbol, its age and mid."""

from __future__ import annotations

from decimal import Decimal

from livegate.domain.market import Quote
from livegate.marketdata import QuoteCache


def _quote(symbol: str, bid: str, ask: str, event_ms: int, recv_ns: int = 0) -> Quote:
    return Quote(symbol, Decimal(bid), Decimal("1"), Decimal(ask), Decimal("2"), event_ms, recv_ns)


def test_quote_cache_when_empty_then_every_read_is_none() -> None:
    cache = QuoteCache()
    assert cache.last("BTCUSDT") is None
    assert cache.mid("BTCUSDT") is None
    assert cache.age_ms("BTCUSDT", 1_000) is None
    assert cache.event_ms("BTCUSDT") is None
    assert cache.recv_ns("BTCUSDT") is None
    assert len(cache) == 0
    assert "BTCUSDT" not in cache


def test_quote_cache_when_updated_then_last_mid_and_age_follow_latest_quote() -> None:
    cache = QuoteCache()
    first = _quote("BTCUSDT", "100.0", "100.2", event_ms=1_000, recv_ns=5)
    second = _quote("BTCUSDT", "101.0", "101.1", event_ms=1_250, recv_ns=7)
    cache.update(first)
    cache.update(second)
    assert cache.last("BTCUSDT") is second
    assert cache.mid("BTCUSDT") == Decimal("101.05")
    assert cache.age_ms("BTCUSDT", now_ms=1_400) == 150
    assert cache.event_ms("BTCUSDT") == 1_250
    assert cache.recv_ns("BTCUSDT") == 7


def test_quote_cache_when_several_symbols_then_each_is_kept_apart() -> None:
    cache = QuoteCache()
    cache.update(_quote("ETHUSDT", "2.0", "2.2", event_ms=10))
    cache.update(_quote("BTCUSDT", "100", "102", event_ms=20))
    assert cache.symbols() == ["BTCUSDT", "ETHUSDT"]
    assert cache.mid("ETHUSDT") == Decimal("2.1")
    assert cache.mid("BTCUSDT") == Decimal("101")
    assert cache.age_ms("ETHUSDT", 30) == 20


def test_quote_cache_when_clock_lags_quote_then_age_is_negative() -> None:
    cache = QuoteCache()
    cache.update(_quote("BTCUSDT", "1", "2", event_ms=1_000))
    assert cache.age_ms("BTCUSDT", now_ms=900) == -100
