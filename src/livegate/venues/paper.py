"""The paper venue: an in-process simulated exchange driven by replayed quotes and trades.

Implements :class:`~livegate.venues.base.VenueAdapter` and
:class:`~livegate.venues.base.SimulatedVenue` with the fill model of docs/architecture.md §5. The
matching rules live in :mod:`livegate.venues.paper_matching`, the submit checks in
:mod:`livegate.venues.paper_validation`, the fill model parameters in
:mod:`livegate.venues.paper_params`; this module keeps the venue's orders, positions and
cash, and reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from livegate.domain.clock import Clock
from livegate.domain.enums import Liquidity, OrderStatus, Side, TimeInForce
from livegate.domain.errors import InvariantViolation, Rejected
from livegate.domain.instruments import Instrument
from livegate.domain.market import Quote, Trade
from livegate.domain.orders import Fill, Order, OrderReport
from livegate.domain.positions import Position
from livegate.domain.snapshots import BalanceSnapshot, PositionSnapshot, VenueOrderSnapshot
from livegate.venues.base import ReportSink, VenueCapabilities
from livegate.venues.paper_matching import PaperMatcher, PaperOrder, SymbolBook, fee_for, is_marketable
from livegate.venues.paper_orders import PaperOrders
from livegate.venues.paper_params import PaperParams
from livegate.venues.paper_store import PaperStore
from livegate.venues.paper_validation import PaperRejectCode, validate_order

__all__ = ["PaperParams", "PaperRejectCode", "PaperVenue"]

_ZERO = Decimal(0)


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

    Memory follows the open orders, not the session's history: with a store, an order
    leaves memory once its final state is committed, and :meth:`fetch_order` reads it back
    (:mod:`livegate.venues.paper_orders`); without one, every order is kept.
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
        self._orders = PaperOrders(store)
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
            book = validate_order(order, self._books, self._orders)
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
        self._orders.add(record)
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
        return record.report()

    async def cancel(self, client_order_id: str, symbol: str) -> OrderReport:
        """Cancel one working order.

        Raises
        ------
        Rejected
            ``UNKNOWN_ORDER`` when no working order has this id on ``symbol``.
        """
        record = self._orders.held(client_order_id)
        if record is None or record.symbol != symbol or not record.status.is_working:
            raise Rejected(f"no open order {client_order_id!r} on {symbol}", PaperRejectCode.UNKNOWN_ORDER)
        return self._cancel(record)

    async def cancel_all(self, symbol: str | None = None, *, everything: bool = False) -> list[OrderReport]:
        """Cancel every working order (of ``symbol`` when given), oldest first.

        A paper venue holds only the orders livegate sent it, so ``everything`` changes nothing.
        """
        return [self._cancel(record) for record in self._orders.working(symbol)]

    async def fetch_order(self, client_order_id: str, symbol: str) -> VenueOrderSnapshot | None:
        """Return an accepted order (open or finished) by client order id; None when never seen.

        A finished order no longer held in memory is read back from the store.

        Raises
        ------
        DataError
            If the store cannot be read.
        """
        record = self._orders.find(client_order_id)
        if record is None or record.symbol != symbol:
            return None
        return record.snapshot()

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrderSnapshot]:
        """Return working orders (of ``symbol`` when given), oldest first."""
        return [record.snapshot() for record in self._orders.working(symbol)]

    def held_order_ids(self) -> list[str]:
        """Return the client order ids of the orders held in memory, oldest first (a diagnostic).

        With a store: the unfinished orders (a finished one leaves once its final state is
        stored); without one, every accepted order.
        """
        return self._orders.held_ids()

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
        return record.report()

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
            self._orders.stored(orders.values())
        sink = self._sink
        if sink is not None:
            for fill in fills:
                sink(fill)

    def _restore(self, store: PaperStore) -> None:
        """Load unfinished orders, all client order ids, positions and id counters from ``store``; rest working ones."""
        state = store.load(finished=False)
        self._orders.restore(state)
        for record in state.orders:
            book = self._books.get(record.symbol)
            if book is not None and record.status.is_working:
                book.add(record)
        self._positions.update(state.positions)
        self._order_seq = state.order_seq
        self._fill_seq = state.fill_seq
