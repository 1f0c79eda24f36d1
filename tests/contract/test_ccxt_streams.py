"""Issue 5 item 7 (streams): ``stream_market_data`` on a loopback websocket replaying the
recorded Kraken v2 and Coinbase Advanced Trade sessions (``ccxt_fixtures/ws``), ccxt.pro
unmodified, domain quotes and trades compared with the recordings' unified outputs.

Kraken's recorded ``book`` session is not replayed here: ``stream_market_data`` takes its
best bid/ask from ccxt's ticker/bid-ask watchers, not from order books.
"""

from __future__ import annotations

import asyncio
from typing import Any

from livegate.domain.clock import ReplayClock
from livegate.domain.market import Quote, Trade
from livegate.venues.ccxt import CcxtCredentials
from livegate.venues.ccxt.adapter import CcxtAdapter
from tests.contract.ccxt_harness import case, fixture, make_adapter, servers
from tests.contract.expected import quote_from, trade_from

NOW_MS = 1_786_000_000_000


def _without_recv(item: Quote | Trade) -> Quote | Trade:
    """Receive time is the adapter's clock, not the venue's: leave it out of the comparison."""
    if isinstance(item, Quote):
        return Quote(
            item.symbol, item.bid_price, item.bid_size, item.ask_price, item.ask_size, item.ts_event_ms, 0, item.venue
        )
    return Trade(
        item.symbol, item.price, item.size, item.aggressor_side, item.trade_id, item.ts_event_ms, 0, item.venue
    )


async def _collect(adapter: CcxtAdapter, symbol: str, quotes: int, trades: int) -> tuple[list[Quote], list[Trade]]:
    got_q: list[Quote] = []
    got_t: list[Trade] = []
    stream = adapter.stream_market_data([symbol])
    try:
        async with asyncio.timeout(10):
            async for item in stream:
                (got_q if isinstance(item, Quote) else got_t).append(item)  # type: ignore[arg-type]
                if len(got_q) >= quotes and len(got_t) >= trades:
                    break
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    return got_q, got_t


def _parsed_list(item: dict[str, Any]) -> list[Any]:
    return list(item.get("parsedResponses") or [item["parsedResponse"]])


async def test_kraken_stream_when_recorded_v2_ticker_replayed_then_quote_matches_parsed_ticker() -> None:
    ticker = case(fixture("ws", "kraken"), "watchTicker", "spot ticker")
    async with servers() as lb:
        lb.ws.script("/v2", ticker["messages"], hold=False)
        adapter = make_adapter(
            lb, "kraken", "kraken", CcxtCredentials(), None, order_stream=False, clock=ReplayClock(NOW_MS)
        )
        await adapter.connect()
        try:
            quotes, _ = await _collect(adapter, "BTC/USD", quotes=1, trades=0)
        finally:
            await adapter.close()
    expected = [quote_from(p, adapter.name, NOW_MS) for p in _parsed_list(ticker)]
    # the recording's unified output is the first watch result (later frames are updates);
    # Kraken v2 tickers carry no time, so the event time is the adapter's clock
    assert _without_recv(quotes[0]) == expected[0]
    sent = lb.ws.scripts["/v2"].received
    assert any(m.get("params", {}).get("channel") == "ticker" for m in sent if isinstance(m, dict))


async def test_coinbase_stream_when_recorded_ticker_and_market_trades_replayed_then_quotes_and_trades_match() -> None:
    ws = fixture("ws", "coinbase")
    ticker = case(ws, "watchTicker", "spot ticker")
    trades = case(ws, "watchTrades", "spot trades")
    expected_trades = [trade_from(t, "ccxt:coinbase") for batch in _parsed_list(trades) for t in batch]
    async with servers() as lb:
        lb.ws.script("/", [*ticker["messages"], *trades["messages"]], hold=False)
        adapter = make_adapter(
            lb, "coinbase", "coinbase", CcxtCredentials(), None, order_stream=False, clock=ReplayClock(NOW_MS)
        )
        await adapter.connect()
        try:
            quotes, got_trades = await _collect(adapter, "BTC/USD", quotes=1, trades=len(expected_trades))
        finally:
            await adapter.close()
    expected_quotes = [quote_from(p, adapter.name, NOW_MS) for p in _parsed_list(ticker)]
    assert _without_recv(quotes[0]) == expected_quotes[0]  # the first watch result is the recorded one
    assert sorted((_without_recv(t) for t in got_trades), key=repr) == sorted(expected_trades, key=repr)
    channels = {m.get("channel") for m in lb.ws.scripts["/"].received if isinstance(m, dict)}
    assert {"ticker", "market_trades"} <= channels


async def test_stream_when_venue_drops_the_connection_then_stream_interrupted_is_yielded() -> None:
    from livegate.venues.base import StreamInterrupted

    ticker = case(fixture("ws", "kraken"), "watchTicker", "spot ticker")
    async with servers() as lb:
        lb.ws.script("/v2", ticker["messages"], hold=False, close_after=True)
        adapter = make_adapter(
            lb, "kraken", "kraken", CcxtCredentials(), None, order_stream=False, clock=ReplayClock(NOW_MS)
        )
        await adapter.connect()
        seen: list[object] = []
        stream = adapter.stream_market_data(["BTC/USD"])
        try:
            async with asyncio.timeout(15):
                async for item in stream:
                    seen.append(item)
                    if isinstance(item, StreamInterrupted):
                        break
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
            await adapter.close()
    assert isinstance(seen[0], Quote)
    marker = seen[-1]
    assert isinstance(marker, StreamInterrupted)
    assert marker.reason.startswith("reconnect")
    assert marker.ts_ms == NOW_MS
