"""The paper venue: an in-process simulated exchange driven by replayed quotes and trades.

Implements :class:`~livegate.venues.base.VenueAdapter` and
:class:`~livegate.venues.base.SimulatedVenue` with the fill model of docs/architecture.md §5. The
matching rules live in :mod:`livegate.venues.paper_matching`; this module validates,
keeps the venue's orders, positions and cash, and reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from livegate.domain.clock import Clock
from livegate.domain.enums import Liquidity, OrderStatus, OrderType, Side, TimeInForce
from livegate.domain.errors import InvariantViolation, Rejected
from livegate.domain.instruments import Instrument
from livegate.domain.market import Quote, Trade
from livegate.domain.orders import Fill, Order, OrderReport
from livegate.domain.positions import Position
from livegate.domain.snapshots import BalanceSnapshot, PositionSnapshot, VenueOrderSnapshot
from livegate.venues.base import ReportSink, VenueCapabilities
from livegate.venues.paper_matching import (
    FillMode,
    PaperMatcher,
    PaperOrder,
    SymbolBook,
    fee_for,
    is_marketable,
)
from livegate.venues.paper_store import PaperStore

__all__ = ["PaperParams", "PaperRejectCode", "PaperVenue"]

_ZERO = Decimal(0)
_FILL_MODES = ("none", "marketable", "mid", "always")


class PaperRejectCode(StrEnum):
    """Codes carried by :class:`~livegate.domain.errors.Rejected` from the paper venue.

    The structural ones match :class:`~livegate.domain.enums.DenialCode` values.
    """

    UNKNOWN_SYMBOL = "UNKNOWN_SYMBOL"
    INVALID_ORDER = "INVALID_ORDER"
    INVALID_PRICE = "INVALID_PRICE"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    TICK_SIZE = "TICK_SIZE"
    LOT_SIZE = "LOT_SIZE"
    MIN_NOTIONAL = "MIN_NOTIONAL"
    NO_MARKET = "NO_MARKET"
    POST_ONLY_WOULD_CROSS = "POST_ONLY_WOULD_CROSS"
    DUPLICATE_CLIENT_ORDER_ID = "DUPLICATE_CLIENT_ORDER_ID"
    UNKNOWN_ORDER = "UNKNOWN_ORDER"


@dataclass(frozen=True, slots=True)
class PaperParams:
    """Parameters of the paper fill model (docs/architecture.md §5).

    Parameters
    ----------
    fill_mode:
        ``none`` accepts and never fills; ``marketable`` (default) fills takers at the far
        side up to displayed size and rests the rest; ``mid`` is ``marketable`` with taker
        fills at the mid price; ``always`` fills every order fully at once at its limit
        price (market orders at the far side).
    maker_fee_bps, taker_fee_bps:
        Fee rates in bps of notional. Defaults are Binance USD-M futures VIP0 regular
        rates, 0.0200% maker / 0.0500% taker (binance.com/en/fee/futureFee, 2024; the
        ccxt market fixture still carries the older 0.04% taker).
    slippage_bps:
        Taker price penalty in bps, applied against the taker before tick rounding.
    touch_fill_probability:
        Chance in [0, 1] that a resting order fills when a trade prints exactly at its
        limit on the side that would hit it (queue position is unknown).
    seed:
        Seed of the venue's ``random.Random`` (touch fills only).
    starting_balance:
        Initial cash per quote currency, USDT-margined perpetual style.
    """

    fill_mode: FillMode = "marketable"
    maker_fee_bps: Decimal = Decimal("2")
    taker_fee_bps: Decimal = Decimal("5")
    slippage_bps: Decimal = Decimal(0)
    touch_fill_probability: Decimal = Decimal("0.5")
    seed: int = 0
    starting_balance: Decimal = Decimal("100000")

    def __post_init__(self) -> None:
        if self.fill_mode not in _FILL_MODES:
            raise ValueError(f"fill_mode must be one of {_FILL_MODES}, got {self.fill_mode!r}")
        for name in ("maker_fee_bps", "taker_fee_bps", "starting_balance"):
            if not getattr(self, name).is_finite():
                raise ValueError(f"{name} must be finite, got {getattr(self, name)}")
        if not self.slippage_bps.is_finite() or self.slippage_bps < 0:
            raise ValueError(f"slippage_bps must be >= 0, got {self.slippage_bps}")
        if not (0 <= self.touch_fill_probability <= 1):
            raise ValueError(f"touch_fill_probability must be in [0, 1], got {self.touch_fill_probability}")


class PaperVenue:
    """A simulated venue that fills orders against replayed market data.

    Parameters
    ----------
    instruments:
        Tradable instruments by symbol; their tick, lot, min quantity and min notional
        are enforced on submit.
    params:
        Fill model parameters.
    clock:
        Source of every timestamp (ms since the epoch).
    name:
        Venue name; prefixes venue order ids (``<name>-o<n>``) and fill ids (``<name>-f<n>``).
    store:
        Optional durable state (:class:`~livegate.venues.paper_store.PaperStore`). When
        given, the venue starts from what the store holds (orders, positions, id counters)
        and commits every change there before reporting it, so it outlives the engine.

    Notes
    -----
    Immediate fills are pushed to the bound sink before :meth:`submit` returns; fills of
    resting orders are pushed from :meth:`on_quote` and :meth:`on_trade`. Only
    :class:`~livegate.domain.orders.Fill` reports are pushed: the order status follows
    from the fills, and submit/cancel answers are returned, not pushed. Like a real
    exchange, the venue settles (and stores) a whole submit or market event before it
    pushes that event's fills, so a crash of the client never leaves it half-matched.
    """

    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        params: PaperParams,
        clock: Clock,
        name: str = "paper",
        store: PaperStore | None = None,
    ) -> None:
        self.name = name
        self.capabilities = VenueCapabilities(
            native_cancel_all=True, positions=True, fetch_by_client_order_id=True, simulated=True
        )
        self._instruments = dict(instruments)
        self._params = params
        self._clock = clock
        self._sink: ReportSink | None = None
        self._books = {symbol: SymbolBook(inst) for symbol, inst in self._instruments.items()}
        self._orders: dict[str, PaperOrder] = {}
        #: Orders that may still be working, in arrival order (finished ones are dropped when next read),
        #: so listing open orders costs what is open, not the session's history.
        self._maybe_open: dict[str, PaperOrder] = {}
        self._positions: dict[str, Position] = {}
        self._order_seq = 0
        self._fill_seq = 0
        self._matching = params.fill_mode in ("marketable", "mid")
        self._matcher = PaperMatcher(
            fill_mode=params.fill_mode,
            slippage_bps=params.slippage_bps,
            touch_fill_probability=params.touch_fill_probability,
            seed=params.seed,
            execute=self._execute,
        )
        self._store = store
        self._outbox: list[Fill] = []
        self._dirty_orders: dict[str, PaperOrder] = {}
        if store is not None:
            self._restore(store)

    # ----------------------------------------------------------------- lifecycle
    def bind(self, sink: ReportSink) -> None:
        """Register the callable that receives fill reports."""
        self._sink = sink

    async def connect(self) -> None:
        """Do nothing: the paper venue has no connection."""

    async def close(self) -> None:
        """Do nothing; idempotent."""

    def instruments(self) -> dict[str, Instrument]:
        """Return the venue's instruments by symbol."""
        return dict(self._instruments)

    # ----------------------------------------------------------------- market data (hot path)
    def on_quote(self, quote: Quote) -> None:
        """Store ``quote`` as the last quote of its symbol and match working orders against it."""
        book = self._books.get(quote[0])  # quote.symbol, by position (the session loop's per-quote call)
        if book is None:
            return
        book.quote = quote
        book.bid_used = _ZERO
        book.ask_used = _ZERO
        if self._matching and (book.buys or book.sells or book.markets):
            self._matcher.match_quote(book)
            if self._outbox:
                self._settle()

    def on_trade(self, trade: Trade) -> None:
        """Match resting limit orders of ``trade.symbol`` against a public trade print."""
        book = self._books.get(trade.symbol)
        if book is None or not self._matching or not (book.buys or book.sells):
            return
        self._matcher.match_trade(book, trade)
        if self._outbox:
            self._settle()

    # ----------------------------------------------------------------- orders
    async def submit(self, order: Order) -> OrderReport:
        """Validate ``order``, fill what is marketable now and rest or cancel the rest.

        Returns
        -------
        OrderReport
            The order's venue state after matching: ``ACCEPTED`` (resting, nothing
            filled), ``PARTIALLY_FILLED`` (resting remainder), ``FILLED``, or
            ``CANCELLED`` (IOC remainder); ``filled_quantity`` is always set.

        Raises
        ------
        Rejected
            With a :class:`PaperRejectCode` when the order breaks an instrument filter,
            would cross as post-only, is a market order without a usable quote, or reuses
            a client order id.
        InvariantViolation
            When no report sink is bound.
        """
        if self._sink is None:
            raise InvariantViolation(f"venue {self.name}: bind() a report sink before submit()")
        try:
            book = self._validate(order)
        except Rejected as exc:
            if self._store is not None:
                self._store.log_submit(order.client_order_id, self._clock.now_ms(), exc.code or "rejected")
            raise
        intent = order.intent
        self._order_seq += 1
        record = PaperOrder(
            seq=self._order_seq,
            client_order_id=order.client_order_id,
            venue_order_id=f"{self.name}-o{self._order_seq}",
            symbol=intent.symbol,
            side=intent.side,
            order_type=intent.order_type,
            price=intent.price,
            quantity=intent.quantity,
            time_in_force=intent.time_in_force,
            post_only=intent.post_only,
            ts_ms=self._clock.now_ms(),
        )
        self._orders[record.client_order_id] = record
        self._maybe_open[record.client_order_id] = record
        quote = book.usable_quote()
        marketable = is_marketable(record, quote)
        mode = self._params.fill_mode
        if mode == "always":
            self._fill_at_once(record, quote, marketable)
        elif self._matching and marketable and quote is not None:
            self._matcher.take(book, record, quote)
        if record.remaining > 0:
            if record.time_in_force is TimeInForce.IOC:
                record.status = OrderStatus.CANCELLED
                record.ts_ms = self._clock.now_ms()
            else:
                book.add(record)
        self._dirty_orders[record.client_order_id] = record
        self._settle(submitted=(record.client_order_id, record.ts_ms))
        return self._report(record)

    async def cancel(self, client_order_id: str, symbol: str) -> OrderReport:
        """Cancel one working order.

        Raises
        ------
        Rejected
            ``UNKNOWN_ORDER`` when no working order has this id on ``symbol``.
        """
        record = self._orders.get(client_order_id)
        if record is None or record.symbol != symbol or not record.status.is_working:
            raise Rejected(f"no open order {client_order_id!r} on {symbol}", PaperRejectCode.UNKNOWN_ORDER)
        return self._cancel(record)

    async def cancel_all(self, symbol: str | None = None) -> list[OrderReport]:
        """Cancel every working order (of ``symbol`` when given), oldest first."""
        return [self._cancel(record) for record in self._working(symbol)]

    async def fetch_order(self, client_order_id: str, symbol: str) -> VenueOrderSnapshot | None:
        """Return an accepted order (open or finished) by client order id; None when never seen."""
        record = self._orders.get(client_order_id)
        if record is None or record.symbol != symbol:
            return None
        return record.snapshot()

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrderSnapshot]:
        """Return working orders (of ``symbol`` when given), oldest first."""
        return [record.snapshot() for record in self._working(symbol)]

    async def positions(self) -> list[PositionSnapshot]:
        """Return the venue's non-flat positions, built from its own fills, by symbol."""
        return [
            PositionSnapshot(symbol=p.symbol, quantity=p.quantity, average_price=p.average_price)
            for symbol, p in sorted(self._positions.items())
            if p.quantity != 0
        ]

    async def balances(self) -> list[BalanceSnapshot]:
        """Return cash per quote currency: starting balance + realized PnL - fees.

        USDT-margined perpetual style: unrealized PnL and margin are not deducted, so
        ``free`` equals ``total`` (the wallet balance).
        """
        cash = {inst.quote_currency: self._params.starting_balance for inst in self._instruments.values()}
        for symbol, position in self._positions.items():
            currency = self._instruments[symbol].quote_currency
            cash[currency] += position.realized_pnl - position.fees
        return [BalanceSnapshot(currency=c, total=v, free=v) for c, v in sorted(cash.items())]

    async def recent_fills(self, since_ms: int | None = None) -> list[Fill]:
        """Return the venue's own fills (at or after ``since_ms`` when given), oldest first.

        With a store the answer comes from the stored fill history, so it includes fills
        made before a restart of the engine; without one, an empty list.
        """
        if self._store is None:
            return []
        return [f for f in self._store.fills() if since_ms is None or f.ts_ms >= since_ms]

    async def fills_after(self, cursor: int) -> tuple[list[Fill], int]:
        """Return the stored fills after the store's fill sequence ``cursor`` and the new cursor (``FillJournal``).

        What a periodic reconciliation reads, so its cost is the fills since the last one
        (issue 14); without a store, no fills and ``cursor`` unchanged.
        """
        if self._store is None:
            return [], cursor
        return self._store.fills_after(cursor)

    def adjust_position(self, symbol: str, quantity_delta: Decimal, reason: str) -> None:
        """Move a position outside trading, as an exchange does on liquidation or auto-deleverage.

        No fill is reported: livegate learns about it only by reconciling (the drift
        injection of issue 6). ``quantity_delta`` is signed, in base units; the entry price
        is kept.

        Raises
        ------
        Rejected
            ``UNKNOWN_SYMBOL`` when the venue does not list ``symbol``.
        """
        if symbol not in self._instruments:
            raise Rejected(f"unknown symbol {symbol!r}", PaperRejectCode.UNKNOWN_SYMBOL)
        position = self._positions.get(symbol)
        if position is None:
            position = self._positions[symbol] = Position(symbol)
        position.quantity += quantity_delta
        if self._store is not None:
            self._store.save_position(
                position, symbol=symbol, quantity_delta=quantity_delta, ts_ms=self._clock.now_ms(), reason=reason
            )

    # ----------------------------------------------------------------- internals
    def _validate(self, order: Order) -> SymbolBook:
        """Return the order's book, or raise Rejected with the first broken rule."""
        intent = order.intent
        book = self._books.get(intent.symbol)
        if book is None:
            raise Rejected(f"unknown symbol {intent.symbol!r}", PaperRejectCode.UNKNOWN_SYMBOL)
        if order.client_order_id in self._orders:
            raise Rejected(
                f"duplicate client order id {order.client_order_id!r} (cf. Binance -4015)",
                PaperRejectCode.DUPLICATE_CLIENT_ORDER_ID,
            )
        inst = book.instrument
        qty = intent.quantity
        if not qty.is_finite() or qty <= 0:
            raise Rejected(f"quantity must be positive, got {qty}", PaperRejectCode.INVALID_QUANTITY)
        if not inst.quantity_on_lot(qty) or qty < inst.min_quantity:
            raise Rejected(
                f"quantity {qty} is not a multiple of lot {inst.lot_size} >= min {inst.min_quantity}",
                PaperRejectCode.LOT_SIZE,
            )
        quote = book.usable_quote()
        if intent.order_type is OrderType.MARKET:
            if intent.price is not None or intent.post_only:
                raise Rejected("market orders take no price and cannot be post-only", PaperRejectCode.INVALID_ORDER)
            if quote is None:
                raise Rejected(f"no usable quote for {intent.symbol}", PaperRejectCode.NO_MARKET)
            reference = quote.ask_price if intent.side is Side.BUY else quote.bid_price
        else:
            price = intent.price
            if price is None or not price.is_finite() or price <= 0:
                raise Rejected(f"limit price must be positive, got {price}", PaperRejectCode.INVALID_PRICE)
            if not inst.price_on_tick(price):
                raise Rejected(f"price {price} is not a multiple of tick {inst.tick_size}", PaperRejectCode.TICK_SIZE)
            reference = price
        notional = reference * qty
        if notional < inst.min_notional:
            raise Rejected(
                f"notional {notional} {inst.quote_currency} < min {inst.min_notional}", PaperRejectCode.MIN_NOTIONAL
            )
        if intent.post_only and quote is not None and intent.price is not None:
            crosses = intent.price >= quote.ask_price if intent.side is Side.BUY else intent.price <= quote.bid_price
            if crosses:
                raise Rejected(
                    f"post-only {intent.side.value} at {intent.price} would cross {quote.bid_price}/{quote.ask_price}",
                    PaperRejectCode.POST_ONLY_WOULD_CROSS,
                )
        return book

    def _fill_at_once(self, record: PaperOrder, quote: Quote | None, marketable: bool) -> None:
        """Fill mode ``always``: the whole quantity at the limit (market: far side) now."""
        if record.price is not None:
            price = record.price
        elif quote is not None:
            price = quote.ask_price if record.side is Side.BUY else quote.bid_price
        else:  # _validate rejects market orders without a quote
            raise InvariantViolation(f"order {record.client_order_id}: market order without a quote")
        self._execute(record, price, record.remaining, Liquidity.TAKER if marketable else Liquidity.MAKER)

    def _execute(self, record: PaperOrder, price: Decimal, quantity: Decimal, liquidity: Liquidity) -> None:
        """Apply one fill to the order record and position, then push it to the sink."""
        sink = self._sink
        if sink is None:
            raise InvariantViolation(f"venue {self.name}: fill without a bound report sink")
        if quantity <= 0 or quantity > record.remaining:
            raise InvariantViolation(f"order {record.client_order_id}: fill {quantity} > remaining {record.remaining}")
        ts_ms = self._clock.now_ms()
        self._fill_seq += 1
        bps = self._params.maker_fee_bps if liquidity is Liquidity.MAKER else self._params.taker_fee_bps
        fill = Fill(
            client_order_id=record.client_order_id,
            fill_id=f"{self.name}-f{self._fill_seq}",
            symbol=record.symbol,
            side=record.side,
            price=price,
            quantity=quantity,
            fee=fee_for(price, quantity, bps),
            liquidity=liquidity,
            ts_ms=ts_ms,
            venue=self.name,
        )
        record.filled_quantity += quantity
        record.notional_filled += price * quantity
        record.status = OrderStatus.FILLED if record.remaining == 0 else OrderStatus.PARTIALLY_FILLED
        record.ts_ms = ts_ms
        position = self._positions.get(record.symbol)
        if position is None:
            position = self._positions[record.symbol] = Position(record.symbol)
        position.apply_fill(fill)
        self._dirty_orders[record.client_order_id] = record
        self._outbox.append(fill)

    def _cancel(self, record: PaperOrder) -> OrderReport:
        self._books[record.symbol].remove(record)
        record.status = OrderStatus.CANCELLED
        record.ts_ms = self._clock.now_ms()
        self._dirty_orders[record.client_order_id] = record
        self._settle()
        return self._report(record)

    def _settle(self, submitted: tuple[str, int] | None = None) -> None:
        """Store changed orders, new fills and positions in one commit, then push the fills."""
        fills, self._outbox = self._outbox, []
        orders, self._dirty_orders = self._dirty_orders, {}
        store = self._store
        if store is not None:
            first = self._fill_seq - len(fills) + 1
            symbols = {f.symbol for f in fills}
            store.save(
                orders=orders.values(),
                fills=[(first + i, f) for i, f in enumerate(fills)],
                positions=[self._positions[s] for s in sorted(symbols)],
                submitted=submitted,
            )
        sink = self._sink
        if sink is not None:
            for fill in fills:
                sink(fill)

    def _restore(self, store: PaperStore) -> None:
        """Load orders, positions and id counters from ``store``; rest working orders again."""
        state = store.load()
        for record in state.orders:
            self._orders[record.client_order_id] = record
            if record.status.is_working:
                self._maybe_open[record.client_order_id] = record
            book = self._books.get(record.symbol)
            if book is not None and record.status.is_working:
                book.add(record)
        self._positions.update(state.positions)
        self._order_seq = state.order_seq
        self._fill_seq = state.fill_seq

    def _working(self, symbol: str | None) -> list[PaperOrder]:
        # dicts keep insertion order, which is arrival order (a restored store's order first).
        maybe = self._maybe_open
        finished = [cid for cid, r in maybe.items() if not r.status.is_working]
        for cid in finished:
            del maybe[cid]
        return [r for r in maybe.values() if symbol is None or r.symbol == symbol]

    @staticmethod
    def _report(record: PaperOrder) -> OrderReport:
        return OrderReport(
            client_order_id=record.client_order_id,
            status=record.status,
            ts_ms=record.ts_ms,
            venue_order_id=record.venue_order_id,
            filled_quantity=record.filled_quantity,
        )
