"""Inventory livegate did not make, found at startup: adopted as the starting inventory, or the start refused.

A venue account rarely starts empty: a USD-M position opened by hand, BTC bought
before livegate was installed, the fills of an earlier livegate session's orders
(:mod:`livegate.reconcile.leftovers`). A new session knows none of it, so the first
comparison would read every such position as ``position_mismatch`` drift and latch
REDUCING with no word of why. Instead, before the startup reconciliation and per
``[reconcile] on_unknown_inventory``:

``adopt`` (default)
    the inventory becomes the session's starting inventory: a derivatives position is
    added to what the reconciler expects at the venue on top of livegate's own position
    (:attr:`Reconciler.position_baseline`); a spot balance is part of the balance baseline
    the first reconciliation learns. It is recorded in the ledger (one
    ``inventory_adopted`` event: positions, base-asset balances, and the fills of earlier
    livegate sessions' orders, imported once by venue trade id) and as resolved drift
    records in ``reconcile_drift.jsonl``. It is not a livegate position: the strategy,
    PnL and the risk caps see only what livegate trades from here on.
``refuse``
    refuse to start (exit 2), naming every position and balance.

Only at a run's first start (its ledger holds no ``reconciled`` event yet): later, e.g.
on resume, a difference is drift, and the inventory adopted before is read back from the
ledger. What counts: on a derivatives venue every venue position that differs from
livegate's own; on a spot venue (without a balance baseline yet) every non-zero balance
of a base asset of the session's symbols (``BTC`` for ``BTC/USDT``). Cash in the quote
currency is the account's cash, never "inventory".
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum

from livegate.domain.errors import VenueError
from livegate.domain.orders import Fill
from livegate.ledger import events as ev
from livegate.ledger.fold import LedgerFold
from livegate.ledger.store import Ledger
from livegate.reconcile.drift import DriftKind, DriftRecord
from livegate.reconcile.inventory import base_asset
from livegate.reconcile.reconciler import Reconciler
from livegate.reconcile.result import ReconcileIncomplete

__all__ = ["InventoryPolicy", "first_start", "settle_unknown_inventory"]

log = logging.getLogger("livegate.reconcile")

_ZERO = Decimal(0)


class InventoryPolicy(StrEnum):
    """What a starting session does with positions and balances livegate did not make."""

    ADOPT = "adopt"
    REFUSE = "refuse"


def first_start(ledger: Ledger | None, history: LedgerFold | None) -> bool:
    """Return True at a run's first start: its ledger holds no ``reconciled`` event yet.

    ``history`` is the ledger's fold when the caller has it (a resumed run): read instead
    of the ledger.
    """
    if history is not None:
        return history.reconciles == 0
    return ledger is None or next(iter(ledger.events(ev.RECONCILED)), None) is None


def _adopted_before(ledger: Ledger | None, history: LedgerFold | None) -> tuple[dict[str, Decimal], set[str]]:
    """Return the positions and fill ids earlier ``inventory_adopted`` events of this ledger recorded."""
    if history is not None:
        return dict(history.adopted_positions), set(history.adopted_fill_ids)
    positions: dict[str, Decimal] = {}
    fill_ids: set[str] = set()
    if ledger is None:
        return positions, fill_ids
    for event in ledger.events(ev.INVENTORY_ADOPTED):
        raw = event.payload.get("positions")
        if isinstance(raw, dict):
            for symbol, quantity in raw.items():
                positions[str(symbol)] = positions.get(str(symbol), _ZERO) + Decimal(str(quantity))
        fills = event.payload.get("fills")
        if isinstance(fills, list):
            fill_ids.update(str(f.get("fill_id")) for f in fills if isinstance(f, dict))
    return positions, fill_ids


async def settle_unknown_inventory(
    reconciler: Reconciler,
    policy: InventoryPolicy,
    *,
    now_ms: int,
    fills: Sequence[Fill] = (),
    history: LedgerFold | None = None,
) -> list[DriftRecord]:
    """Adopt (or refuse to start over) positions and balances livegate did not make.

    Parameters
    ----------
    reconciler:
        The session's reconciler: its venue is asked; adopted positions go to its
        :attr:`~Reconciler.position_baseline`; the ledger event goes to its ledger.
    policy:
        ``[reconcile] on_unknown_inventory``.
    now_ms:
        Session clock time of the records, ms since the epoch.
    fills:
        Fills of earlier livegate sessions' orders to import with the inventory (those
        whose venue trade id an earlier ``inventory_adopted`` event holds are skipped).
    history:
        The fold of the reconciler's ledger (a resumed run's), read instead of scanning
        the ledger for ``inventory_adopted`` and ``reconciled`` events; None scans it.

    Returns
    -------
    list[DriftRecord]
        One resolved record per adopted position, balance and imported fill.

    Raises
    ------
    ReconcileIncomplete
        If the venue cannot be asked (exit 2), or under ``refuse`` when any unknown
        inventory exists.
    """
    venue = reconciler.venue
    ledger = reconciler.ledger
    before, imported = _adopted_before(ledger, history)
    for symbol, quantity in before.items():
        reconciler.position_baseline.setdefault(symbol, quantity)
    if not first_start(ledger, history):
        return []  # not the run's first start: a difference now is drift (resume), not inventory
    expected = reconciler.internal_view().positions
    positions: dict[str, Decimal] = {}
    balances: dict[str, Decimal] = {}
    try:
        if venue.capabilities.positions:
            for p in await venue.positions():
                diff = p.quantity - expected.get(p.symbol, _ZERO)
                if diff != 0:
                    positions[p.symbol] = diff
        elif reconciler.balance_baseline is None:
            bases = {base_asset(s, q) for s, q in reconciler.currency_of.items()} - set(reconciler.currency_of.values())
            for b in await venue.balances():
                if b.currency in bases and b.total != 0:
                    balances[b.currency] = b.total
    except VenueError as exc:
        raise ReconcileIncomplete(f"venue {venue.name} did not answer: {exc.message}") from exc
    new_fills = [f for f in fills if f.fill_id not in imported]
    if not positions and not balances and not new_fills:
        return []
    names = ", ".join(
        [*(f"position {s} {q}" for s, q in positions.items()), *(f"balance {a} {q}" for a, q in balances.items())]
    )
    if policy is InventoryPolicy.REFUSE and (positions or balances):
        raise ReconcileIncomplete(
            f"inventory livegate did not make is at {venue.name}: {names}; close or move it, or set "
            '[reconcile] on_unknown_inventory = "adopt" to take it as the starting inventory'
        )
    for symbol, diff in positions.items():
        reconciler.position_baseline[symbol] = reconciler.position_baseline.get(symbol, _ZERO) + diff
    if ledger is not None:
        ledger.append(
            ev.INVENTORY_ADOPTED,
            now_ms,
            {
                "venue": venue.name,
                "positions": {s: str(q) for s, q in sorted(positions.items())},
                "balances": {a: str(q) for a, q in sorted(balances.items())},
                "fills": [f.to_record() for f in new_fills],
            },
        )
    if names:
        log.warning(
            "startup: adopted inventory livegate did not make at %s as the starting inventory: %s", venue.name, names
        )
    records = [
        _record(
            DriftKind.POSITION_MISMATCH,
            venue.name,
            s,
            str(expected.get(s, _ZERO)),
            str(expected.get(s, _ZERO) + q),
            q,
            "positions",
            now_ms,
        )
        for s, q in positions.items()
    ]
    records += [
        _record(DriftKind.BALANCE_MISMATCH, venue.name, a, "", str(q), q, "balances", now_ms)
        for a, q in balances.items()
    ]
    records += [
        DriftRecord(
            DriftKind.MISSING_INTERNAL, venue.name, f.symbol, "", f"{f.fill_id} {f.side.value} {f.quantity}@{f.price}",
            "fill of an earlier session's order: imported with the starting inventory", "on_unknown_inventory=adopt",
            "fills", "startup", now_ms, resolved=True, client_order_id=f.client_order_id,
        )
        for f in new_fills
    ]  # fmt: skip
    return records


def _record(
    kind: DriftKind, venue: str, where: str, ours: str, theirs: str, diff: Decimal, source: str, now_ms: int
) -> DriftRecord:
    return DriftRecord(
        kind, venue, where, ours, theirs, str(diff),
        "on_unknown_inventory=adopt: not made by livegate, adopted as starting inventory", source, "startup", now_ms,
        resolved=True,
    )  # fmt: skip
