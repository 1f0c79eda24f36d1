"""Stable enumerations shared by every layer: sides, order states, denial codes, modes."""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    """Order or trade side; for trades it is the aggressor's side."""

    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        """Return +1 for buy, -1 for sell."""
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        """Return the other side."""
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    """Order type."""

    LIMIT = "limit"
    MARKET = "market"


class TimeInForce(StrEnum):
    """Time in force: good-till-cancelled or immediate-or-cancel."""

    GTC = "gtc"
    IOC = "ioc"


class OrderStatus(StrEnum):
    """Order lifecycle states (see :mod:`livegate.domain.orders` for transitions)."""

    NEW = "new"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCEL_PENDING = "cancel_pending"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        """Return True when no further transition is possible."""
        return self in _TERMINAL

    @property
    def is_working(self) -> bool:
        """Return True when the order may still fill at the venue."""
        return self in _WORKING


_TERMINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED})
_WORKING = frozenset(
    {
        OrderStatus.SUBMITTED,
        OrderStatus.ACCEPTED,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.CANCEL_PENDING,
    }
)


class Liquidity(StrEnum):
    """Whether a fill added (maker) or removed (taker) liquidity."""

    MAKER = "maker"
    TAKER = "taker"


class TradingState(StrEnum):
    """Latched trading state of the kill switch (docs/architecture.md §3.7)."""

    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"


class AnomalyKind(StrEnum):
    """Kinds of the ``anomaly`` ledger event; :data:`livegate.risk.triggers.ANOMALY_RESPONSES` maps each to a response.

    A ``StrEnum`` member is a ``str``, so ledger payloads and telemetry carry the plain
    value. Never rename a member (old ledgers hold the values); append new ones and give
    each a row in the response table.
    """

    # storage
    LEDGER_WRITE_FAILED = "ledger_write_failed"
    TRADING_STATE_PERSIST_FAILED = "trading_state_persist_failed"
    SESSION_LOCK_FAILED = "session_lock_failed"
    # the book contradicts itself
    INVARIANT_VIOLATION = "invariant_violation"
    # venue errors (counted in the ``venue_errors`` window)
    VENUE_FATAL = "venue_fatal"
    AMBIGUOUS_SUBMIT = "ambiguous_submit"
    AMBIGUOUS_RESEND = "ambiguous_resend"
    AMBIGUOUS_UNRESOLVED = "ambiguous_unresolved"
    CANCEL_FAILED = "cancel_failed"
    LOOKUP_FAILED = "lookup_failed"
    # facts adopted from the venue, recorded
    RESEND_AFTER_LOOKUP = "resend_after_lookup"
    UNRESOLVED_AFTER_RESEND = "unresolved_after_resend"
    FILLS_ADOPTED = "fills_adopted"
    FILLS_UNKNOWN = "fills_unknown"
    #: the venue corrected an execution it reported before (IBKR ``execId`` ``.02`` for ``.01``)
    FILL_CORRECTED = "fill_corrected"
    # reconciliation and streams
    RECONCILE_DRIFT = "reconcile_drift"
    RECONCILE_INCOMPLETE = "reconcile_incomplete"
    STREAM_INTERRUPTED = "stream_interrupted"
    # the kill side
    CANCEL_ALL_UNCONFIRMED = "cancel_all_unconfirmed"
    OPEN_ORDERS_UNKNOWN = "open_orders_unknown"
    FLATTEN_DENIED = "flatten_denied"
    # a session's run failed
    STRATEGY_ERROR = "strategy_error"
    STRATEGY_TIMEOUT = "strategy_timeout"
    STORAGE_FAILED = "storage_failed"
    TIMER_FAILED = "timer_failed"
    SESSION_ERROR = "session_error"


class Mode(StrEnum):
    """Run mode, resolved once at start (docs/architecture.md §3.2)."""

    SHADOW = "shadow"
    PAPER = "paper"
    TESTNET = "testnet"
    CANARY = "canary"
    LIVE = "live"

    @property
    def is_real(self) -> bool:
        """Return True for modes that talk to a real venue and need credentials."""
        return self in (Mode.TESTNET, Mode.CANARY, Mode.LIVE)


class VenueHealth(StrEnum):
    """Health of a venue as judged by the tripwires."""

    HEALTHY = "healthy"
    DISABLED = "disabled"


class DenialCode(StrEnum):
    """Stable denial codes (docs/architecture.md §4); they appear verbatim in ledger, telemetry and metrics.

    Never rename or remove a member: append new ones.
    """

    # structural checks
    UNKNOWN_SYMBOL = "UNKNOWN_SYMBOL"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    INVALID_PRICE = "INVALID_PRICE"
    TICK_SIZE = "TICK_SIZE"
    LOT_SIZE = "LOT_SIZE"
    MIN_NOTIONAL = "MIN_NOTIONAL"
    INVALID_ORDER = "INVALID_ORDER"
    # mode and trading state
    MODE_GATE = "MODE_GATE"
    HALTED = "HALTED"
    REDUCING = "REDUCING"
    RECONCILING = "RECONCILING"
    # market-data tripwires
    NO_QUOTE = "NO_QUOTE"
    STALE_QUOTE = "STALE_QUOTE"
    BAD_QUOTE = "BAD_QUOTE"
    WIDE_SPREAD = "WIDE_SPREAD"
    MARKET_CLOSED = "MARKET_CLOSED"
    VENUE_DISABLED = "VENUE_DISABLED"
    # limits
    ORDER_NOTIONAL_CAP = "ORDER_NOTIONAL_CAP"
    SYMBOL_NOTIONAL_CAP = "SYMBOL_NOTIONAL_CAP"
    GROSS_NOTIONAL_CAP = "GROSS_NOTIONAL_CAP"
    DAILY_TURNOVER_CAP = "DAILY_TURNOVER_CAP"
    DAILY_ORDER_COUNT_CAP = "DAILY_ORDER_COUNT_CAP"
    OPEN_ORDERS_CAP = "OPEN_ORDERS_CAP"
    POSITIONS_CAP = "POSITIONS_CAP"
    NOT_ALLOWLISTED = "NOT_ALLOWLISTED"
    PRICE_BAND = "PRICE_BAND"
    DUPLICATE_INTENT = "DUPLICATE_INTENT"
    ORDER_RATE = "ORDER_RATE"
    DAILY_LOSS_LIMIT = "DAILY_LOSS_LIMIT"
    DRAWDOWN_LIMIT = "DRAWDOWN_LIMIT"
    REDUCE_ONLY_VIOLATION = "REDUCE_ONLY_VIOLATION"
    UNKNOWN_PRICE = "UNKNOWN_PRICE"
    UNKNOWN_POSITION = "UNKNOWN_POSITION"
    CANARY_RAMP_CAP = "CANARY_RAMP_CAP"
    # US equities (docs/venues_equities.md "Equity gates")
    OUTSIDE_RTH = "OUTSIDE_RTH"
    SHORT_NOT_ALLOWED = "SHORT_NOT_ALLOWED"
    FRACTIONAL_NOT_ALLOWED = "FRACTIONAL_NOT_ALLOWED"
    PATTERN_DAY_TRADER = "PATTERN_DAY_TRADER"
    # fail closed
    GATE_ERROR = "GATE_ERROR"
