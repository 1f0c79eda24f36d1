"""Expected domain values written from ccxt's recorded unified outputs (``parsedResponse``).

These are the test's own statement of the mapping (ccxt status words to ours, contracts
to base units); they do not call the adapter's conversion code.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from livegate.domain.enums import OrderStatus, OrderType, Side
from livegate.domain.orders import OrderReport
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
