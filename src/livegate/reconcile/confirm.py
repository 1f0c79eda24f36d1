"""Which differences a reconciliation counts now, and which it holds back until the next pass.

The venue's answers and its order and fill reports travel separately: an order that
filled or was cancelled a moment ago is gone from the venue's open orders (and its fill
already moved the balances) before its report reaches livegate. A difference that is real
is still there one interval later; one caused by a report in flight is not
(docs/recovery.md, "reconcile_drift.jsonl").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from decimal import Decimal

from livegate.reconcile.drift import DriftKind, DriftRecord

__all__ = ["CONFIRM_TRIGGERS", "DriftKey", "confirmed"]

#: Reconciliation triggers whose transient differences must be seen twice in a row to count.
CONFIRM_TRIGGERS = frozenset({"periodic", "reconnect"})
_TRANSIENT_KINDS = frozenset(
    {DriftKind.MISSING_INTERNAL, DriftKind.MISSING_VENUE, DriftKind.STATUS_MISMATCH, DriftKind.BALANCE_MISMATCH}
)

DriftKey = tuple[str, str, str]
"""(kind, symbol, client order id) of a difference: the same difference seen by two passes."""


def _key(record: DriftRecord) -> DriftKey:
    return (record.kind.value, record.symbol, record.client_order_id)


def _moved_by(record: DriftRecord, in_flight: Mapping[str, Decimal]) -> bool:
    moved = in_flight.get(record.symbol)
    return moved is not None and moved == Decimal(record.difference)


def confirmed(
    found: Sequence[DriftRecord], trigger: str, in_flight: Mapping[str, Decimal], suspects: Set[DriftKey]
) -> tuple[list[DriftRecord], frozenset[DriftKey]]:
    """Return the records of ``found`` that count now, and the suspects the next pass confirms.

    A periodic or reconnect pass holds back an order or balance difference beyond
    tolerance the first time (``suspects``: what the previous such pass held back). A
    position difference (what the caps are made of) counts at once, unless it is exactly
    what the venue's fills of livegate's own orders missing from the ledger moved
    (``in_flight``: signed base units per symbol, from this pass's fill read): then it is
    held back like them. A startup or operator pass counts every difference at once and
    clears the suspects.
    """
    if trigger not in CONFIRM_TRIGGERS:
        return list(found), frozenset()
    keys = frozenset(
        _key(r)
        for r in found
        if r.beyond_tolerance
        and not r.resolved
        and (r.kind in _TRANSIENT_KINDS or (r.kind is DriftKind.POSITION_MISMATCH and _moved_by(r, in_flight)))
    )
    held = keys - suspects
    return [r for r in found if _key(r) not in held], keys
