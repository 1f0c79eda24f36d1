"""Order intents, orders with an explicit state machine, fills and venue reports."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from livegate.domain.enums import Liquidity, OrderStatus, OrderType, Side, TimeInForce
from livegate.domain.errors import InvalidTransition

_ZERO = Decimal(0)

S = OrderStatus

#: Allowed transitions of the order state machine. A venue may skip ``accepted`` and
#: report a fill directly, and a cancel may race with fills.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.NEW: frozenset({S.SUBMITTED, S.REJECTED}),
    S.SUBMITTED: frozenset(
        {S.ACCEPTED, S.PARTIALLY_FILLED, S.FILLED, S.REJECTED, S.CANCEL_PENDING, S.CANCELLED, S.EXPIRED}
    ),
    S.ACCEPTED: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCEL_PENDING, S.CANCELLED, S.EXPIRED}),
    S.PARTIALLY_FILLED: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCEL_PENDING, S.CANCELLED, S.EXPIRED}),
    S.CANCEL_PENDING: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.EXPIRED, S.ACCEPTED}),
    S.FILLED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
}

#: Terminal states that still take a fill: a venue's cancel or expiry can race an
#: execution, and the fill report may arrive after the cancel report. The venue is the
#: truth, so the fill is applied; the order stays cancelled/expired unless the fill
#: completes it (then it is filled).
LATE_FILL_STATES: frozenset[OrderStatus] = frozenset({S.CANCELLED, S.EXPIRED})


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """What a strategy asks for, before any check.

    Parameters
    ----------
    symbol, side, quantity:
        Instrument, side and quantity in base units.
    order_type, price:
        ``limit`` needs ``price`` (quote currency); ``market`` has ``price=None``.
    time_in_force, post_only, reduce_only:
        Execution instructions.
    strategy_id:
        Name of the strategy that made the intent.
    seq:
        Intent sequence number in the session (0-based), source of the client order id.
    ts_ms:
        Clock time of the intent, ms since the epoch.
    flatten:
        An emergency close built by livegate itself (``livegate flatten``, ``[kill]
        flatten_on_halt``), never by a strategy. Only with ``reduce_only``: the rate,
        duplicate, turnover and daily-count gates let it through (docs/recovery.md).
    outside_rth:
        The strategy explicitly asks to trade outside regular trading hours (US equities:
        pre-market and after-hours, docs/venues_equities.md "Equity gates"). Off by default;
        the regular-hours gate denies an equity order outside the regular session without it.

    Raises
    ------
    ValueError
        If ``flatten`` is set without ``reduce_only``.
    """

    symbol: str
    side: Side
    quantity: Decimal
    order_type: OrderType
    price: Decimal | None
    time_in_force: TimeInForce
    post_only: bool
    reduce_only: bool
    strategy_id: str
    seq: int
    ts_ms: int
    flatten: bool = False
    outside_rth: bool = False

    def __post_init__(self) -> None:
        if self.flatten and not self.reduce_only:
            raise ValueError("a flatten intent must be reduce-only")

    def to_record(self) -> dict[str, object]:
        """Return a JSON-ready dict with exact decimal strings (``flatten`` only when set)."""
        record: dict[str, object] = {
            "symbol": self.symbol,
            "side": self.side.value,
            "quantity": str(self.quantity),
            "order_type": self.order_type.value,
            "price": None if self.price is None else str(self.price),
            "time_in_force": self.time_in_force.value,
            "post_only": self.post_only,
            "reduce_only": self.reduce_only,
            "strategy_id": self.strategy_id,
            "seq": self.seq,
            "ts_ms": self.ts_ms,
        }
        if self.flatten:
            record["flatten"] = True
        if self.outside_rth:
            record["outside_rth"] = True
        return record


class Order:
    """A working or finished order; mutable only through :meth:`transition` and :meth:`apply_fill`.

    Parameters
    ----------
    client_order_id:
        Our deterministic id (docs/architecture.md §3.6).
    intent:
        The approved intent the order was built from.
    venue:
        Venue the order is routed to.
    """

    __slots__ = (
        "client_order_id",
        "filled_quantity",
        "intent",
        "notional_filled",
        "reason",
        "status",
        "updated_ms",
        "venue",
        "venue_order_id",
    )

    def __init__(self, client_order_id: str, intent: OrderIntent, venue: str) -> None:
        self.client_order_id = client_order_id
        self.intent = intent
        self.venue = venue
        self.status = OrderStatus.NEW
        self.filled_quantity = _ZERO  # one shared zero: a Decimal is immutable, and a run keeps every order
        self.notional_filled = _ZERO
        self.venue_order_id = ""
        self.reason = ""
        self.updated_ms = intent.ts_ms

    @property
    def symbol(self) -> str:
        """Return the instrument symbol."""
        return self.intent.symbol

    @property
    def side(self) -> Side:
        """Return the order side."""
        return self.intent.side

    @property
    def quantity(self) -> Decimal:
        """Return the ordered quantity in base units."""
        return self.intent.quantity

    @property
    def price(self) -> Decimal | None:
        """Return the limit price, or None for market orders."""
        return self.intent.price

    @property
    def remaining_quantity(self) -> Decimal:
        """Return quantity not yet filled, in base units."""
        return self.intent.quantity - self.filled_quantity

    @property
    def average_fill_price(self) -> Decimal | None:
        """Return the volume-weighted fill price, or None before the first fill."""
        if self.filled_quantity == 0:
            return None
        return self.notional_filled / self.filled_quantity

    def transition(self, new_status: OrderStatus, ts_ms: int, reason: str = "") -> None:
        """Move to ``new_status``.

        Raises
        ------
        InvalidTransition
            If the state machine (:data:`TRANSITIONS`) forbids the move.
        """
        if new_status not in TRANSITIONS[self.status]:
            raise InvalidTransition(
                f"order {self.client_order_id}: {self.status.value} -> {new_status.value} is not allowed"
            )
        self.status = new_status
        self.updated_ms = ts_ms
        if reason:
            self.reason = reason

    def apply_fill(self, fill: Fill) -> None:
        """Add ``fill`` and move to partially_filled or filled.

        A fill on a cancelled or expired order (:data:`LATE_FILL_STATES`) is a late report
        of an execution that raced the cancel: it is added, and the order becomes
        ``filled`` only when the fill completes it.

        Raises
        ------
        InvalidTransition
            If the order cannot take fills in its state (new, rejected, filled) or the fill
            would overfill the order (both are :class:`InvariantViolation`).
        """
        if fill.quantity <= 0 or fill.quantity > self.remaining_quantity:
            raise InvalidTransition(
                f"order {self.client_order_id}: fill of {fill.quantity} exceeds remaining {self.remaining_quantity}"
            )
        late = self.status in LATE_FILL_STATES
        target = OrderStatus.FILLED if self.remaining_quantity == fill.quantity else OrderStatus.PARTIALLY_FILLED
        if not late and target not in TRANSITIONS[self.status]:
            raise InvalidTransition(f"order {self.client_order_id}: {self.status.value} cannot take a fill")
        self.filled_quantity += fill.quantity
        self.notional_filled += fill.quantity * fill.price
        if not late:
            self.transition(target, fill.ts_ms)
        elif target is OrderStatus.FILLED:
            self.status = OrderStatus.FILLED
            self.updated_ms = fill.ts_ms

    def to_record(self) -> dict[str, object]:
        """Return a JSON-ready snapshot with exact decimal strings."""
        avg = self.average_fill_price
        return {
            "client_order_id": self.client_order_id,
            "venue": self.venue,
            "venue_order_id": self.venue_order_id,
            "status": self.status.value,
            "filled_quantity": str(self.filled_quantity),
            "average_fill_price": None if avg is None else str(avg),
            "reason": self.reason,
            **self.intent.to_record(),
        }


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of an order.

    ``price`` in quote currency, ``quantity`` in base units, ``fee`` in quote currency
    (positive = paid), ``ts_ms`` venue time in ms since the epoch.

    A fee the venue charged in another asset (Binance: the base asset received on a buy,
    or BNB) is valued in the quote currency in ``fee``, and recorded as charged in
    ``fee_asset`` / ``fee_in_asset`` (that asset's own units); ``fee_asset`` is ``""``
    when the fee was charged in the quote currency.
    """

    client_order_id: str
    fill_id: str
    symbol: str
    side: Side
    price: Decimal
    quantity: Decimal
    fee: Decimal
    liquidity: Liquidity
    ts_ms: int
    venue: str = ""
    fee_asset: str = ""
    fee_in_asset: Decimal = Decimal(0)

    @property
    def notional(self) -> Decimal:
        """Return price x quantity in quote currency."""
        return self.price * self.quantity

    def to_record(self) -> dict[str, object]:
        """Return a JSON-ready dict with exact decimal strings."""
        return {
            "ts_ms": self.ts_ms,
            "client_order_id": self.client_order_id,
            "fill_id": self.fill_id,
            "venue": self.venue,
            "symbol": self.symbol,
            "side": self.side.value,
            "price": str(self.price),
            "quantity": str(self.quantity),
            "fee": str(self.fee),
            "liquidity": self.liquidity.value,
            **({"fee_asset": self.fee_asset, "fee_in_asset": str(self.fee_in_asset)} if self.fee_asset else {}),
        }


@dataclass(frozen=True, slots=True)
class FillCorrection:
    """A venue's correction of an execution it reported before: ``fill`` replaces fill ``corrects_fill_id``.

    The venue says the execution ``corrects_fill_id`` of the order is void and ``fill``
    (its own venue trade id, price, quantity and fee) stands in its place. The book does
    not apply it: it is an anomaly that halts trading (docs/risk.md); see
    :class:`livegate.execution.reports.ReportApplier`.
    """

    client_order_id: str
    corrects_fill_id: str
    fill: Fill
    original: Fill | None = None  # the corrected fill as the venue reported it, when the adapter has it

    def describe(self) -> str:
        """Return what the venue corrected, both executions' side, quantity, price and fee in exact decimals."""
        f, was = self.fill, self.original
        text = (
            f"{f.venue or 'venue'} execution {f.fill_id} corrects {self.corrects_fill_id} of order "
            f"{self.client_order_id}: now {f.side.value} {f.quantity} {f.symbol} @ {f.price} fee {f.fee}"
        )
        if was is not None:
            text += f" (was {was.side.value} {was.quantity} @ {was.price} fee {was.fee})"
        return text


@dataclass(frozen=True, slots=True)
class OrderReport:
    """What a venue says about an order (status change without a fill).

    ``status`` is the venue's state mapped to ours; ``code``/``reason`` carry the venue's
    refusal code and message for rejects.
    """

    client_order_id: str
    status: OrderStatus
    ts_ms: int
    venue_order_id: str = ""
    filled_quantity: Decimal | None = None
    code: str = ""
    reason: str = ""
