"""Alpaca ``FILL`` account activities (``GET /v2/account/activities/FILL``) as livegate fills.

An activity body (Alpaca Trading API "Account Activities", trade activity) carries ``id``
(``<transaction time>::<execution id>``), ``transaction_time``, ``price``, ``qty``,
``side``, ``symbol`` and ``order_id``, but no client order id: the adapter maps
``order_id`` to it. The fill id is the execution id after ``::``, the same id the
``trade_updates`` stream reports as ``execution_id``, so a fill seen on both paths is
counted once.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from livegate.domain.enums import Liquidity, Side
from livegate.domain.orders import Fill
from livegate.venues.alpaca.mapping import parse_ts_ms

__all__ = ["fill_from_activity"]


def fill_from_activity(raw: Mapping[str, Any], venue: str, client_order_ids: Mapping[str, str]) -> Fill:
    """Return the fill of one ``FILL`` activity; the client order id comes from ``client_order_ids`` by order id.

    Raises
    ------
    KeyError, ValueError, ArithmeticError
        If a field is missing or not a number.
    """
    activity_id = str(raw["id"])
    order_id = str(raw["order_id"])
    return Fill(
        client_order_id=client_order_ids.get(order_id, ""),
        fill_id=activity_id.rpartition("::")[2] or activity_id,
        symbol=str(raw["symbol"]),
        side=Side(str(raw["side"])),
        price=Decimal(str(raw["price"])),
        quantity=Decimal(str(raw["qty"])),
        fee=Decimal(0),
        liquidity=Liquidity.TAKER,
        ts_ms=parse_ts_ms(str(raw.get("transaction_time", ""))),
        venue=venue,
    )
