"""Orders an earlier livegate session left working at the venue, settled before the first reconciliation.

A session that ended without cancelling (crash, kill -9, a halt whose cancels failed)
leaves orders working under livegate's client order ids (``lg<session>-<tag>-<seq>``,
:func:`livegate.domain.ids.client_order_id`). At startup the new session knows none of
them, so the first reconciliation would read each one as ``missing_internal`` drift and
latch REDUCING with no word of why. Instead, per ``[reconcile] on_leftover_orders``:

``cancel`` (default)
    cancel each one by client order id and record it (a resolved drift record in
    ``reconcile_drift.jsonl`` and the ledger's ``reconciled`` event);
``refuse``
    refuse to start (exit 2), naming every leftover order, for an operator who wants to
    look first;
``adopt``
    take each one over as a working order of this session: the ledger records it as an
    approved, accepted order (``intent`` with strategy ``adopted`` and the quantity still
    open, ``decision``, ``submit_requested``, ``order_report`` code ``ADOPTED_LEFTOVER``),
    the book holds it, so it counts against the open-order and notional caps, its later
    reports and fills apply as any order's, and the session's end or halt cancels it.
    What it had filled before is part of the starting inventory.

Orders whose client id is not livegate's (made by hand or by another program) are left
alone, and the reconciliation does not count them as drift
(:func:`livegate.reconcile.compare.outside_open_orders`).

Then the fills of earlier sessions' orders (cancelled here or finished before) and the
positions and balances livegate did not make are settled per ``[reconcile]
on_unknown_inventory`` (:mod:`livegate.reconcile.startup_inventory`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from enum import StrEnum

from livegate.domain.enums import OrderStatus, TimeInForce
from livegate.domain.errors import VenueError
from livegate.domain.ids import is_livegate_client_id
from livegate.domain.orders import Fill, Order, OrderIntent
from livegate.domain.snapshots import VenueOrderSnapshot
from livegate.ledger import events as ev
from livegate.ledger.fold import LedgerFold
from livegate.reconcile.drift import DriftKind, DriftRecord
from livegate.reconcile.fills import FillHistory
from livegate.reconcile.reconciler import Reconciler
from livegate.reconcile.result import ReconcileIncomplete
from livegate.reconcile.startup_inventory import InventoryPolicy, first_start, settle_unknown_inventory

__all__ = [
    "LeftoverPolicy",
    "earlier_session_fills",
    "is_livegate_client_id",
    "leftover_records",
    "settle_leftover_orders",
]

log = logging.getLogger("livegate.reconcile")

#: ``strategy_id`` of the intent recorded for an adopted leftover order.
ADOPTED_STRATEGY = "adopted"
#: ``code`` of the ``order_report`` that records an adopted leftover order as accepted.
ADOPTED_CODE = "ADOPTED_LEFTOVER"

#: ``tolerance`` prefix of the drift record of a settled leftover order (``on_leftover_orders=cancel``).
LEFTOVER_TOLERANCE = "on_leftover_orders="


class LeftoverPolicy(StrEnum):
    """What a starting session does with orders of earlier livegate sessions."""

    CANCEL = "cancel"
    REFUSE = "refuse"
    ADOPT = "adopt"


async def settle_leftover_orders(
    reconciler: Reconciler,
    policy: LeftoverPolicy,
    *,
    now_ms: int,
    expect_reports: Callable[[str], None] | None = None,
    history: LedgerFold | None = None,
) -> list[DriftRecord]:
    """Cancel (or refuse to start over) open venue orders of earlier livegate sessions.

    Parameters
    ----------
    reconciler:
        The session's reconciler: its venue is asked, its internal view says which
        orders this session already owns (a resumed run's own orders are not leftovers).
    policy:
        ``[reconcile] on_leftover_orders``.
    now_ms:
        Session clock time for the records, ms since the epoch.
    expect_reports:
        Called with each leftover's client order id before it is cancelled, so the
        venue's cancel report on the private stream is expected (the engine's ``disown``).
    history:
        The fold of the reconciler's ledger when the caller has it (a resumed run), for
        :func:`~livegate.reconcile.startup_inventory.settle_unknown_inventory`. The venue's
        fills of earlier sessions are read only at the run's first start: later they are
        not imported as inventory (a difference then is drift).

    Returns
    -------
    list[DriftRecord]
        One resolved ``missing_internal`` record per cancelled order, then the records of
        :func:`~livegate.reconcile.startup_inventory.settle_unknown_inventory`.

    Raises
    ------
    ReconcileIncomplete
        If the venue cannot be asked or a cancel fails (the start is refused, exit 2),
        under ``refuse`` when any leftover order exists, or under
        ``on_unknown_inventory = "refuse"`` when unknown inventory exists.
    """
    venue = reconciler.venue
    owned = set(reconciler.internal_view().working)
    try:
        open_orders = await venue.open_orders()
    except VenueError as exc:
        raise ReconcileIncomplete(f"venue {venue.name} did not answer: {exc.message}") from exc
    leftovers = [o for o in open_orders if is_livegate_client_id(o.client_order_id) and o.client_order_id not in owned]
    records = await _settle_orders(reconciler, policy, leftovers, now_ms=now_ms, expect_reports=expect_reports)
    fills: list[Fill] = []
    if first_start(reconciler.ledger, history):
        fills = await earlier_session_fills(reconciler, [o.client_order_id for o in leftovers])
    inventory = InventoryPolicy(reconciler.config.on_unknown_inventory)
    records += await settle_unknown_inventory(reconciler, inventory, now_ms=now_ms, fills=fills, history=history)
    return records


async def _settle_orders(
    reconciler: Reconciler,
    policy: LeftoverPolicy,
    leftovers: list[VenueOrderSnapshot],
    *,
    now_ms: int,
    expect_reports: Callable[[str], None] | None,
) -> list[DriftRecord]:
    venue = reconciler.venue
    if not leftovers:
        return []
    names = ", ".join(f"{o.client_order_id} ({o.symbol})" for o in leftovers)
    if policy is LeftoverPolicy.REFUSE:
        raise ReconcileIncomplete(
            f"{len(leftovers)} order(s) of earlier livegate sessions are working at {venue.name}: {names}; "
            'cancel them or set [reconcile] on_leftover_orders = "cancel"'
        )
    if policy is LeftoverPolicy.ADOPT:
        records = [_adopt(reconciler, order, now_ms) for order in leftovers]
        log.warning(
            "startup: adopted %d working order(s) of earlier sessions at %s: %s", len(leftovers), venue.name, names
        )
        return records
    records = []
    for order in leftovers:
        if expect_reports is not None:
            expect_reports(order.client_order_id)
        try:
            await venue.cancel(order.client_order_id, order.symbol)
        except VenueError as exc:
            raise ReconcileIncomplete(
                f"could not cancel leftover order {order.client_order_id} at {venue.name}: {exc.message}"
            ) from exc
        records.append(_record(venue.name, order, now_ms))
    log.warning(
        "startup: cancelled %d leftover order(s) of earlier sessions at %s: %s", len(leftovers), venue.name, names
    )
    return records


def leftover_records(records: Sequence[DriftRecord]) -> list[DriftRecord]:
    """Return the records of leftover orders settled (cancelled or adopted) among a reconciliation's ``records``."""
    return [r for r in records if r.tolerance.startswith(LEFTOVER_TOLERANCE)]


async def earlier_session_fills(reconciler: Reconciler, is_earlier: Sequence[str] | None = None) -> list[Fill]:
    """Return the venue's recent fills of orders of earlier livegate sessions (oldest first).

    A fill belongs to an earlier session when its client order id is livegate's
    (:func:`livegate.reconcile.leftovers.is_livegate_client_id`) and this session's book
    does not hold that order; ``is_earlier`` lists further client order ids to include.

    Raises
    ------
    ReconcileIncomplete
        If the venue cannot be asked.
    """
    venue = reconciler.venue
    if not isinstance(venue, FillHistory):
        return []
    try:
        fills = await venue.recent_fills()
    except VenueError as exc:
        raise ReconcileIncomplete(f"venue {venue.name} did not answer: {exc.message}") from exc
    extra = set(is_earlier or ())
    return [
        f
        for f in fills
        if f.client_order_id in extra
        or (is_livegate_client_id(f.client_order_id) and not reconciler.owns(f.client_order_id))
    ]


def _adopt(reconciler: Reconciler, snap: VenueOrderSnapshot, now_ms: int) -> DriftRecord:
    """Take over one working leftover: ledger events as for an order of this session, then the book."""
    venue = reconciler.venue.name
    cid = snap.client_order_id
    intent = OrderIntent(
        symbol=snap.symbol,
        side=snap.side,
        quantity=snap.quantity - snap.filled_quantity,
        order_type=snap.order_type,
        price=snap.price,
        time_in_force=TimeInForce.GTC,
        post_only=False,
        reduce_only=False,
        strategy_id=ADOPTED_STRATEGY,
        seq=0,
        ts_ms=now_ms,
    )
    order = Order(cid, intent, venue)
    order.transition(OrderStatus.SUBMITTED, now_ms)
    order.transition(OrderStatus.ACCEPTED, now_ms, "adopted leftover of an earlier session")
    order.venue_order_id = snap.venue_order_id
    ledger = reconciler.ledger
    if ledger is not None:
        detail = f"adopted at startup: leftover of an earlier session, {snap.filled_quantity} filled before"
        ledger.append(ev.INTENT, now_ms, {"client_order_id": cid, **intent.to_record()})
        ledger.append(
            ev.DECISION,
            now_ms,
            {"client_order_id": cid, "approved": True, "code": None, "detail": detail, "venue": venue},
        )
        ledger.append(ev.SUBMIT_REQUESTED, now_ms, {"client_order_id": cid, "venue": venue})
        ledger.append(
            ev.ORDER_REPORT,
            now_ms,
            {
                "client_order_id": cid,
                "status": OrderStatus.ACCEPTED.value,
                "venue_order_id": snap.venue_order_id,
                "code": ADOPTED_CODE,
                "reason": detail,
                "filled_quantity": "0",
            },
        )
    reconciler.take_over(order, snap.filled_quantity)
    return DriftRecord(
        kind=DriftKind.MISSING_INTERNAL,
        venue=venue,
        symbol=snap.symbol,
        internal_value="",
        venue_value=f"{snap.status.value}/{snap.filled_quantity}",
        difference="leftover of an earlier session: adopted as a working order",
        tolerance=f"{LEFTOVER_TOLERANCE}adopt",
        source="open_orders",
        trigger="startup",
        ts_ms=now_ms,
        beyond_tolerance=False,
        resolved=True,
        client_order_id=cid,
    )


def _record(venue: str, order: VenueOrderSnapshot, now_ms: int) -> DriftRecord:
    return DriftRecord(
        kind=DriftKind.MISSING_INTERNAL,
        venue=venue,
        symbol=order.symbol,
        internal_value="",
        venue_value=f"{order.status.value}/{order.filled_quantity}",
        difference="leftover of an earlier session: cancelled",
        tolerance=f"{LEFTOVER_TOLERANCE}cancel",
        source="open_orders",
        trigger="startup",
        ts_ms=now_ms,
        beyond_tolerance=False,
        resolved=True,
        client_order_id=order.client_order_id,
    )
