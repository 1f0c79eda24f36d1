"""IBKR market data through ib_async: tick-by-tick where entitled, else streaming top of book.

TWS API "Tick-by-tick data" (``reqTickByTickData`` with ``BidAsk`` and ``AllLast``) gives
every best bid/ask change and every trade; it needs a market-data subscription that
covers the symbol and TWS allows a few such requests at once. When TWS refuses one
(error 10189 "Failed to request tick-by-tick data", 10190 "Max number of tick-by-tick
requests has been reached", 354 / 10089 / 10090 "not subscribed"), ``auto`` falls back to
``reqMktData`` (TWS API "Top Market Data": bid, ask, last at TWS's sampling), which is
also what ``top_of_book`` asks for directly. A refusal of the top-of-book stream as well
is an entitlement problem for a human: the stream raises :class:`Fatal`.

Quotes and trades are stamped with the session clock on arrival (ib_async replaces
TWS's tick times by its own receive time). IB prints carry no trade id and no aggressor
side: the id is ``<symbol>-<n>`` in arrival order and the side is inferred from the
quote (at or above the mid: buyer).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from livegate.domain.clock import Clock
from livegate.domain.enums import Side
from livegate.domain.errors import Fatal
from livegate.domain.market import Quote, Trade
from livegate.venues.base import MarketDataEvent, StreamInterrupted
from livegate.venues.ibkr.mapping import to_decimal

__all__ = ["ENTITLEMENT_CODES", "TICK_BY_TICK_REFUSED", "IbkrMarketData", "MarketDataChoice"]

log = logging.getLogger("livegate.venues.ibkr")

MarketDataChoice = Literal["auto", "tick_by_tick", "top_of_book"]

#: TWS refuses tick-by-tick data for this request (TWS API "Message Codes").
TICK_BY_TICK_REFUSED = frozenset({10189, 10190})
#: The account lacks the market-data subscription (354, 10089, 10090) or delayed data is
#: off while live data is missing (10168).
ENTITLEMENT_CODES = frozenset({354, 10089, 10090, 10168})
_BID_ASK_TYPES = frozenset({0, 1, 2, 3, 66, 67, 68, 69})
_LAST_TYPES = frozenset({4, 68})
_HALF = Decimal(2)


@dataclass(slots=True)
class _Subscription:
    symbol: str
    kind: Literal["tick_by_tick", "top_of_book"]
    req_ids: tuple[int, ...] = ()


class IbkrMarketData:
    """Turn ib_async tickers into livegate quotes, trades and reconnect markers.

    Parameters
    ----------
    ib:
        The connected ``ib_async.IB`` of the adapter.
    contracts:
        Stock contracts by symbol.
    clock:
        Session clock (stamps quotes and trades).
    venue:
        Venue name put on quotes and trades.
    choice:
        ``auto``, ``tick_by_tick`` or ``top_of_book`` (``[venue] market_data``).
    """

    def __init__(
        self, ib: Any, contracts: Mapping[str, Any], clock: Clock, venue: str, choice: MarketDataChoice = "auto"
    ) -> None:
        self._ib = ib
        self._contracts = contracts
        self._clock = clock
        self._venue = venue
        self._choice = choice
        self._subs: dict[str, _Subscription] = {}
        self._by_req: dict[int, str] = {}
        self._queue: asyncio.Queue[MarketDataEvent | Fatal] = asyncio.Queue()
        self._trade_seq = 0
        self._last_quote: dict[str, Quote] = {}
        self._active = False
        self._kinds: dict[str, str] = {}
        ib.pendingTickersEvent += self._on_tickers

    @property
    def kinds(self) -> dict[str, str]:
        """Return the kind of stream each symbol got last (``tick_by_tick`` / ``top_of_book``)."""
        return dict(self._kinds)

    def subscribe(self, symbols: Sequence[str]) -> None:
        """Ask TWS for the streams of ``symbols`` (again after a reconnect)."""
        self._active = True
        for symbol in symbols:
            kind: Literal["tick_by_tick", "top_of_book"] = (
                "top_of_book" if self._choice == "top_of_book" else "tick_by_tick"
            )
            self._request(symbol, kind)

    def _request(self, symbol: str, kind: Literal["tick_by_tick", "top_of_book"]) -> None:
        contract = self._contracts[symbol]
        if kind == "tick_by_tick":
            self._ib.reqTickByTickData(contract, "BidAsk")
            self._ib.reqTickByTickData(contract, "AllLast")
            ids = self._ib.wrapper.ticker2ReqId
            ticker = self._ib.ticker(contract)
            req_ids = tuple(ids[t].get(ticker, 0) for t in ("BidAsk", "AllLast"))
        else:
            self._ib.reqMarketDataType(1)  # live data (TWS API "Market Data Types")
            ticker = self._ib.reqMktData(contract, "", False, False)
            req_ids = (self._ib.wrapper.ticker2ReqId["mktData"].get(ticker, 0),)
        sub = _Subscription(symbol, kind, req_ids)
        self._subs[symbol] = sub
        self._kinds[symbol] = kind
        for req_id in req_ids:
            self._by_req[req_id] = symbol

    def on_error(self, req_id: int, code: int, message: str) -> bool:
        """Handle a TWS error about a market-data request; return True when it was one.

        A tick-by-tick refusal under ``auto`` falls back to top of book; any other refusal
        of a stream makes :meth:`stream` raise :class:`Fatal` (a human must fix the
        entitlement).
        """
        symbol = self._by_req.pop(req_id, None)
        if symbol is None:
            return False
        sub = self._subs.get(symbol)
        refused = code in TICK_BY_TICK_REFUSED or code in ENTITLEMENT_CODES
        if sub is None or not refused:
            return True
        if sub.kind == "tick_by_tick" and self._choice == "auto":
            log.warning("ibkr %s: tick-by-tick refused (%s %s); streaming top of book", symbol, code, message)
            for other in sub.req_ids:
                self._by_req.pop(other, None)
            self._cancel(sub)
            self._request(symbol, "top_of_book")
            return True
        self._queue.put_nowait(Fatal(f"ibkr market data for {symbol} refused: {code} {message}", str(code)))
        return True

    def _cancel(self, sub: _Subscription) -> None:
        contract = self._contracts[sub.symbol]
        if not self._ib.isConnected():
            return
        if sub.kind == "tick_by_tick":
            for tick_type in ("BidAsk", "AllLast"):
                self._ib.cancelTickByTickData(contract, tick_type)
        else:
            self._ib.cancelMktData(contract)

    def on_reconnected(self) -> None:
        """Mark the gap and subscribe again (TWS forgets a client's requests with its socket)."""
        if not self._active:
            return
        self._queue.put_nowait(StreamInterrupted("reconnect", self._clock.now_ms()))
        symbols = list(self._subs)
        self._subs.clear()
        self._by_req.clear()
        self.subscribe(symbols)

    def close(self) -> None:
        """Cancel the subscriptions (when still connected) and stop feeding the queue."""
        self._active = False
        for sub in self._subs.values():
            self._cancel(sub)
        self._subs.clear()
        self._by_req.clear()

    async def stream(self, symbols: Sequence[str]) -> AsyncIterator[MarketDataEvent]:
        """Yield quotes, trades and reconnect markers of ``symbols`` as TWS sends them.

        Raises
        ------
        Fatal
            TWS refused the market data of a symbol (no entitlement).
        """
        self.subscribe(symbols)
        try:
            while True:
                event = await self._queue.get()
                if isinstance(event, Fatal):
                    raise event
                yield event
        finally:
            self.close()

    # ------------------------------------------------------------ ticker events
    def _on_tickers(self, tickers: Any) -> None:
        if not self._active:
            return
        for ticker in tickers:
            symbol = str(ticker.contract.symbol)
            sub = self._subs.get(symbol)
            if sub is None:
                continue
            if sub.kind == "tick_by_tick":
                self._from_tick_by_tick(symbol, ticker)
            else:
                self._from_top_of_book(symbol, ticker)

    def _from_tick_by_tick(self, symbol: str, ticker: Any) -> None:
        for tick in ticker.tickByTicks:
            if hasattr(tick, "bidPrice"):
                self._quote(symbol, tick.bidPrice, tick.bidSize, tick.askPrice, tick.askSize)
            elif hasattr(tick, "price"):
                self._trade(symbol, tick.price, tick.size)

    def _from_top_of_book(self, symbol: str, ticker: Any) -> None:
        types = {int(t.tickType) for t in ticker.ticks}
        if types & _BID_ASK_TYPES:
            self._quote(symbol, ticker.bid, ticker.bidSize, ticker.ask, ticker.askSize)
        if types & _LAST_TYPES:
            self._trade(symbol, ticker.last, ticker.lastSize)

    def _quote(self, symbol: str, bid: float, bid_size: float, ask: float, ask_size: float) -> None:
        if not all(v == v and v > 0 for v in (bid, bid_size, ask, ask_size)):  # NaN or unset side: no quote
            return
        now = self._clock.now_ms()
        quote = Quote(
            symbol,
            to_decimal(bid),
            to_decimal(bid_size),
            to_decimal(ask),
            to_decimal(ask_size),
            ts_event_ms=now,
            ts_recv_ns=now * 1_000_000,
            venue=self._venue,
        )
        self._last_quote[symbol] = quote
        self._queue.put_nowait(quote)

    def _trade(self, symbol: str, price: float, size: float) -> None:
        if not (price == price and price > 0 and size == size and size > 0):
            return
        self._trade_seq += 1
        value = to_decimal(price)
        quote = self._last_quote.get(symbol)
        side = Side.BUY if quote is None or value >= (quote.bid_price + quote.ask_price) / _HALF else Side.SELL
        now = self._clock.now_ms()
        self._queue.put_nowait(
            Trade(
                symbol,
                value,
                to_decimal(size),
                side,
                f"{symbol}-{self._trade_seq}",
                ts_event_ms=now,
                ts_recv_ns=now * 1_000_000,
                venue=self._venue,
            )
        )
