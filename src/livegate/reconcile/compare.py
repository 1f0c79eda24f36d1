"""Compare what livegate believes with what a venue reports; pure functions, no I/O.

The result is a list of :class:`~livegate.reconcile.drift.DriftRecord`; each says whether it
is beyond its tolerance (``[reconcile]`` keys, docs/architecture.md §3.8).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from livegate.domain.ids import is_livegate_client_id
from livegate.domain.orders import Fill, Order
from livegate.domain.snapshots import BalanceSnapshot, PositionSnapshot, VenueOrderSnapshot
from livegate.reconcile.drift import DriftKind, DriftRecord

_ZERO = Decimal(0)
#: Currencies valued 1:1 in USD (livegate treats USDT as USD throughout, see config/models.py).
USD_LIKE = frozenset({"USD", "USDT", "USDC", "FDUSD", "BUSD", "TUSD", "DAI"})


@dataclass(frozen=True, slots=True)
class Tolerances:
    """Accepted differences: position in base units, balances, open orders as a count.

    A balance difference of an asset is accepted when it is within ``asset[asset]`` (that
    asset's own units, default 0) **or** its USD value (at ``InternalView.prices_usd``) is
    within ``balance_usd``; with no known price only the own-unit tolerance applies, so
    a USD tolerance is never applied to BTC units.
    """

    position: Decimal = _ZERO
    balance_usd: Decimal = Decimal("0.01")
    open_order_count: int = 0
    asset: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(slots=True)
class VenueView:
    """One venue's snapshot: open orders, positions, and balances and recent fills (None: not offered).

    ``positions_offered`` False (a spot account): the venue has no positions, so
    livegate's positions are checked through the asset balances instead.
    ``client_ids_hashed`` True: the venue shows hashes of livegate's client ids
    (:attr:`~livegate.venues.base.VenueCapabilities.client_ids_hashed`), so no open order
    is recognisably an outside one.
    """

    venue: str
    open_orders: list[VenueOrderSnapshot]
    positions: list[PositionSnapshot]
    balances: list[BalanceSnapshot] | None = None
    fills: list[Fill] | None = None
    positions_offered: bool = True
    client_ids_hashed: bool = False


@dataclass(slots=True)
class InternalView:
    """What the ledger and portfolio say for one venue.

    Parameters
    ----------
    working:
        Orders sent to the venue and not finished, by client order id (``new`` orders,
        not yet sent, are left out).
    positions:
        Signed net quantity per symbol in base units.
    balances:
        Expected balance per asset in its own units (derivatives: the quote currency's
        baseline + realized PnL - fees; spot: every asset, see
        :mod:`livegate.reconcile.inventory`), or None when unknown.
    fill_ids:
        Venue fill ids the ledger holds for this venue, or None when not tracked.
    prices_usd:
        USD price per asset where known, for the USD balance tolerance.
    filled_before:
        Per adopted order (an earlier session's, taken over at startup), the quantity the
        venue had filled before; the venue's filled quantity is compared with ours plus it.
    """

    working: dict[str, Order]
    positions: dict[str, Decimal]
    balances: dict[str, Decimal] | None = None
    fill_ids: set[str] | None = None
    symbols: set[str] = field(default_factory=set)
    prices_usd: dict[str, Decimal] = field(default_factory=dict)
    filled_before: dict[str, Decimal] = field(default_factory=dict)


def compare(
    internal: InternalView,
    venue: VenueView,
    tolerances: Tolerances,
    *,
    trigger: str,
    ts_ms: int,
    fill_drift: list[DriftRecord] | None = None,
) -> list[DriftRecord]:
    """Return every difference between ``internal`` and ``venue``.

    Orders: a venue open order livegate does not know as working is ``missing_internal``
    (or ``status_mismatch`` when livegate knows it finished), unless it is an outside order
    (see :func:`outside_open_orders`), which is not drift; a working order the venue
    does not list as open is ``missing_venue``; different filled quantities are
    ``status_mismatch``. Together they are beyond tolerance when their count exceeds
    ``tolerances.open_order_count``. Positions beyond ``tolerances.position`` (base
    units; only where the venue offers positions) and balances beyond their asset's
    tolerance (see :class:`Tolerances`) are each beyond tolerance. Any unexplained fill
    is beyond tolerance. ``fill_drift``, when given, stands for the fill comparison (the
    reconciler's incremental one, :class:`~livegate.reconcile.fills.FillMatcher`).
    """
    name = venue.venue
    records = _order_drift(internal, venue, trigger, ts_ms)
    beyond_orders = len(records) > tolerances.open_order_count
    records = [_flag(r, beyond_orders) for r in records]
    records += _fill_drift(internal, venue, trigger, ts_ms) if fill_drift is None else fill_drift
    if venue.positions_offered:
        records += _position_drift(internal.positions, venue.positions, tolerances.position, name, trigger, ts_ms)
    if venue.balances is not None and internal.balances is not None:
        records += _balance_drift(
            internal.balances, venue.balances, tolerances, internal.prices_usd, name, trigger, ts_ms
        )
    return records


def outside_open_orders(internal: InternalView, venue: VenueView) -> list[VenueOrderSnapshot]:
    """Return the venue's open orders that are not livegate's: placed by hand or by another program.

    An open order is outside when livegate does not know it as working and its client id
    is not one livegate makes (:func:`~livegate.domain.ids.is_livegate_client_id`; an
    empty id included, since livegate sends an id with every order). Such an order is left
    alone (docs/recovery.md "Outside orders while a session runs"): it is not order drift.
    Its fills still change the account beside livegate, so they remain fill, position or
    balance drift. An unknown open order under livegate's own ids (an earlier session's)
    is drift as before, and so is every unknown open order on a venue that shows hashes of
    livegate's ids (``venue.client_ids_hashed``: Kraken, Hyperliquid), where an earlier
    session's order cannot be told from an outside one.
    """
    if venue.client_ids_hashed:
        return []
    return [
        s
        for s in venue.open_orders
        if s.client_order_id not in internal.working and not is_livegate_client_id(s.client_order_id)
    ]


def _flag(record: DriftRecord, beyond: bool) -> DriftRecord:
    return record if record.beyond_tolerance == beyond else replace(record, beyond_tolerance=beyond)


def _order_value(status: str, filled: Decimal) -> str:
    return f"{status}/{filled}"


def _order_drift(internal: InternalView, venue: VenueView, trigger: str, ts_ms: int) -> list[DriftRecord]:
    records: list[DriftRecord] = []
    open_by_id = {s.client_order_id: s for s in venue.open_orders}
    outside = {s.client_order_id for s in outside_open_orders(internal, venue)}  # left alone: not drift
    tol = "open_order_count"
    for cid, snap in open_by_id.items():
        order = internal.working.get(cid)
        venue_value = _order_value(snap.status.value, snap.filled_quantity)
        if cid in outside:
            continue
        if order is None:
            records.append(
                DriftRecord(
                    DriftKind.MISSING_INTERNAL, venue.venue, snap.symbol, "", venue_value,
                    "open at venue, not working in ledger", tol, "open_orders", trigger, ts_ms, client_order_id=cid,
                )
            )  # fmt: skip
        elif (ours := order.filled_quantity + internal.filled_before.get(cid, _ZERO)) != snap.filled_quantity:
            records.append(
                DriftRecord(
                    DriftKind.STATUS_MISMATCH, venue.venue, snap.symbol,
                    _order_value(order.status.value, ours), venue_value,
                    str(snap.filled_quantity - ours), tol, "open_orders", trigger, ts_ms,
                    client_order_id=cid,
                )
            )  # fmt: skip
    for cid, order in internal.working.items():
        if cid not in open_by_id:
            records.append(
                DriftRecord(
                    DriftKind.MISSING_VENUE, venue.venue, order.symbol,
                    _order_value(order.status.value, order.filled_quantity), "",
                    "working in ledger, not open at venue", tol, "open_orders", trigger, ts_ms, client_order_id=cid,
                )
            )  # fmt: skip
    return records


def _fill_drift(internal: InternalView, venue: VenueView, trigger: str, ts_ms: int) -> list[DriftRecord]:
    if venue.fills is None or internal.fill_ids is None:
        return []
    records: list[DriftRecord] = []
    venue_ids = {f.fill_id for f in venue.fills}
    for fill in venue.fills:
        if fill.fill_id not in internal.fill_ids:
            records.append(
                DriftRecord(
                    DriftKind.MISSING_INTERNAL, venue.venue, fill.symbol, "",
                    f"{fill.fill_id} {fill.side.value} {fill.quantity}@{fill.price}", str(fill.quantity), "0",
                    "fills", trigger, ts_ms, beyond_tolerance=True, client_order_id=fill.client_order_id,
                )
            )  # fmt: skip
    for fill_id in sorted(internal.fill_ids - venue_ids):
        records.append(
            DriftRecord(
                DriftKind.MISSING_VENUE, venue.venue, "", fill_id, "", "fill in ledger, not at venue", "0",
                "fills", trigger, ts_ms, beyond_tolerance=True,
            )
        )  # fmt: skip
    return records


def _position_drift(
    internal: Mapping[str, Decimal],
    venue_positions: Sequence[PositionSnapshot],
    tolerance: Decimal,
    venue: str,
    trigger: str,
    ts_ms: int,
) -> list[DriftRecord]:
    at_venue = {p.symbol: p.quantity for p in venue_positions}
    records: list[DriftRecord] = []
    for symbol in sorted(set(internal) | set(at_venue)):
        ours, theirs = internal.get(symbol, _ZERO), at_venue.get(symbol, _ZERO)
        if ours == theirs:
            continue
        diff = theirs - ours
        records.append(
            DriftRecord(
                DriftKind.POSITION_MISMATCH, venue, symbol, str(ours), str(theirs), str(diff), str(tolerance),
                "positions", trigger, ts_ms, beyond_tolerance=abs(diff) > tolerance,
            )
        )  # fmt: skip
    return records


def _balance_drift(
    expected: Mapping[str, Decimal],
    reported: Sequence[BalanceSnapshot],
    tolerances: Tolerances,
    prices_usd: Mapping[str, Decimal],
    venue: str,
    trigger: str,
    ts_ms: int,
) -> list[DriftRecord]:
    at_venue = {b.currency: b.total for b in reported}
    records: list[DriftRecord] = []
    for currency in sorted(expected):
        ours = expected[currency]
        theirs = at_venue.get(currency)
        if theirs == ours or (theirs is None and ours == 0):
            continue
        diff = (theirs or _ZERO) - ours
        own = tolerances.asset.get(currency, _ZERO)
        price = prices_usd.get(currency, Decimal(1) if currency in USD_LIKE else None)
        within = abs(diff) <= own or (price is not None and abs(diff) * price <= tolerances.balance_usd)
        tolerance = f"{own} {currency}" + (f" or {tolerances.balance_usd} USD" if price is not None else "")
        records.append(
            DriftRecord(
                DriftKind.BALANCE_MISMATCH, venue, currency, str(ours), "" if theirs is None else str(theirs),
                str(diff), tolerance, "balances", trigger, ts_ms,
                beyond_tolerance=theirs is None or not within,
            )
        )  # fmt: skip
    return records
