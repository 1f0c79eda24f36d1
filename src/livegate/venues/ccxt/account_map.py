"""What the ccxt adapter has learnt about its account, and the conversion of the account's trades into fills.

Maps the venue's side onto ours: the ccxt market and instrument of a unified symbol, our
client order id for a venue client id or venue order id (from submits, lookups and open
orders), and the last price per symbol that values a fee charged in a third asset (BNB).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from livegate.domain.clock import Clock
from livegate.domain.errors import Rejected
from livegate.domain.instruments import Instrument
from livegate.domain.orders import Fill
from livegate.venues.ccxt.client_ids import venue_cid_of
from livegate.venues.ccxt.convert import market_contract_size, to_fill

__all__ = ["AccountMap"]


class AccountMap:
    """Markets, instruments, client order ids and last prices of one ccxt adapter.

    Parameters
    ----------
    exchange:
        The ccxt exchange object (its loaded ``markets``).
    name:
        Venue name used in fills and errors.
    clock:
        Source of fill times (ms since the epoch) when the venue gives none.
    symbols:
        Unified symbols the account trades (``CcxtConfig.symbols``); the ones traded or
        looked up later are added to :attr:`traded_symbols`.
    """

    def __init__(self, exchange: Any, name: str, clock: Clock, symbols: Iterable[str]) -> None:
        self.exchange = exchange
        self.name = name
        self._clock = clock
        self.instruments: dict[str, Instrument] = {}
        self.cid_by_venue_cid: dict[str, str] = {}
        self._cid_by_venue_oid: dict[str, str] = {}
        self.traded_symbols: set[str] = set(symbols)
        #: last price per unified symbol (quote mid or fill price): values fees charged in a third asset (BNB)
        self.last_price: dict[str, Decimal] = {}

    def our_cid(self, item: Mapping[str, Any]) -> str:
        """Return our client order id for a unified order or trade (the venue's own when unknown)."""
        vcid = venue_cid_of(item)
        return self.cid_by_venue_cid.get(vcid, vcid)

    def remember(self, venue_order_id: str, client_order_id: str) -> None:
        """Note that ``venue_order_id`` is our ``client_order_id`` (for trades that carry only the order id)."""
        if venue_order_id and client_order_id:
            self._cid_by_venue_oid[venue_order_id] = client_order_id

    def to_fill(self, trade: Mapping[str, Any]) -> Fill:
        """Convert a unified trade of this account (stream or ``fetchMyTrades``) into a :class:`Fill`."""
        symbol = trade.get("symbol")
        inst = self.instruments.get(str(symbol))
        cid = self.our_cid(trade) or self._cid_by_venue_oid.get(str(trade.get("order") or ""), "")
        size = market_contract_size(self.market_or_none(symbol))
        quote = inst.quote_currency if inst else ""
        fill = to_fill(
            trade,
            cid,
            quote,
            self.name,
            self._clock.now_ms(),
            size,
            base_currency=inst.base_currency if inst else "",
            asset_price=lambda asset: self.last_price.get(f"{asset}/{quote}"),
        )
        if fill.price > 0:
            self.last_price[fill.symbol] = fill.price
        return fill

    def market(self, symbol: str) -> Mapping[str, Any]:
        """Return the ccxt market of ``symbol``.

        Raises
        ------
        Rejected
            ``BadSymbol``: the exchange has no such market.
        """
        market = self.market_or_none(symbol)
        if market is None:
            raise Rejected(f"{self.name}: unknown symbol {symbol!r}", "BadSymbol")
        return market

    def market_or_none(self, symbol: object) -> Mapping[str, Any] | None:
        """Return the ccxt market of ``symbol``, None when the exchange has none."""
        markets = self.exchange.markets or {}
        market = markets.get(str(symbol)) if symbol is not None else None
        return market if isinstance(market, Mapping) else None
