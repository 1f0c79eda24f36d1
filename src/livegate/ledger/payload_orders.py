"""Typed payloads of the order flow, one frozen dataclass per event kind.

The kinds: ``intent``, ``decision``, ``submit_requested``, ``order_report``, ``fill``,
``cancel_requested`` and ``markout`` (:func:`livegate.ledger.payloads.decode` picks the
dataclass). Plain payloads are read in one step; any other field by field, which gives the
same value or names the bad field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from livegate.domain.enums import Liquidity, OrderType, Side, TimeInForce
from livegate.domain.orders import Fill, OrderIntent
from livegate.ledger.payload_fields import (
    _FAST_MISS,
    _LIQUIDITY,
    _ORDER_TYPES,
    _SIDES,
    _TIFS,
    Payload,
    PayloadError,
    _decimal,
    _int,
    _member,
    _opt_decimal,
    _opt_str,
    _str,
    _text,
)


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
