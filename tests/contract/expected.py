"""Expected domain values written from ccxt's recorded unified outputs (``parsedResponse``).

These are the test's own statement of the mapping (ccxt status words to ours, contracts
to base units); they do not call the adapter's conversion code.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from livegate.domain.enums import Liquidity, OrderStatus, OrderType, Side
from livegate.domain.instruments import Instrument
from livegate.domain.market import Quote, Trade
from livegate.domain.orders import Fill, OrderReport
from livegate.domain.snapshots import BalanceSnapshot, PositionSnapshot, VenueOrderSnapshot

STATUS = {
    "open": OrderStatus.ACCEPTED,
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELLED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
    None: OrderStatus.ACCEPTED,
}


def d(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def status_of(parsed: dict[str, Any]) -> OrderStatus:
    status = STATUS[parsed.get("status")]
    if status is OrderStatus.ACCEPTED and (parsed.get("filled") or 0) > 0:
        return OrderStatus.PARTIALLY_FILLED
    return status


def report_from(parsed: dict[str, Any], cid: str, status: OrderStatus | None = None) -> OrderReport:
    return OrderReport(
        client_order_id=cid,
        status=status or status_of(parsed),
        ts_ms=0,
        venue_order_id=str(parsed.get("id") or ""),
        filled_quantity=d(parsed.get("filled")),
    )


def snapshot_from(parsed: dict[str, Any], cid: str, contract_size: Decimal = Decimal(1)) -> VenueOrderSnapshot:
    return VenueOrderSnapshot(
        client_order_id=cid,
        venue_order_id=str(parsed["id"]),
        symbol=parsed["symbol"],
        side=Side(parsed["side"]),
        order_type=OrderType.MARKET if parsed["type"] == "market" else OrderType.LIMIT,
        quantity=Decimal(str(parsed["amount"])) * contract_size,
        price=d(parsed.get("price")),
        filled_quantity=Decimal(str(parsed.get("filled") or 0)) * contract_size,
        status=status_of(parsed),
        ts_ms=int(parsed.get("lastUpdateTimestamp") or parsed.get("timestamp") or 0),
        average_fill_price=d(parsed.get("average")),
    )


def positions_from(parsed: list[dict[str, Any]]) -> list[PositionSnapshot]:
    out = []
    for p in parsed:
        if not p.get("contracts"):
            continue
        qty = Decimal(str(p["contracts"])) * Decimal(str(p.get("contractSize") or 1))
        out.append(PositionSnapshot(p["symbol"], -qty if p.get("side") == "short" else qty, d(p.get("entryPrice"))))
    return out


def balances_from(parsed: dict[str, Any]) -> list[BalanceSnapshot]:
    return [
        BalanceSnapshot(cur, Decimal(str(total)), Decimal(str(parsed["free"].get(cur) or 0)))
        for cur, total in sorted(parsed["total"].items())
        if total is not None
    ]


def fill_from(parsed: dict[str, Any], cid: str, quote_currency: str, venue: str) -> Fill:
    """A fill from a recorded unified trade: the fee counts only when charged in the quote currency."""
    fees = parsed.get("fees") or ([parsed["fee"]] if parsed.get("fee") else [])
    fee = sum((Decimal(str(f["cost"])) for f in fees if f and f.get("currency") == quote_currency), Decimal(0))
    return Fill(
        client_order_id=cid,
        fill_id=str(parsed["id"]),
        symbol=parsed["symbol"],
        side=Side(parsed["side"]),
        price=Decimal(str(parsed["price"])),
        quantity=Decimal(str(parsed["amount"])),
        fee=fee,
        liquidity=Liquidity.MAKER if parsed.get("takerOrMaker") == "maker" else Liquidity.TAKER,
        ts_ms=int(parsed["timestamp"]),
        venue=venue,
    )


def instrument_from(market: dict[str, Any], venue: str) -> Instrument:
    """An instrument from a recorded unified market whose precision is a tick size (Kraken, Coinbase, Paradex)."""
    size = Decimal(str(market.get("contractSize") or 1))
    limits = market.get("limits") or {}
    return Instrument(
        symbol=market["symbol"],
        venue=venue,
        tick_size=Decimal(str(market["precision"]["price"])).normalize(),
        lot_size=Decimal(str(market["precision"]["amount"])).normalize() * size,
        min_notional=Decimal(str((limits.get("cost") or {}).get("min") or 0)),
        quote_currency=market.get("settle") or market["quote"],
        base_currency=market["base"],
        min_quantity=Decimal(str((limits.get("amount") or {}).get("min") or 0)) * size,
    )


def quote_from(parsed: dict[str, Any], venue: str, now_ms: int) -> Quote:
    """A quote from a recorded unified ticker (venue time, else ``now_ms``); ``ts_recv_ns`` is not compared."""
    return Quote(
        symbol=parsed["symbol"],
        bid_price=Decimal(str(parsed["bid"])),
        bid_size=Decimal(str(parsed.get("bidVolume") or 0)),
        ask_price=Decimal(str(parsed["ask"])),
        ask_size=Decimal(str(parsed.get("askVolume") or 0)),
        ts_event_ms=int(parsed.get("timestamp") or now_ms),
        venue=venue,
    )


def trade_from(parsed: dict[str, Any], venue: str) -> Trade:
    """A public trade from a recorded unified trade; ``ts_recv_ns`` is not compared."""
    return Trade(
        symbol=parsed["symbol"],
        price=Decimal(str(parsed["price"])),
        size=Decimal(str(parsed["amount"])),
        aggressor_side=Side(parsed["side"]),
        trade_id=str(parsed["id"]),
        ts_event_ms=int(parsed["timestamp"]),
        venue=venue,
    )
