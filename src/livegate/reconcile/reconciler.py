"""The reconciler: ask the venue for its truth, compare it with the ledger, act on drift.

docs/architecture.md §3.8 (reconcile or stop). The reconciler only *reads* the venue (open orders,
positions, balances, recent fills); every change it causes goes through the execution
engine (see :mod:`livegate.reconcile.resolve`) or through the ``on_drift`` callback that
moves the trading state (kill switch) to REDUCING or HALTED. What a run returns is in
:mod:`livegate.reconcile.result`, when runs are due in :mod:`livegate.reconcile.schedule`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from decimal import Decimal

from livegate.config.reconcile_models import ReconcileConfig
from livegate.domain.clock import Clock
from livegate.domain.enums import AnomalyKind, OrderStatus, TradingState
from livegate.domain.errors import VenueError
from livegate.domain.ids import is_livegate_client_id
from livegate.domain.orders import Fill, Order
from livegate.ledger import events as ev
from livegate.ledger.payload_session import FillsMatched
from livegate.ledger.store import Ledger
from livegate.portfolio import Portfolio
from livegate.reconcile.compare import InternalView, Tolerances, VenueView, compare, outside_open_orders
from livegate.reconcile.confirm import DriftKey, confirmed
from livegate.reconcile.drift import DriftLog, DriftRecord
from livegate.reconcile.fills import FILL_READ_OVERLAP_MS, FillHistory, FillJournal, FillMatcher, LedgerFills
from livegate.reconcile.fills import LedgerFillIndex as LedgerFillIndex  # its home before issue 14
from livegate.reconcile.inventory import LedgerFeeIndex, expected_spot_balances, usd_prices
from livegate.reconcile.result import ReconcileIncomplete, ReconcileResult, count_run
from livegate.telemetry.metrics import SessionMetrics
from livegate.venues.base import VenueAdapter

DriftHandler = Callable[[TradingState, str], object]
"""``on_drift(state, reason)``: move the trading state (kill switch) to ``state`` because of ``reason``."""
AnomalyHandler = Callable[[str, str], None]
"""``on_anomaly(kind, detail)``."""

_ZERO = Decimal(0)
log = logging.getLogger("livegate.reconcile")


#: Venue reads one reconciliation makes at most while fills keep arriving during them (the last is compared).
VENUE_READS = 3


class Reconciler:
    """Compare one venue with the portfolio and ledger; write drift and trip on it.

    Parameters
    ----------
    venue:
        The adapter to read (open orders, positions, balances, and fills when it offers
        :class:`FillHistory`).
    portfolio:
        Orders and positions as livegate knows them.
    config:
        ``[reconcile]`` tolerances and ``on_drift``.
    clock:
        Session clock (drift record times).
    currency_of:
        Quote currency per symbol, for expected balances.
    ledger_fills:
        The fills the ledger holds, read from where the last reconciliation stopped; None
        disables fill checks.
    balance_baseline:
        Cash per currency before the session's first fill; None learns it at the first
        reconciliation (an empty book) and disables balance checks until then.
    drift_log:
        Where drift records go (``reconcile_drift.jsonl``); None writes nothing.
    ledger:
        Where a ``reconciled`` event is appended after each run; None writes nothing.
    on_drift, on_anomaly:
        Callbacks for drift beyond tolerance.
    fills_since_ms:
        Compare only venue fills at or after this time (ms since the epoch), normally the
        session's start, so an account's older trades are not reported as drift; None
        compares every fill the venue returns.

    Fills are compared incrementally (:mod:`livegate.reconcile.fills`): each pass reads the
    venue's fills after its cursor (a :class:`~livegate.reconcile.fills.FillJournal` venue)
    or in a window from just before the newest fill seen (any other
    :class:`FillHistory`), and the ledger's after the last seq read; the cost of a pass
    does not grow with the session's history.
    metrics:
        Counts each run by trigger and outcome (``clean``, ``within_tolerance``,
        ``drift``, ``failed``) and the differences beyond tolerance by kind; None counts nothing.
    fills_matched:
        Where the run's last reconciliation found the fills equal (a resumed run's
        ledger, :class:`~livegate.ledger.payload_session.FillsMatched`): the fill comparison goes
        on from there (venue fills after its cursor, ledger fills after its count) instead
        of from the first fill; None (or a ``ledger_fills`` beyond the ledger's) compares from the first.
        Each reconciliation whose fills compare equal records its own in its ``reconciled`` event.
    """

    def __init__(
        self,
        *,
        venue: VenueAdapter,
        portfolio: Portfolio,
        config: ReconcileConfig,
        clock: Clock,
        currency_of: Mapping[str, str],
        ledger_fills: LedgerFills | None = None,
        balance_baseline: Mapping[str, Decimal] | None = None,
        drift_log: DriftLog | None = None,
        ledger: Ledger | None = None,
        on_drift: DriftHandler | None = None,
        on_anomaly: AnomalyHandler | None = None,
        fills_since_ms: int | None = None,
        metrics: SessionMetrics | None = None,
        fills_matched: FillsMatched | None = None,
    ) -> None:
        self.venue = venue
        self._metrics = metrics
        self._fills_since_ms = fills_since_ms
        self._portfolio = portfolio
        self._config = config
        self._clock = clock
        self._currency_of = dict(currency_of)
        self._ledger_fills = ledger_fills
        self._fills = FillMatcher()
        self._venue_fill_cursor = 0
        self._newest_fill_ms: int | None = None
        self.balance_baseline: dict[str, Decimal] | None = None if balance_baseline is None else dict(balance_baseline)
        #: Quantity each adopted order (``on_leftover_orders = "adopt"``) had filled before this session
        #: took it over, by client order id; the venue's filled quantity is compared with ours plus this.
        self.filled_before: dict[str, Decimal] = {}
        #: Signed position per symbol (base units) adopted at startup as inventory livegate did not
        #: make (:mod:`livegate.reconcile.startup_inventory`); expected at the venue on top of the portfolio's.
        self.position_baseline: dict[str, Decimal] = {}
        self._drift_log = drift_log
        if drift_log is not None:
            drift_log.path.touch()
        self._ledger = ledger
        self._on_drift = on_drift
        self._on_anomaly = on_anomaly
        self.tolerances = Tolerances(
            position=config.position_tolerance,
            balance_usd=config.balance_tolerance_usd,
            open_order_count=config.open_order_count_tolerance,
            asset=dict(config.asset_tolerance),
        )
        self._fees = LedgerFeeIndex(ledger) if ledger is not None else None
        #: Differences beyond tolerance seen by the last periodic or reconnect pass, not yet confirmed.
        self._suspects: frozenset[DriftKey] = frozenset()
        self._outside: frozenset[str] = frozenset()
        if fills_matched is not None and isinstance(ledger_fills, LedgerFillIndex):
            matched_ids = ledger_fills.skip_to(venue.name, fills_matched.ledger_fills)
            if matched_ids is not None:
                self._fills.resume(matched_ids)
                self._venue_fill_cursor = fills_matched.venue_cursor
                self._newest_fill_ms = fills_matched.venue_newest_ms

    async def snapshot(self) -> VenueView:
        """Ask the venue for open orders, positions, balances and recent fills.

        Raises
        ------
        ReconcileIncomplete
            If any request fails with a translated venue error.
        """
        venue = self.venue
        try:
            open_orders = await venue.open_orders()
            positions = await venue.positions()
            balances = await venue.balances()
            fills = await self._new_venue_fills()
        except VenueError as exc:
            raise ReconcileIncomplete(f"venue {venue.name} did not answer: {exc.message}") from exc
        return VenueView(
            venue=venue.name,
            open_orders=open_orders,
            positions=positions,
            balances=balances if balances else None,
            fills=fills,
            positions_offered=venue.capabilities.positions,
            client_ids_hashed=venue.capabilities.client_ids_hashed,
        )

    async def read_venue(self) -> tuple[VenueView, int]:
        """Return :meth:`snapshot` and the reads it took: read again while fills arrive (:data:`VENUE_READS` at most).

        The venue is read in four requests; a fill applied to the book meanwhile (its report
        came in while the requests were awaited) is in livegate's view but maybe not in what
        the venue answered before it, and would look like position or balance drift. A read
        during which no fill arrived is compared; after the last read, whatever it shows is
        (a difference then still has to pass the usual checks). The venue fills of every read
        are kept, each once.

        Raises
        ------
        ReconcileIncomplete
            If any request fails with a translated venue error.
        """
        fills: dict[tuple[str, str, str], Fill] | None = None
        for reads in range(1, VENUE_READS + 1):
            applied = self._portfolio.fills_applied
            view = await self.snapshot()
            if view.fills is not None:
                if fills is None:
                    fills = {}
                for fill in view.fills:
                    fills.setdefault((fill.symbol, fill.client_order_id, fill.fill_id), fill)
            if self._portfolio.fills_applied == applied:
                break
            log.info("reconcile %s: %d fill(s) arrived during venue read %d", self.venue.name,
                     self._portfolio.fills_applied - applied, reads)  # fmt: skip
        if fills is not None and reads > 1:
            view.fills = list(fills.values())
        return view, reads

    async def _new_venue_fills(self) -> list[Fill] | None:
        """Return the venue's fills not read by an earlier pass (None: the venue lists no fills)."""
        venue, since = self.venue, self._fills_since_ms
        if isinstance(venue, FillJournal):
            fills, self._venue_fill_cursor = await venue.fills_after(self._venue_fill_cursor)
            return fills if since is None else [f for f in fills if f.ts_ms >= since]
        if not isinstance(venue, FillHistory):
            return None
        if self._newest_fill_ms is not None:
            window = self._newest_fill_ms - FILL_READ_OVERLAP_MS
            since = window if since is None else max(since, window)
        fills = await venue.recent_fills(since_ms=since)
        if fills:
            newest = max(f.ts_ms for f in fills)
            self._newest_fill_ms = newest if self._newest_fill_ms is None else max(self._newest_fill_ms, newest)
        return [f for f in fills if not self._fills.is_known_at_venue(f.fill_id)]

    def internal_view(self) -> InternalView:
        """Return what the ledger and portfolio say about this venue."""
        name = self.venue.name
        working = {
            o.client_order_id: o
            for o in self._portfolio.working_orders()
            if o.venue == name and o.status is not OrderStatus.NEW
        }
        positions = {p.symbol: p.quantity for p in self._portfolio.positions() if p.quantity != 0}
        for symbol, adopted in self.position_baseline.items():
            total = positions.get(symbol, _ZERO) + adopted
            if total != 0:
                positions[symbol] = total
            else:
                positions.pop(symbol, None)
        balances = self.expected_balances()
        last_price = dict(self._fees.last_price) if self._fees is not None else {}
        for p in self._portfolio.positions():
            if p.quantity != 0:
                last_price.setdefault(p.symbol, p.average_price)
        return InternalView(
            working=working,
            positions=positions,
            balances=balances,
            filled_before=dict(self.filled_before),
            prices_usd=usd_prices(balances or {}, self._currency_of, last_price),
        )

    def expected_balances(self) -> dict[str, Decimal] | None:
        """Return the expected balance per asset, or None without a baseline.

        Spot venues (no positions): every asset, see :mod:`livegate.reconcile.inventory`.
        Derivatives: baseline cash + realized PnL - fees per quote currency.
        """
        if self.balance_baseline is None:
            return None
        if not self.venue.capabilities.positions:
            if self._fees is not None:
                self._fees.refresh()
            return expected_spot_balances(
                self.balance_baseline, self._portfolio.positions(), self._currency_of, self.venue.name, self._fees
            )
        expected = dict(self.balance_baseline)
        for position in self._portfolio.positions():
            currency = self._currency_of.get(position.symbol)
            if currency is None or currency not in expected:
                continue
            expected[currency] += position.realized_pnl - position.fees
        return expected

    async def reconcile(self, trigger: str, *, extra: list[DriftRecord] | None = None) -> ReconcileResult:
        """Compare now; write drift records and a ledger event; trip the kill switch when beyond tolerance.

        Parameters
        ----------
        trigger:
            ``startup``, ``periodic``, ``reconnect`` or ``operator``.
        extra:
            Records found before the comparison (resolutions at startup), written with it.

        Raises
        ------
        ReconcileIncomplete
            If the venue cannot be asked.
        """
        try:
            view, reads = await self.read_venue()
        except ReconcileIncomplete:
            if self._metrics is not None:
                self._metrics.reconcile_run(self.venue.name, trigger, "failed")
            raise
        now = self._clock.now_ms()
        learned = False
        if self.balance_baseline is None and view.balances is not None and self._book_is_empty():
            self.balance_baseline = {b.currency: b.total for b in view.balances}
            learned = True
        fill_drift: list[DriftRecord] | None = None
        matched: FillsMatched | None = None
        if view.fills is not None and self._ledger_fills is not None:
            self._fills.add_venue(view.fills)
            self._fills.add_ledger(self._ledger_fills.new_ids(self.venue.name))
            fill_drift = self._fills.drift(self.venue.name, trigger, now)
            if not fill_drift and isinstance(self._ledger_fills, LedgerFillIndex):
                position = self._ledger_fills.position(self.venue.name)
                matched = FillsMatched(position, self._venue_fill_cursor, self._newest_fill_ms)
        internal = self.internal_view()
        found = compare(internal, view, self.tolerances, trigger=trigger, ts_ms=now, fill_drift=fill_drift)
        outside = self._note_outside(internal, view)
        in_flight = self._fills.in_flight(self._ours_unread) if fill_drift else {}
        confirmed_now, self._suspects = confirmed(found, trigger, in_flight, self._suspects)
        records = [*(extra or []), *confirmed_now]
        result = ReconcileResult(trigger=trigger, ts_ms=now, records=records)
        if self._drift_log is not None:
            self._drift_log.write(records)
        if self._ledger is not None:
            payload: dict[str, object] = {
                "trigger": trigger,
                "venue": self.venue.name,
                "clean": result.clean,
                "drift": len(records),
                "beyond_tolerance": len(result.beyond_tolerance),
                "resolved": sum(1 for r in records if r.resolved),
            }
            if matched is not None:
                payload["fills_matched"] = matched.to_record()
            if outside:
                payload["outside_open_orders"] = outside
            if reads > 1:
                payload["venue_reads"] = reads
            if learned and self.balance_baseline is not None:
                payload["balance_baseline"] = {c: str(v) for c, v in sorted(self.balance_baseline.items())}
            # an observation: committed with the next commit, except a newly learned baseline
            self._ledger.append(ev.RECONCILED, now, payload, durable=learned)
        beyond = result.beyond_tolerance
        if self._metrics is not None:
            count_run(self._metrics, self.venue.name, result, beyond)
        if beyond:
            first = beyond[0]
            reason = (
                f"reconcile drift ({trigger}): {len(beyond)} beyond tolerance; first {first.kind.value} "
                f"{first.symbol or first.client_order_id} internal={first.internal_value or '-'} "
                f"venue={first.venue_value or '-'} tolerance={first.tolerance}"
            )
            self.anomaly(AnomalyKind.RECONCILE_DRIFT, reason)
            if self._on_drift is not None:
                self._on_drift(TradingState(self._config.on_drift), reason)
        return result

    def _note_outside(self, internal: InternalView, view: VenueView) -> int:
        """Log the venue's outside open orders when they change; return how many are open."""
        ids = frozenset(s.client_order_id for s in outside_open_orders(internal, view))
        if ids != self._outside:
            self._outside = ids
            if ids:
                log.warning(
                    "%d outside order(s) open at %s, left alone (not livegate's): %s",
                    len(ids), self.venue.name, ", ".join(sorted(ids)),
                )  # fmt: skip
        return len(ids)

    @property
    def ledger(self) -> Ledger | None:
        """Return the ledger the reconciler records in (None: records nothing)."""
        return self._ledger

    @property
    def currency_of(self) -> Mapping[str, str]:
        """Return the quote currency per symbol of the session."""
        return self._currency_of

    def take_over(self, order: Order, filled_before: Decimal) -> None:
        """Add an earlier session's working order to this session's book (its ledger events already written).

        ``order`` must be ``accepted``; ``filled_before`` (base units) is what the venue had
        filled of it before, part of the starting inventory, not of this order's quantity.
        """
        self._portfolio.add_order(order)
        self._portfolio.refresh(order)
        self.filled_before[order.client_order_id] = filled_before

    def _ours_unread(self, client_order_id: str) -> bool:
        """Return True for livegate's client id or an order the book holds now (a let-go one is not read back)."""
        return is_livegate_client_id(client_order_id) or client_order_id in self._portfolio.orders_by_id()

    def owns(self, client_order_id: str) -> bool:
        """Return True when this session's book holds the order ``client_order_id``."""
        return self._portfolio.order(client_order_id) is not None

    @property
    def config(self) -> ReconcileConfig:
        """Return the ``[reconcile]`` section this reconciler runs with."""
        return self._config

    def anomaly(self, kind: str, detail: str) -> None:
        """Report an anomaly through ``on_anomaly`` (when set)."""
        if self._on_anomaly is not None:
            self._on_anomaly(kind, detail)

    def _book_is_empty(self) -> bool:
        return all(p.quantity == 0 and p.realized_pnl == 0 and p.fees == 0 for p in self._portfolio.positions())
