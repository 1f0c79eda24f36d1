"""Pure translations between Alpaca's JSON (``raw_data=True``) and livegate domain values.

Alpaca sends decimals as strings in REST and trade-update bodies; they are read with
:class:`~decimal.Decimal` directly. Market-data frames carry msgpack floats, read through
their shortest ``repr`` so ``64625.4`` stays ``Decimal("64625.4")``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from livegate.domain.enums import Liquidity, OrderStatus, OrderType, Side
from livegate.domain.instruments import Instrument
from livegate.domain.market import Quote, Trade
from livegate.domain.orders import Fill, OrderReport
from livegate.domain.snapshots import BalanceSnapshot, PositionSnapshot, VenueOrderSnapshot

__all__ = [
    "ALPACA_STATUS",
    "STOCK_LOT_SIZE",
    "STOCK_TICK_SIZE",
    "balance_from_account",
    "instrument_from_asset",
    "market_data_from_frame",
    "order_report",
    "order_snapshot",
    "order_submitted_ms",
    "parse_ts_ms",
    "position_from_json",
    "trade_update_report",
]

S = OrderStatus

#: Alpaca order status → ours (docs.alpaca.markets, "Orders", order lifecycle).
#: ``pending_new``/``accepted``/``held`` may still be rejected, so they stay SUBMITTED;
#: ``new`` means routed and working. Statuses where the order keeps working map to ACCEPTED.
ALPACA_STATUS: dict[str, OrderStatus] = {
    "pending_new": S.SUBMITTED,
    "accepted": S.SUBMITTED,
    "accepted_for_bidding": S.SUBMITTED,
    "held": S.SUBMITTED,
    "new": S.ACCEPTED,
    "done_for_day": S.ACCEPTED,
    "stopped": S.ACCEPTED,
    "suspended": S.ACCEPTED,
    "calculated": S.ACCEPTED,
    "pending_replace": S.ACCEPTED,
    "partially_filled": S.PARTIALLY_FILLED,
    "filled": S.FILLED,
    "pending_cancel": S.CANCEL_PENDING,
    "canceled": S.CANCELLED,
    "replaced": S.CANCELLED,
    "expired": S.EXPIRED,
    "rejected": S.REJECTED,
}

#: Trade-update events that change an order's state without a fill; fill events become
#: :class:`Fill`; the rest (``replaced``, ``order_cancel_rejected``, ...) are not reported.
_EVENT_STATUS: dict[str, OrderStatus] = {
    "pending_new": S.SUBMITTED,
    "new": S.ACCEPTED,
    "pending_cancel": S.CANCEL_PENDING,
    "canceled": S.CANCELLED,
    "expired": S.EXPIRED,
    "rejected": S.REJECTED,
}

#: US equities: one cent (SEC Reg NMS Rule 612 allows sub-penny only below $1; a cent is
#: a valid increment at every price, so the coarser grid is always accepted).
STOCK_TICK_SIZE = Decimal("0.01")
#: US equities: whole shares. Alpaca takes fractional quantities only on market or DAY
#: limit orders, and livegate sends GTC/IOC, so fractional shares are not used.
STOCK_LOT_SIZE = Decimal(1)


def parse_ts_ms(text: str | None) -> int:
    """Return ms since the epoch of an RFC 3339 time with any number of fraction digits.

    ``"2026-09-18T13:24:50.019957863Z"`` → ``1789737890019``; ``None`` or ``""`` → 0.
    """
    if not text:
        return 0
    body, offset = text, "+00:00"
    if body.endswith("Z"):
        body = body[:-1]
    elif len(body) > 6 and body[-6] in "+-" and body[-3] == ":":
        body, offset = body[:-6], body[-6:]
    if "." in body:
        head, frac = body.split(".", 1)
        body = f"{head}.{(frac + '000000')[:6]}"
    parsed = datetime.fromisoformat(body + offset).astimezone(UTC)
    return _exact_ms(parsed)


def _exact_ms(moment: datetime) -> int:
    whole = int(moment.replace(microsecond=0).timestamp())
    return whole * 1000 + moment.microsecond // 1000


def _dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return Decimal(str(value))


def _status(raw: Mapping[str, Any]) -> OrderStatus:
    # An unknown status is treated as still working (fail closed: never assume it is gone).
    return ALPACA_STATUS.get(str(raw.get("status", "")), S.SUBMITTED)


def _order_ts_ms(raw: Mapping[str, Any]) -> int:
    return parse_ts_ms(raw.get("updated_at") or raw.get("submitted_at") or raw.get("created_at"))


def order_submitted_ms(raw: Mapping[str, Any]) -> int:
    """Return when Alpaca took the order (``submitted_at``, else ``created_at``), ms since the epoch."""
    return parse_ts_ms(raw.get("submitted_at") or raw.get("created_at"))


def order_report(raw: Mapping[str, Any]) -> OrderReport:
    """Return the report of an Alpaca order body (``POST /v2/orders`` answer and friends)."""
    return OrderReport(
        client_order_id=str(raw.get("client_order_id", "")),
        status=_status(raw),
        ts_ms=_order_ts_ms(raw),
        venue_order_id=str(raw.get("id", "")),
        filled_quantity=_dec(raw.get("filled_qty")) or Decimal(0),
    )


def order_snapshot(raw: Mapping[str, Any]) -> VenueOrderSnapshot:
    """Return the snapshot of an Alpaca order body."""
    order_type = OrderType.MARKET if str(raw.get("type", raw.get("order_type"))) == "market" else OrderType.LIMIT
    return VenueOrderSnapshot(
        client_order_id=str(raw.get("client_order_id", "")),
        venue_order_id=str(raw.get("id", "")),
        symbol=str(raw["symbol"]),
        side=Side(str(raw["side"])),
        order_type=order_type,
        quantity=_dec(raw.get("qty")) or Decimal(0),
        price=_dec(raw.get("limit_price")),
        filled_quantity=_dec(raw.get("filled_qty")) or Decimal(0),
        status=_status(raw),
        ts_ms=_order_ts_ms(raw),
        average_fill_price=_dec(raw.get("filled_avg_price")),
    )


def trade_update_report(data: Mapping[str, Any], venue: str) -> OrderReport | Fill | None:
    """Translate the ``data`` of a ``trade_updates`` frame; None for events we do not report.

    ``fill``/``partial_fill`` become a :class:`Fill` of that execution (``price``, ``qty``,
    ``execution_id``, ``timestamp``). Alpaca reports neither fees nor liquidity in the
    stream: stock trades are commission-free (regulatory fees are booked later as account
    activities) and crypto fees are taken from the received asset, so ``fee`` is 0 and
    liquidity is reported as taker.
    """
    event = str(data.get("event", ""))
    order = data.get("order") or {}
    cid = str(order.get("client_order_id", ""))
    ts_ms = parse_ts_ms(data.get("timestamp") or data.get("at"))
    if event in ("fill", "partial_fill"):
        price, qty = _dec(data.get("price")), _dec(data.get("qty"))
        if price is None or qty is None:
            raise ValueError(f"alpaca {event} event without price/qty for {cid}")
        return Fill(
            client_order_id=cid,
            fill_id=str(data.get("execution_id", "")),
            symbol=str(order.get("symbol", "")),
            side=Side(str(order.get("side"))),
            price=price,
            quantity=qty,
            fee=Decimal(0),
            liquidity=Liquidity.TAKER,
            ts_ms=ts_ms,
            venue=venue,
        )
    status = _EVENT_STATUS.get(event)
    if status is None:
        return None
    return OrderReport(
        client_order_id=cid,
        status=status,
        ts_ms=ts_ms,
        venue_order_id=str(order.get("id", "")),
        filled_quantity=_dec(order.get("filled_qty")) or Decimal(0),
    )


def position_from_json(raw: Mapping[str, Any]) -> PositionSnapshot:
    """Return a signed position from an Alpaca position body (short ⇒ negative)."""
    qty = _dec(raw.get("qty")) or Decimal(0)
    if str(raw.get("side", "long")) == "short" and qty > 0:
        qty = -qty
    return PositionSnapshot(symbol=str(raw["symbol"]), quantity=qty, average_price=_dec(raw.get("avg_entry_price")))


def balance_from_account(raw: Mapping[str, Any]) -> BalanceSnapshot:
    """Return the cash balance of an Alpaca account body.

    ``total`` is ``cash``; ``free`` is ``non_marginable_buying_power`` (cash not lent on
    margin), falling back to ``cash``, so margin buying power never inflates what is free.
    """
    cash = _dec(raw.get("cash")) or Decimal(0)
    free = _dec(raw.get("non_marginable_buying_power"))
    return BalanceSnapshot(currency=str(raw.get("currency", "USD")), total=cash, free=cash if free is None else free)


def instrument_from_asset(raw: Mapping[str, Any], venue: str) -> Instrument:
    """Return the instrument of an Alpaca asset body.

    Crypto: ``price_increment`` tick, ``min_trade_increment`` lot, ``min_order_size``
    minimum; equities: :data:`STOCK_TICK_SIZE` and :data:`STOCK_LOT_SIZE`, one share
    minimum. Alpaca publishes no minimum notional for either.
    """
    symbol = str(raw["symbol"])
    if str(raw.get("class", "")) == "crypto":
        base, _, quote = symbol.partition("/")
        return Instrument(
            symbol=symbol,
            venue=venue,
            tick_size=Decimal(str(raw["price_increment"])),
            lot_size=Decimal(str(raw["min_trade_increment"])),
            min_notional=Decimal(0),
            quote_currency=quote or "USD",
            base_currency=base,
            min_quantity=Decimal(str(raw.get("min_order_size") or 0)),
        )
    return Instrument(
        symbol=symbol,
        venue=venue,
        tick_size=STOCK_TICK_SIZE,
        lot_size=STOCK_LOT_SIZE,
        min_notional=Decimal(0),
        quote_currency="USD",
        base_currency=symbol,
        min_quantity=STOCK_LOT_SIZE,
    )


def _float_dec(value: Any) -> Decimal:
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))


def _frame_ts_ms(value: Any) -> int:
    if isinstance(value, str):
        return parse_ts_ms(value)
    to_unix_nano = getattr(value, "to_unix_nano", None)  # msgpack.Timestamp
    if to_unix_nano is not None:
        return int(to_unix_nano()) // 1_000_000
    if isinstance(value, datetime):
        return _exact_ms(value.astimezone(UTC))
    return 0


def market_data_from_frame(
    frame: Mapping[str, Any], venue: str, last_quotes: dict[str, Quote], recv_ns: int
) -> Quote | Trade | None:
    """Translate one market-data frame (``T`` = ``q`` quote, ``t`` trade); None for others.

    Crypto trades carry the taker side in ``tks`` (``B``/``S``). Stock trades do not: the
    side is inferred by the quote rule against the symbol's last quote (at or above the mid
    → buy), defaulting to buy before the first quote. Sizes are passed through as Alpaca
    sends them.
    """
    kind = frame.get("T")
    symbol = str(frame.get("S", ""))
    ts_ms = _frame_ts_ms(frame.get("t"))
    if kind == "q":
        quote = Quote(
            symbol=symbol,
            bid_price=_float_dec(frame["bp"]),
            bid_size=_float_dec(frame["bs"]),
            ask_price=_float_dec(frame["ap"]),
            ask_size=_float_dec(frame["as"]),
            ts_event_ms=ts_ms,
            ts_recv_ns=recv_ns,
            venue=venue,
        )
        last_quotes[symbol] = quote
        return quote
    if kind == "t":
        price = _float_dec(frame["p"])
        taker = frame.get("tks")
        if taker in ("B", "S"):
            side = Side.BUY if taker == "B" else Side.SELL
        else:
            last = last_quotes.get(symbol)
            side = Side.SELL if last is not None and price < last.mid_price else Side.BUY
        return Trade(
            symbol=symbol,
            price=price,
            size=_float_dec(frame["s"]),
            aggressor_side=side,
            trade_id=str(frame.get("i", "")),
            ts_event_ms=ts_ms,
            ts_recv_ns=recv_ns,
            venue=venue,
        )
    return None
