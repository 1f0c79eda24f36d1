"""Helpers of the fold checkpoint tests: the exact state of a fold, compared field by field."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from enum import Enum

from livegate.ledger.checkpoint_lists import ArchivedList
from livegate.portfolio import Portfolio


def exact_state(value: object) -> object:
    """Return a comparable picture of ``value`` with every field of every object (Decimals by value and text).

    Objects are walked through their dataclass fields or every ``__slots__`` entry of their
    classes, so a field a checkpoint forgot shows up as a difference. A :class:`Portfolio`
    is pictured by what it holds and answers (orders in creation order, positions, applied
    fill keys, working orders, aggregates), not by its lazily rebuilt caches; a checkpoint's
    archived list (:class:`ArchivedList`) as the list it stands for (reading it builds every item).
    """
    if isinstance(value, Decimal):
        return ("Decimal", str(value))
    if value is None or isinstance(value, str | int | float | Enum):
        return value
    if isinstance(value, Portfolio):
        symbols = sorted({*(p.symbol for p in value.positions()), *(o.symbol for o in value.all_orders())})
        return (
            "Portfolio",
            [exact_state(o) for o in value.all_orders()],
            [exact_state(p) for p in value.positions()],
            sorted(value.fill_keys()),
            sorted(o.client_order_id for o in value.working_orders()),
            value.working_count(),
            sorted(value.exposed_symbols()),
            [exact_state(x) for x in (value.realized_pnl(), value.fees(), value.turnover())],
            [(s, exact_state(_totals(value, s))) for s in symbols],
        )
    if isinstance(value, dict):
        return ("dict", [(exact_state(k), exact_state(v)) for k, v in value.items()])
    if isinstance(value, ArchivedList):  # a checkpoint's archive: pictured as the list it stands for
        return ("list", [exact_state(v) for v in value])
    if isinstance(value, list | tuple):
        return (type(value).__name__, [exact_state(v) for v in value])
    if isinstance(value, set | frozenset):
        return ("set", sorted(repr(exact_state(v)) for v in value))
    if dataclasses.is_dataclass(value):
        return (
            type(value).__name__,
            [(f.name, exact_state(getattr(value, f.name))) for f in dataclasses.fields(value)],
        )
    slots = [name for cls in type(value).__mro__ for name in getattr(cls, "__slots__", ())]
    if slots:
        return (type(value).__name__, [(name, exact_state(getattr(value, name))) for name in slots])
    raise TypeError(f"no exact picture for {type(value).__name__}")


def _totals(book: Portfolio, symbol: str) -> object:
    totals = book.working_totals(symbol)
    return [
        (side.quantity, side.markets, side.market_quantity, side.limit_notional, side.low, side.high)
        for side in (totals.buy, totals.sell)
    ] + [totals.high]
