"""Copies of a fold's parts that later events do not change (:meth:`livegate.ledger.fold.LedgerFold.fork`)."""

from __future__ import annotations

from collections.abc import MutableSequence
from typing import Any

from livegate.domain.orders import Order
from livegate.ledger.checkpoint_lists import ArchivedList

__all__ = ["copy_order", "copy_sequence"]


def copy_sequence(items: MutableSequence[Any]) -> MutableSequence[Any]:
    """Return an independent copy of a fold's list of immutable items (a checkpoint's archive stays unbuilt)."""
    return items.fork() if isinstance(items, ArchivedList) else list(items)


def copy_order(order: Order) -> Order:
    """Return a copy of ``order`` sharing its (immutable) intent."""
    copy = Order(order.client_order_id, order.intent, order.venue)
    copy.status, copy.filled_quantity, copy.notional_filled = order.status, order.filled_quantity, order.notional_filled
    copy.venue_order_id, copy.reason, copy.updated_ms = order.venue_order_id, order.reason, order.updated_ms
    return copy
