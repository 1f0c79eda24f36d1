"""The emulated venue's books: accounts, orders, matching against replayed quotes and trades.

Matching (deterministic): a marketable order fills in full at the touch (the best
opposite quote) as taker; a resting limit order fills as maker at its own price when a
replayed trade prints at or through it or the opposite quote crosses it. Spot balances
lock on submit (quote for buys, base for sells) and the commission is charged in the
asset received (Binance spot: buyer pays in base, seller in quote). USD-M keeps a one-way
position per symbol, USDT commission and realized PnL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from tests.venue_emulator.model import Kind, Market, Order, Position, Trade, VenueRefusal

__all__ = ["Book", "Execution"]

_SPOT_FEE = Decimal("0.001")  # Binance spot VIP0: 0.1% maker and taker
_USDM_MAKER = Decimal("0.0002")  # Binance USD-M VIP0: 0.02% maker
_USDM_TAKER = Decimal("0.0005")  # 0.05% taker
_LEVERAGE = Decimal(20)
_EIGHT = Decimal("0.00000001")


@dataclass(frozen=True, slots=True)
class Execution:
    """One private event: the order after the change, Binance's execution type, the fill if any."""

    order: Order
    execution_type: str
    trade: Trade | None
    time_ms: int
    cancel_client_id: str = ""


@dataclass(slots=True)
class _Touch:
    bid: Decimal = Decimal(0)
    ask: Decimal = Decimal(0)


@dataclass
class Book:
    """Accounts and orders of one emulated Binance product (spot or USD-M)."""

    kind: Kind
    markets: dict[str, Market]
    now_ms: Callable[[], int]
    balances: dict[str, list[Decimal]] = field(default_factory=dict)  # asset -> [free, locked]
    positions: dict[str, Position] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    trades: list[Trade] = field(default_factory=list)
    touch_fills: bool = True
    hide_new_orders_ms: int = 0
    _touch: dict[str, _Touch] = field(default_factory=dict)
    _next_order_id: int = 8_000_000_001
    _next_trade_id: int = 900_000_001
    _listeners: list[Callable[[Execution], None]] = field(default_factory=list)

    # ------------------------------------------------------------------ accounts
    def deposit(self, asset: str, amount: Decimal) -> None:
        """Add ``amount`` to the free balance of ``asset`` (negative: a withdrawal)."""
        free_locked = self.balances.setdefault(asset, [Decimal(0), Decimal(0)])
        free_locked[0] += amount

    def listen(self, callback: Callable[[Execution], None]) -> None:
        """Call ``callback`` with every private event, in venue order."""
        self._listeners.append(callback)

    def quote(self, symbol: str) -> tuple[Decimal, Decimal]:
        """Return the last replayed (bid, ask) of ``symbol``; (0, 0) before the first."""
        touch = self._touch.get(symbol, _Touch())
        return touch.bid, touch.ask

    # ------------------------------------------------------------------ orders
    def place(
        self,
        *,
        symbol: str,
        side: str,
        type_: str,
        quantity: Decimal,
        price: Decimal | None,
        time_in_force: str,
        client_order_id: str,
        reduce_only: bool = False,
        external: bool = False,
    ) -> Order:
        """Validate and accept one order, then match it against the current quote.

        Raises
        ------
        VenueRefusal
            Binance's refusal: -1013/-4014/-4164 filters, -2010 duplicate id, post-only
            cross, insufficient balance; -2019 margin; -2022 reduce-only; -1121 symbol.
        """
        market = self.markets.get(symbol)
        if market is None:
            raise VenueRefusal(400, -1121, "Invalid symbol.")
        if any(o.client_order_id == client_order_id and o.is_open for o in self.orders.values()):
            if self.kind is Kind.SPOT:
                raise VenueRefusal(400, -2010, "Duplicate order sent.")
            raise VenueRefusal(400, -4116, "ClientOrderId is duplicated.")
        bid, ask = self.quote(symbol)
        limit = price if price is not None else (ask if side == "BUY" else bid)
        if limit <= 0:
            raise VenueRefusal(400, -1013, "Market is closed.")
        self._check_filters(market, type_, quantity, price, limit)
        marketable = (side == "BUY" and ask > 0 and limit >= ask) or (side == "SELL" and bid > 0 and limit <= bid)
        if marketable and (type_ == "LIMIT_MAKER" or time_in_force == "GTX"):
            if self.kind is Kind.SPOT:
                raise VenueRefusal(400, -2010, "Order would immediately match and take.")
            raise VenueRefusal(
                400, -5022, "Due to the order could not be executed as maker, the Post Only order will be rejected."
            )
        now = self.now_ms()
        order = Order(
            order_id=self._next_order_id,
            symbol=symbol,
            client_order_id=client_order_id,
            side=side,
            type=type_,
            time_in_force=time_in_force,
            quantity=quantity,
            price=price if price is not None else Decimal(0),
            created_ms=now,
            reduce_only=reduce_only,
            updated_ms=now,
            visible_at_ms=now + self.hide_new_orders_ms,
            external=external,
        )
        self._lock(order, market, limit)
        self._next_order_id += 1
        self.orders[order.order_id] = order
        self._emit(order, "NEW", None)
        if marketable:
            fill_price = ask if side == "BUY" else bid
            self._fill(order, market, order.remaining, fill_price, maker=False)
        elif type_ == "MARKET" or time_in_force in ("IOC", "FOK"):
            self._close(order, "EXPIRED")
        return order

    def cancel(self, order: Order, cancel_client_id: str = "") -> Order:
        """Cancel an open order and release what it locked.

        Raises
        ------
        VenueRefusal
            -2011 "Unknown order sent." when the order is no longer open.
        """
        if not order.is_open:
            raise VenueRefusal(400, -2011, "Unknown order sent.")
        self._close(order, "CANCELED", cancel_client_id)
        return order

    def find(self, symbol: str, *, order_id: int | None = None, client_order_id: str | None = None) -> Order | None:
        """Return the visible order of ``symbol`` by venue id or client order id (newest first)."""
        now = self.now_ms()
        for order in sorted(self.orders.values(), key=lambda o: -o.order_id):
            if order.symbol != symbol or order.visible_at_ms > now:
                continue
            if order_id is not None and order.order_id == order_id:
                return order
            if client_order_id is not None and order.client_order_id == client_order_id:
                return order
        return None

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        """Return the visible open orders (of ``symbol`` when given), oldest first."""
        now = self.now_ms()
        return [
            o
            for o in sorted(self.orders.values(), key=lambda o: o.order_id)
            if o.is_open and o.visible_at_ms <= now and (symbol is None or o.symbol == symbol)
        ]

    # ------------------------------------------------------------------ market data
    def on_quote(self, symbol: str, bid: Decimal, ask: Decimal) -> None:
        """Record the replayed best bid/ask and fill resting orders it crosses (maker, at their price)."""
        self._touch[symbol] = _Touch(bid, ask)
        for order in self._resting(symbol):
            if (order.side == "BUY" and ask <= order.price) or (order.side == "SELL" and bid >= order.price):
                self._fill(order, self.markets[symbol], order.remaining, order.price, maker=True)

    def on_trade(self, symbol: str, price: Decimal, qty: Decimal) -> None:
        """Fill resting orders a replayed public trade reaches (at or through their price), up to its size."""
        left = qty
        for order in self._resting(symbol):
            reached = price < order.price if order.side == "BUY" else price > order.price
            touched = self.touch_fills and price == order.price
            if left > 0 and (reached or touched):
                take = min(left, order.remaining)
                left -= take
                self._fill(order, self.markets[symbol], take, order.price, maker=True)

    def _resting(self, symbol: str) -> list[Order]:
        return [o for o in sorted(self.orders.values(), key=lambda o: o.order_id) if o.symbol == symbol and o.is_open]

    # ------------------------------------------------------------------ rules
    def _check_filters(
        self, market: Market, type_: str, quantity: Decimal, price: Decimal | None, limit: Decimal
    ) -> None:
        spot = self.kind is Kind.SPOT
        if price is not None:
            if price < market.min_price or price > market.max_price or price % market.tick_size:
                if spot:
                    raise VenueRefusal(400, -1013, "Filter failure: PRICE_FILTER")
                raise VenueRefusal(400, -4014, "Price not increased by tick size.")
        if quantity < market.min_qty or quantity > market.max_qty or quantity % market.step_size:
            if spot:
                raise VenueRefusal(400, -1013, "Filter failure: LOT_SIZE")
            raise VenueRefusal(400, -1111, "Precision is over the maximum defined for this asset.")
        if quantity * limit < market.min_notional:
            if spot:
                raise VenueRefusal(400, -1013, "Filter failure: NOTIONAL")
            raise VenueRefusal(
                400,
                -4164,
                f"Order's notional must be no smaller than {market.min_notional} (unless you choose reduce only).",
            )

    def _lock(self, order: Order, market: Market, limit: Decimal) -> None:
        if self.kind is Kind.SPOT:
            asset, need = (
                (market.quote, order.quantity * limit) if order.side == "BUY" else (market.base, order.quantity)
            )
        else:
            position = self.positions.get(order.symbol, Position(order.symbol)).amount
            signed = order.quantity if order.side == "BUY" else -order.quantity
            if order.reduce_only and (position == 0 or (position > 0) == (signed > 0) or abs(signed) > abs(position)):
                raise VenueRefusal(400, -2022, "ReduceOnly Order is rejected.")
            asset, need = market.quote, Decimal(0) if order.reduce_only else order.quantity * limit / _LEVERAGE
        free_locked = self.balances.setdefault(asset, [Decimal(0), Decimal(0)])
        if free_locked[0] < need:
            if self.kind is Kind.SPOT:
                raise VenueRefusal(400, -2010, "Account has insufficient balance for requested action.")
            raise VenueRefusal(400, -2019, "Margin is insufficient.")
        free_locked[0] -= need
        free_locked[1] += need
        order.locked = need

    def _release(self, order: Order, amount: Decimal) -> None:
        market = self.markets[order.symbol]
        asset = market.base if self.kind is Kind.SPOT and order.side == "SELL" else market.quote
        amount = min(amount, order.locked)
        free_locked = self.balances[asset]
        free_locked[1] -= amount
        free_locked[0] += amount
        order.locked -= amount

    def _fill(self, order: Order, market: Market, qty: Decimal, price: Decimal, *, maker: bool) -> None:
        now = self.now_ms()
        notional = qty * price
        pnl = Decimal(0)
        if self.kind is Kind.SPOT:
            buy = order.side == "BUY"
            spent_asset, got_asset = (market.quote, market.base) if buy else (market.base, market.quote)
            spent, got = (notional, qty) if buy else (qty, notional)
            held = order.locked * (qty / order.remaining) if order.remaining else order.locked
            self.balances[spent_asset][1] -= held
            order.locked -= held
            self.balances[spent_asset][0] += held - spent  # a buy below its limit gives the difference back
            commission, commission_asset = got * _SPOT_FEE, got_asset
            self.deposit(got_asset, got - commission)
        else:
            commission, commission_asset = notional * (_USDM_MAKER if maker else _USDM_TAKER), market.quote
            pnl = self._move_position(order, qty, price)
            self._release(order, order.locked * (qty / order.remaining) if order.remaining else order.locked)
            self.deposit(market.quote, pnl - commission)
        trade = Trade(
            trade_id=self._next_trade_id,
            order_id=order.order_id,
            symbol=order.symbol,
            side=order.side,
            price=price,
            qty=qty,
            commission=commission,
            commission_asset=commission_asset,
            maker=maker,
            time_ms=now,
            realized_pnl=pnl,
            client_order_id=order.client_order_id,
        )
        self._next_trade_id += 1
        self.trades.append(trade)
        order.executed_qty += qty
        order.cum_quote += notional
        order.updated_ms = now
        order.status = "FILLED" if order.remaining == 0 else "PARTIALLY_FILLED"
        self._emit(order, "TRADE", trade)

    def _move_position(self, order: Order, qty: Decimal, price: Decimal) -> Decimal:
        pos = self.positions.setdefault(order.symbol, Position(order.symbol))
        signed = qty if order.side == "BUY" else -qty
        pnl = Decimal(0)
        if pos.amount and (pos.amount > 0) != (signed > 0):
            closed = min(abs(signed), abs(pos.amount))
            direction = 1 if pos.amount > 0 else -1
            pnl = (price - pos.entry_price) * closed * direction
        new_amount = pos.amount + signed
        if new_amount == 0:
            pos.entry_price = Decimal(0)
        elif pos.amount == 0 or (pos.amount > 0) != (new_amount > 0):
            pos.entry_price = price
        elif (pos.amount > 0) == (signed > 0):
            average = (pos.entry_price * abs(pos.amount) + price * qty) / abs(new_amount)
            pos.entry_price = average.quantize(_EIGHT)  # Binance prints entry prices to 8 places
        pos.amount = new_amount
        return pnl

    def _close(self, order: Order, status: str, cancel_client_id: str = "") -> None:
        self._release(order, order.locked)
        order.status = status
        order.updated_ms = self.now_ms()
        self._emit(order, status, None, cancel_client_id)

    def _emit(self, order: Order, execution_type: str, trade: Trade | None, cancel_client_id: str = "") -> None:
        event = Execution(replace(order), execution_type, trade, self.now_ms(), cancel_client_id)
        for callback in self._listeners:
            callback(event)
