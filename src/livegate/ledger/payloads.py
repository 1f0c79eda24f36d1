"""Typed ledger payloads: one frozen dataclass per event kind the fold reads.

The ledger stores payloads as canonical JSON (their hashes must not change, see
:mod:`livegate.ledger.events`); :func:`decode` turns a stored payload back into its typed
value, so every reader (resume, export, reconciliation) reads the same fields the same
way. Money and quantities come back as ``Decimal`` from the exact strings the writer stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import TypeVar

from livegate.domain.enums import Liquidity, OrderType, Side, TimeInForce, TradingState
from livegate.domain.orders import Fill, OrderIntent
from livegate.ledger import events as ev

Payload = Mapping[str, object]
_E = TypeVar("_E", bound=Enum)


class PayloadError(ValueError):
    """A stored payload lacks a field or holds a value of the wrong type."""


def _str(payload: Payload, name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str):
        raise PayloadError(f"field {name!r} must be text, got {value!r}")
    return value


def _opt_str(payload: Payload, name: str) -> str:
    value = payload.get(name)
    return "" if value is None else str(value)


def _int(payload: Payload, name: str) -> int:
    value = payload.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise PayloadError(f"field {name!r} must be an integer, got {value!r}")
    return value


_SIDES: dict[object, Side] = {m.value: m for m in Side}  # keyed by object: a fast path looks any value up
_ORDER_TYPES: dict[object, OrderType] = {m.value: m for m in OrderType}
_TIFS: dict[object, TimeInForce] = {m.value: m for m in TimeInForce}
_LIQUIDITY: dict[object, Liquidity] = {m.value: m for m in Liquidity}


def _member(members: Mapping[object, _E], payload: Payload, name: str, enum: type[_E]) -> _E:
    """Return the enum member named by a text field (one dict lookup; what ``enum(value)`` returns)."""
    value = payload.get(name)
    member = members.get(value) if isinstance(value, str) else None
    if member is None:
        raise PayloadError(f"{_str(payload, name)!r} is not a valid {enum.__name__}")  # _str: not text at all
    return member


_FAST_MISS = (KeyError, TypeError, ValueError, ArithmeticError)
"""What a fast decode path meets on a payload it does not take as is: it then decodes field by field."""


def _text(value: object) -> str:
    """Return ``value`` when it is text (``str`` exactly); else raise ``TypeError`` (a fast path then steps aside)."""
    if type(value) is not str:
        raise TypeError(value)
    return value


def _decimal(payload: Payload, name: str) -> Decimal:
    value = payload.get(name)
    try:
        return Decimal(value if type(value) is str else str(value))
    except InvalidOperation as exc:
        raise PayloadError(f"field {name!r} must be a decimal string, got {value!r}") from exc


@dataclass(frozen=True, slots=True)
class SessionStarted:
    """``session_started``: identity of the run (inputs are content digests, issue 9 item 12)."""

    session_id: str
    mode: str
    config_hash: str
    inputs: tuple[str, ...]

    @classmethod
    def decode(cls, payload: Payload) -> SessionStarted:
        """Return the typed payload (raises :class:`PayloadError`)."""
        raw = payload.get("inputs")
        inputs = tuple(str(i) for i in raw) if isinstance(raw, list) else ()
        return cls(_str(payload, "session_id"), _str(payload, "mode"), _opt_str(payload, "config_hash"), inputs)


@dataclass(frozen=True, slots=True)
class IntentRecorded:
    """``intent``: the strategy's order intent and its client order id."""

    client_order_id: str
    intent: OrderIntent

    @classmethod
    def decode(cls, payload: Payload) -> IntentRecorded:
        """Return the typed payload (raises :class:`PayloadError`).

        A payload whose fields all have their plain types (text, ints, decimal text, the
        enum values) is read in one step; any other is read field by field, which gives
        the same value or names the bad field.
        """
        get = payload.get
        cid, symbol, quantity, price, strategy_id = (
            get("client_order_id"), get("symbol"), get("quantity"), get("price"), get("strategy_id")
        )  # fmt: skip
        seq, ts_ms = get("seq"), get("ts_ms")
        if (
            type(cid) is str and type(symbol) is str and type(quantity) is str and type(seq) is int
            and type(ts_ms) is int and (price is None or type(price) is str)
            and (strategy_id is None or type(strategy_id) is str)
        ):  # fmt: skip
            try:
                return cls(cid, OrderIntent(
                    symbol=symbol, side=_SIDES[get("side")], quantity=Decimal(quantity),
                    order_type=_ORDER_TYPES[get("order_type")], price=None if price is None else Decimal(price),
                    time_in_force=_TIFS[get("time_in_force")], post_only=get("post_only") is True,
                    reduce_only=get("reduce_only") is True, strategy_id="" if strategy_id is None else strategy_id,
                    seq=seq, ts_ms=ts_ms, outside_rth=get("outside_rth") is True,
                ))  # fmt: skip
            except _FAST_MISS:
                pass
        return cls._decode_fields(payload)

    @classmethod
    def _decode_fields(cls, payload: Payload) -> IntentRecorded:
        price = payload.get("price")
        try:
            intent = OrderIntent(
                symbol=_str(payload, "symbol"),
                side=_member(_SIDES, payload, "side", Side),
                quantity=_decimal(payload, "quantity"),
                order_type=_member(_ORDER_TYPES, payload, "order_type", OrderType),
                price=None if price is None else _decimal(payload, "price"),
                time_in_force=_member(_TIFS, payload, "time_in_force", TimeInForce),
                post_only=payload.get("post_only") is True,
                reduce_only=payload.get("reduce_only") is True,
                strategy_id=_opt_str(payload, "strategy_id"),
                seq=_int(payload, "seq"),
                ts_ms=_int(payload, "ts_ms"),
                outside_rth=payload.get("outside_rth") is True,
            )
        except ValueError as exc:
            raise PayloadError(str(exc)) from exc
        return cls(_str(payload, "client_order_id"), intent)


def _opt_decimal(payload: Payload, name: str) -> Decimal | None:
    return None if payload.get(name) is None else _decimal(payload, name)


@dataclass(frozen=True, slots=True)
class ArrivalQuote:
    """The quote a decision saw (issue 13): prices in quote currency, ``age_ms`` = decision time - quote event time."""

    bid: Decimal
    ask: Decimal
    mid: Decimal
    age_ms: int

    @classmethod
    def decode(cls, payload: object) -> ArrivalQuote | None:
        """Return the arrival quote of a ``decision`` payload's ``arrival`` (None when absent or null)."""
        if payload is None:
            return None
        if not isinstance(payload, Mapping):
            raise PayloadError(f"field 'arrival' must be an object or null, got {payload!r}")
        return cls(
            _decimal(payload, "bid"), _decimal(payload, "ask"), _decimal(payload, "mid"), _int(payload, "age_ms")
        )


@dataclass(frozen=True, slots=True)
class DecisionRecorded:
    """``decision``: approved or denied (with the denial code and detail), the routed venue, the arrival quote."""

    client_order_id: str
    approved: bool
    code: str
    detail: str
    venue: str
    arrival: ArrivalQuote | None = None

    @classmethod
    def decode(cls, payload: Payload) -> DecisionRecorded:
        """Return the typed payload (raises :class:`PayloadError`); plain fields at once (as ``intent``)."""
        get = payload.get
        cid, code, detail, venue, arrival = (
            get("client_order_id"), get("code"), get("detail"), get("venue"), get("arrival")
        )  # fmt: skip
        if (
            type(cid) is str and (code is None or type(code) is str) and (detail is None or type(detail) is str)
            and (venue is None or type(venue) is str)
        ):  # fmt: skip
            try:
                if arrival is None:
                    quote = None
                elif type(arrival) is not dict:
                    raise TypeError(arrival)  # any other mapping: read field by field
                else:
                    age_ms = arrival["age_ms"]
                    if type(age_ms) is not int:
                        raise TypeError(age_ms)
                    quote = ArrivalQuote(Decimal(_text(arrival["bid"])), Decimal(_text(arrival["ask"])),
                                         Decimal(_text(arrival["mid"])), age_ms)  # fmt: skip
                return cls(cid, get("approved") is True, "" if code is None else code,
                           "" if detail is None else detail, "" if venue is None else venue, quote)  # fmt: skip
            except _FAST_MISS:
                pass
        return cls._decode_fields(payload)

    @classmethod
    def _decode_fields(cls, payload: Payload) -> DecisionRecorded:
        return cls(
            _str(payload, "client_order_id"),
            payload.get("approved") is True,
            _opt_str(payload, "code"),
            _opt_str(payload, "detail"),
            _opt_str(payload, "venue"),
            ArrivalQuote.decode(payload.get("arrival")),
        )


@dataclass(frozen=True, slots=True)
class SubmitRequested:
    """``submit_requested``: written just before the venue call."""

    client_order_id: str
    venue: str

    @classmethod
    def decode(cls, payload: Payload) -> SubmitRequested:
        """Return the typed payload (raises :class:`PayloadError`)."""
        return cls(_str(payload, "client_order_id"), _opt_str(payload, "venue"))


@dataclass(frozen=True, slots=True)
class OrderReported:
    """``order_report``: a venue status (``status`` is an order status or ``cancel_rejected``)."""

    client_order_id: str
    status: str
    venue_order_id: str
    code: str
    reason: str

    @classmethod
    def decode(cls, payload: Payload) -> OrderReported:
        """Return the typed payload (raises :class:`PayloadError`); plain fields at once (as ``intent``)."""
        get = payload.get
        cid, status, venue_order_id, code, reason = (
            get("client_order_id"), get("status"), get("venue_order_id"), get("code"), get("reason")
        )  # fmt: skip
        if (
            type(cid) is str and type(status) is str and type(venue_order_id) is str and type(code) is str
            and type(reason) is str
        ):  # fmt: skip
            return cls(cid, status, venue_order_id, code, reason)
        return cls._decode_fields(payload)

    @classmethod
    def _decode_fields(cls, payload: Payload) -> OrderReported:
        return cls(
            _str(payload, "client_order_id"),
            _str(payload, "status"),
            _opt_str(payload, "venue_order_id"),
            _opt_str(payload, "code"),
            _opt_str(payload, "reason"),
        )


@dataclass(frozen=True, slots=True)
class FillRecorded:
    """``fill``: one execution, keyed by (client order id, venue trade id).

    ``arrival_mid`` (quote currency) and ``slippage_bps`` (positive = cost) are None for
    ledgers written before issue 13 and for fills of orders without an arrival quote.
    """

    fill: Fill
    arrival_mid: Decimal | None = None
    slippage_bps: Decimal | None = None

    @classmethod
    def decode(cls, payload: Payload) -> FillRecorded:
        """Return the typed payload (raises :class:`PayloadError`); plain fields at once (as ``intent``)."""
        get = payload.get
        cid, fill_id, symbol, ts_ms, venue = (
            get("client_order_id"),
            get("fill_id"),
            get("symbol"),
            get("ts_ms"),
            get("venue"),
        )
        arrival_mid, slippage_bps = get("arrival_mid"), get("slippage_bps")
        if (
            type(cid) is str and type(fill_id) is str and type(symbol) is str and type(ts_ms) is int
            and (venue is None or type(venue) is str) and (arrival_mid is None or type(arrival_mid) is str)
            and (slippage_bps is None or type(slippage_bps) is str)
        ):  # fmt: skip
            try:
                fill = Fill(
                    client_order_id=cid, fill_id=fill_id, symbol=symbol, side=_SIDES[get("side")],
                    price=Decimal(_text(get("price"))), quantity=Decimal(_text(get("quantity"))),
                    fee=Decimal(_text(get("fee"))), liquidity=_LIQUIDITY[get("liquidity")], ts_ms=ts_ms,
                    venue="" if venue is None else venue,
                )  # fmt: skip
                return cls(fill, None if arrival_mid is None else Decimal(arrival_mid),
                           None if slippage_bps is None else Decimal(slippage_bps))  # fmt: skip
            except _FAST_MISS:
                pass
        return cls._decode_fields(payload)

    @classmethod
    def _decode_fields(cls, payload: Payload) -> FillRecorded:
        try:
            fill = Fill(
                client_order_id=_str(payload, "client_order_id"),
                fill_id=_str(payload, "fill_id"),
                symbol=_str(payload, "symbol"),
                side=_member(_SIDES, payload, "side", Side),
                price=_decimal(payload, "price"),
                quantity=_decimal(payload, "quantity"),
                fee=_decimal(payload, "fee"),
                liquidity=_member(_LIQUIDITY, payload, "liquidity", Liquidity),
                ts_ms=_int(payload, "ts_ms"),
                venue=_opt_str(payload, "venue"),
            )
        except ValueError as exc:
            raise PayloadError(str(exc)) from exc
        return cls(fill, _opt_decimal(payload, "arrival_mid"), _opt_decimal(payload, "slippage_bps"))


@dataclass(frozen=True, slots=True)
class CancelRequested:
    """``cancel_requested``: a cancel was asked for (the venue says whether it happened)."""

    client_order_id: str
    reason: str

    @classmethod
    def decode(cls, payload: Payload) -> CancelRequested:
        """Return the typed payload (raises :class:`PayloadError`)."""
        return cls(_str(payload, "client_order_id"), _opt_str(payload, "reason"))


@dataclass(frozen=True, slots=True)
class TradingStateChanged:
    """``trading_state_changed``: the kill switch moved to ``state`` because of ``reason``."""

    state: TradingState
    reason: str

    @classmethod
    def decode(cls, payload: Payload) -> TradingStateChanged:
        """Return the typed payload (raises :class:`PayloadError`)."""
        try:
            state = TradingState(_str(payload, "state"))
        except ValueError as exc:
            raise PayloadError(str(exc)) from exc
        return cls(state, _opt_str(payload, "reason"))


@dataclass(frozen=True, slots=True)
class AnomalyRecorded:
    """``anomaly``: its kind (an :class:`~livegate.domain.enums.AnomalyKind` value) and detail."""

    kind: str
    detail: str

    @classmethod
    def decode(cls, payload: Payload) -> AnomalyRecorded:
        """Return the typed payload (raises :class:`PayloadError`)."""
        return cls(_opt_str(payload, "kind"), _opt_str(payload, "detail"))


@dataclass(frozen=True, slots=True)
class FillsMatched:
    """Where a reconciliation found the venue's fills and the ledger's equal (``reconciled`` field ``fills_matched``).

    ``ledger_fills``: how many of the ledger fold's applied fills (all venues, in fold
    order) it had compared; ``venue_cursor``: the venue's fill sequence it had read up to
    (:class:`~livegate.reconcile.fills.FillJournal`, 0 otherwise); ``venue_newest_ms``:
    the newest venue fill time it had seen (ms since the epoch; None: none).
    """

    ledger_fills: int
    venue_cursor: int
    venue_newest_ms: int | None

    @classmethod
    def decode(cls, raw: object) -> FillsMatched | None:
        """Return the typed field, None when absent (raises :class:`PayloadError`)."""
        if raw is None:
            return None
        if not isinstance(raw, Mapping):
            raise PayloadError(f"field 'fills_matched' must be an object, got {raw!r}")
        newest = raw.get("venue_newest_ms")
        if newest is not None:
            newest = _int(raw, "venue_newest_ms")
        return cls(_int(raw, "ledger_fills"), _int(raw, "venue_cursor"), newest)

    def to_record(self) -> dict[str, object]:
        """Return the JSON-ready field."""
        return {
            "ledger_fills": self.ledger_fills,
            "venue_cursor": self.venue_cursor,
            "venue_newest_ms": self.venue_newest_ms,
        }


@dataclass(frozen=True, slots=True)
class Reconciled:
    """``reconciled``: a reconciliation ran; ``balance_baseline`` is set by the first one that learned it.

    ``fills_matched`` is set when its fill comparison found both sides equal (issue 14
    item 7: a resume compares only the fills after it).
    """

    venue: str
    clean: bool
    balance_baseline: tuple[tuple[str, Decimal], ...] | None
    fills_matched: FillsMatched | None = None

    @classmethod
    def decode(cls, payload: Payload) -> Reconciled:
        """Return the typed payload (raises :class:`PayloadError`)."""
        raw = payload.get("balance_baseline")
        baseline = None
        if isinstance(raw, Mapping):
            baseline = tuple((str(c), _decimal(raw, str(c))) for c in raw)
        matched = FillsMatched.decode(payload.get("fills_matched"))
        return cls(_opt_str(payload, "venue"), payload.get("clean") is True, baseline, matched)


@dataclass(frozen=True, slots=True)
class SessionResumed:
    """``session_resumed``: a crashed run continued."""

    session_id: str

    @classmethod
    def decode(cls, payload: Payload) -> SessionResumed:
        """Return the typed payload (raises :class:`PayloadError`)."""
        return cls(_opt_str(payload, "session_id"))


@dataclass(frozen=True, slots=True)
class MarkoutRecorded:
    """``markout``: the mid ``horizon_ms`` after a fill, and the move in bps signed for the fill's side."""

    client_order_id: str
    fill_id: str
    symbol: str
    side: Side
    horizon_ms: int
    fill_ts_ms: int
    mid_at_fill: Decimal
    mid_after: Decimal
    markout_bps: Decimal

    @classmethod
    def decode(cls, payload: Payload) -> MarkoutRecorded:
        """Return the typed payload (raises :class:`PayloadError`); plain fields at once (as ``intent``)."""
        get = payload.get
        cid, fill_id, symbol, horizon_ms, fill_ts_ms = (
            get("client_order_id"), get("fill_id"), get("symbol"), get("horizon_ms"), get("fill_ts_ms")
        )  # fmt: skip
        if (
            type(cid) is str and type(fill_id) is str and type(symbol) is str and type(horizon_ms) is int
            and type(fill_ts_ms) is int
        ):  # fmt: skip
            try:
                return cls(cid, fill_id, symbol, _SIDES[get("side")], horizon_ms, fill_ts_ms,
                           Decimal(_text(get("mid_at_fill"))), Decimal(_text(get("mid_after"))),
                           Decimal(_text(get("markout_bps"))))  # fmt: skip
            except _FAST_MISS:
                pass
        return cls._decode_fields(payload)

    @classmethod
    def _decode_fields(cls, payload: Payload) -> MarkoutRecorded:
        try:
            side = Side(_str(payload, "side"))
        except ValueError as exc:
            raise PayloadError(str(exc)) from exc
        return cls(
            _str(payload, "client_order_id"),
            _str(payload, "fill_id"),
            _str(payload, "symbol"),
            side,
            _int(payload, "horizon_ms"),
            _int(payload, "fill_ts_ms"),
            _decimal(payload, "mid_at_fill"),
            _decimal(payload, "mid_after"),
            _decimal(payload, "markout_bps"),
        )


@dataclass(frozen=True, slots=True)
class SessionEnded:
    """``session_ended``: the run ended for ``reason``."""

    reason: str

    @classmethod
    def decode(cls, payload: Payload) -> SessionEnded:
        """Return the typed payload (raises :class:`PayloadError`)."""
        return cls(_opt_str(payload, "reason"))


TypedPayload = (
    SessionStarted
    | IntentRecorded
    | DecisionRecorded
    | SubmitRequested
    | OrderReported
    | FillRecorded
    | CancelRequested
    | TradingStateChanged
    | AnomalyRecorded
    | Reconciled
    | SessionResumed
    | SessionEnded
    | MarkoutRecorded
)

_DECODERS: dict[str, Callable[[Payload], TypedPayload]] = {
    ev.SESSION_STARTED: SessionStarted.decode,
    ev.INTENT: IntentRecorded.decode,
    ev.DECISION: DecisionRecorded.decode,
    ev.SUBMIT_REQUESTED: SubmitRequested.decode,
    ev.ORDER_REPORT: OrderReported.decode,
    ev.FILL: FillRecorded.decode,
    ev.CANCEL_REQUESTED: CancelRequested.decode,
    ev.TRADING_STATE_CHANGED: TradingStateChanged.decode,
    ev.ANOMALY: AnomalyRecorded.decode,
    ev.RECONCILED: Reconciled.decode,
    ev.SESSION_RESUMED: SessionResumed.decode,
    ev.SESSION_ENDED: SessionEnded.decode,
    ev.MARKOUT: MarkoutRecorded.decode,
}


def decode(kind: str, payload: Payload) -> TypedPayload | None:
    """Return the typed payload of an event, or None for a kind this build does not read.

    Raises
    ------
    PayloadError
        If a known kind's payload lacks a field or holds a wrong type.
    """
    decoder = _DECODERS.get(kind)
    return None if decoder is None else decoder(payload)
