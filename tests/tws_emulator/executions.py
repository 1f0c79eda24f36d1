"""The emulator's executions: the fill record, IBKR Fixed commissions, and their wire messages.

``execDetails`` (11) and ``commissionReport`` (59) fields follow ib_async's decoder for
server version 176 (tests/contract/tws_server.py). Nothing of livegate is imported: this
is the venue.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from tests.contract.tws_server import ACCOUNT, TwsLoopback

__all__ = ["Execution", "commission", "commission_fields", "exec_fields"]

_FEE_PER_SHARE = Decimal("0.005")
_MIN_FEE = Decimal("1.00")
_CENT = Decimal("0.01")


def commission(shares: Decimal) -> Decimal:
    """Return IBKR Fixed's commission of a fill of ``shares``: 0.005 USD a share, at least 1 USD."""
    return max(_MIN_FEE, (shares * _FEE_PER_SHARE).quantize(_CENT, ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class Execution:
    """One fill the emulator made."""

    exec_id: str
    perm_id: int
    order_ref: str
    symbol: str
    side: str  # BOT / SLD
    shares: Decimal
    price: Decimal
    commission: Decimal
    client_id: int
    time: str


def exec_fields(order_id: int, req_id: int, e: Execution) -> list[object]:
    """Return the ``execDetails`` (11) fields of ``e`` (``req_id`` -1: a live fill)."""
    contract = TwsLoopback._contract(e.symbol, with_exchange=False)[:7]
    return [
        11, req_id, order_id, *contract, "ISLAND", "USD", e.symbol, "NMS", e.exec_id, e.time, ACCOUNT,
        "ISLAND", e.side, e.shares, e.price, e.perm_id, e.client_id, 0, e.shares, e.price, e.order_ref,
        "", "", "", 2,
    ]  # fmt: skip


def commission_fields(e: Execution) -> list[object]:
    """Return the ``commissionReport`` (59) fields of ``e`` (no yield, no realized PnL)."""
    return [59, 1, e.exec_id, e.commission, "USD", "1.7976931348623157E308", "1.7976931348623157E308", ""]
