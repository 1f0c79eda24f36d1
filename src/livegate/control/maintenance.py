"""Reconciliation inside a session: startup settling, the periodic schedule and stream interruptions.

Used by both sessions (replayed data and venue stream) through
:class:`~livegate.control.recovery.SessionRecovery`: the reconciler is built once, runs
before trading (settling a resumed run's unfinished orders first), then
:class:`Maintenance` runs it every ``[reconcile] interval_secs`` of session time and right
after a market-data stream reconnect or sequence gap, with new orders denied
``RECONCILING`` until that reconciliation completes (issue 6 §3).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from zoneinfo import ZoneInfo

from livegate.config.reconcile_models import ReconcileConfig
from livegate.control.faults import DriftInjection
from livegate.control.resume import RebuiltSession
from livegate.domain.clock import Clock
from livegate.domain.enums import Mode, TradingState
from livegate.domain.instruments import Instrument
from livegate.execution.engine import ExecutionEngine
from livegate.ledger import events as ev
from livegate.ledger.store import Ledger
from livegate.portfolio import Portfolio
from livegate.reconcile.drift import DRIFT_FILE, DriftLog
from livegate.reconcile.gate import ReconcileStatus
from livegate.reconcile.leftovers import LeftoverPolicy, settle_leftover_orders
from livegate.reconcile.reconciler import LedgerFillIndex, Reconciler
from livegate.reconcile.result import ReconcileIncomplete, ReconcileResult
from livegate.reconcile.schedule import ReconcileSchedule
from livegate.risk.daily import next_day_boundary_ms
from livegate.risk.gate import RecordingGate, RiskContext
from livegate.risk.pipeline import RiskPipeline
from livegate.telemetry.metrics import SessionMetrics
from livegate.venues.base import VenueAdapter
from livegate.venues.paper import PaperVenue

__all__ = ["Maintenance", "build_reconciler", "refill_gate_counters", "startup"]

log = logging.getLogger("livegate")

TripHandler = Callable[[TradingState, str], object]
AnomalyHandler = Callable[[str, str], None]


def build_reconciler(
    *,
    run_dir: Path,
    config: ReconcileConfig,
    venue: VenueAdapter,
    portfolio: Portfolio,
    ledger: Ledger,
    clock: Clock,
    instruments: Mapping[str, Instrument],
    rebuilt: RebuiltSession | None,
    on_drift: TripHandler,
    on_anomaly: AnomalyHandler,
    metrics: SessionMetrics | None = None,
    fill_index: LedgerFillIndex | None = None,
) -> Reconciler:
    """Return the session's reconciler writing ``reconcile_drift.jsonl`` and ``reconciled`` events.

    ``metrics`` counts its runs and differences (None: not counted). ``fill_index`` is the
    ledger's fill index to use (a resumed run's starts from its rebuilt fold); None reads
    the ledger from its first event.
    """
    index = LedgerFillIndex(ledger) if fill_index is None else fill_index
    # venue fills from before this session (an account's older trades) are not drift
    if rebuilt is not None and rebuilt.fold.session is not None:
        fills_since_ms = rebuilt.fold.started_ms  # the fold read it already: no scan of a long ledger
    else:
        first_start = next(iter(ledger.events(ev.SESSION_STARTED)), None)
        fills_since_ms = first_start.ts_ms if first_start is not None else clock.now_ms()
    return Reconciler(
        venue=venue,
        portfolio=portfolio,
        config=config,
        clock=clock,
        currency_of={s: i.quote_currency for s, i in instruments.items()},
        ledger_fills=index,
        balance_baseline=None if rebuilt is None else rebuilt.balance_baseline,
        drift_log=DriftLog(run_dir / DRIFT_FILE),
        ledger=ledger,
        on_drift=on_drift,
        on_anomaly=on_anomaly,
        fills_since_ms=fills_since_ms,
        metrics=metrics,
        fills_matched=None if rebuilt is None else rebuilt.fold.fills_matched.get(venue.name),
    )


async def startup(
    *,
    reconciler: Reconciler,
    engine: ExecutionEngine,
    portfolio: Portfolio,
    rebuilt: RebuiltSession | None,
    mode: Mode,
    now_ms: int,
    enabled: bool,
    leftovers: LeftoverPolicy = LeftoverPolicy.CANCEL,
) -> ReconcileResult | None:
    """Settle a resumed run's unfinished orders from the venue, then reconcile once.

    On resume, orders still working after reconciliation were placed by the strategy
    instance that died; they are cancelled (one by one, ``cancel_all`` crash point) so the
    new instance starts from a clean book. Orders of earlier sessions still working at a
    real venue are cancelled or refuse the start per ``leftovers`` before the comparison
    (``livegate.reconcile.leftovers``).

    Raises
    ------
    ReconcileIncomplete
        If the venue cannot be asked, except in shadow mode (then an anomaly is raised
        and the run goes on).
    """
    try:
        extra = []
        if rebuilt is not None:
            from livegate.reconcile.resolve import resolve_after_restart  # a restarted session only

            extra = await resolve_after_restart(
                engine=engine,
                venue=reconciler.venue,
                portfolio=portfolio,
                ledger_fill_ids=rebuilt.fill_ids,
                now_ms=now_ms,
                venue_keeps_state=mode is not Mode.SHADOW,
                matched=rebuilt.fold.fills_matched.get(reconciler.venue.name),
            )
        if enabled and mode is not Mode.SHADOW:
            extra += await settle_leftover_orders(
                reconciler,
                leftovers,
                now_ms=now_ms,
                expect_reports=lambda cid: engine.disown(cid),
                history=None if rebuilt is None else rebuilt.fold,
            )
        result = await reconciler.reconcile("startup", extra=extra) if enabled or rebuilt is not None else None
    except ReconcileIncomplete as exc:
        if mode is not Mode.SHADOW:
            raise
        reconciler.anomaly("reconcile_incomplete", f"startup (shadow goes on): {exc}")
        return None
    if rebuilt is not None:
        cancelled = await engine.cancel_all("orphaned by restart")
        if cancelled:
            log.info("resume: cancelled %d working orders of the crashed run", cancelled)
    return result


def refill_gate_counters(pipeline: RiskPipeline, rebuilt: RebuiltSession, now_ms: int, day_zone: str) -> None:
    """Tell the recording gates (rates, duplicates, daily counts) about this trading day's approved intents again.

    ``day_zone`` is ``[risk] day_boundary_tz``: intents whose next day boundary is the
    same as ``now_ms``'s belong to the current trading day.
    """
    recorders = [g for g in pipeline.gates if isinstance(g, RecordingGate)]
    ctx: RiskContext = pipeline.context
    zone = ZoneInfo(day_zone)
    today = next_day_boundary_ms(now_ms, zone)
    start = _day_start_ms(today, zone)

    def today_only(ts: int) -> bool:
        return start <= ts < today if start is not None else next_day_boundary_ms(ts, zone) == today

    for intent in rebuilt.approved_intents_at(today_only):
        for gate in recorders:
            gate.record_approved(intent, ctx)


def _day_start_ms(boundary_ms: int, zone: ZoneInfo) -> int | None:
    """Return the midnight before the day boundary ``boundary_ms``, or None when it cannot be pinned down.

    ``next_day_boundary_ms`` never decreases, so the times whose next boundary is
    ``boundary_ms`` are exactly ``[start, boundary_ms)`` for the ``start`` checked here
    (a day is 23 to 25 hours long around daylight-saving changes; anything else: None,
    and the caller asks per time).
    """
    start = next_day_boundary_ms(boundary_ms - 25 * 3_600_000 - 1, zone)
    if next_day_boundary_ms(start, zone) == boundary_ms and next_day_boundary_ms(start - 1, zone) == start:
        return start
    return None


class Maintenance:
    """Session-time work between market events: periodic reconciliation and test drift injection.

    Both session loops compare the session time with :attr:`next_due_ms` (one integer
    comparison) and await :meth:`run` only when it is due (``after_run`` is called with the
    session time after each periodic reconciliation: the fold checkpoint refresh); the stream loop calls
    :meth:`stream_interrupted` when its market-data stream reconnects or skips sequence
    numbers (:class:`~livegate.venues.base.StreamInterrupted`).
    """

    __slots__ = ("_after_run", "_drift_at_ms", "_injection", "_reconciler", "_venue", "next_due_ms", "schedule")

    def __init__(
        self,
        *,
        reconciler: Reconciler | None,
        config: ReconcileConfig,
        start_ms: int,
        first_event_ms: int,
        venue: VenueAdapter,
        injection: DriftInjection | None,
        status: ReconcileStatus,
        after_run: Callable[[int], None] | None = None,
    ) -> None:
        self._after_run = after_run
        self._reconciler = reconciler if config.enabled else None
        self.schedule = ReconcileSchedule(int(config.interval_secs * 1000), status, start_ms)
        self._venue = venue
        self._injection = injection
        self._drift_at_ms = first_event_ms + injection.offset_ms if injection is not None else None
        self.next_due_ms = 0
        self._update()

    @property
    def reconciling(self) -> bool:
        """Return True while new orders are denied ``RECONCILING`` (a post-reconnect run is pending)."""
        return self.schedule.status.reconciling

    def stream_interrupted(self, reason: str) -> bool:
        """Note a stream reconnect or sequence gap: deny new orders and make a reconciliation due now.

        Returns False (and blocks nothing) when reconciliation is disabled
        (``[reconcile] enabled = false``, shadow and paper only): there is no run that
        could ever lift the block.
        """
        if self._reconciler is None:
            return False
        self.schedule.stream_interrupted(reason)
        self._update()
        return True

    async def run(self, now_ms: int) -> None:
        """Do whatever is due at ``now_ms``."""
        if self._drift_at_ms is not None and now_ms >= self._drift_at_ms and self._injection is not None:
            self._drift_at_ms = None
            if isinstance(self._venue, PaperVenue):
                inj = self._injection
                self._venue.adjust_position(inj.symbol, inj.quantity_delta, "test drift injection")
                log.info("test drift injection: %s position moved by %s at the venue", inj.symbol, inj.quantity_delta)
        if self._reconciler is not None and now_ms >= self.schedule.next_due_ms:
            await self.schedule.run(self._reconciler, now_ms)
            if self._after_run is not None:
                self._after_run(now_ms)
        self._update()

    def _update(self) -> None:
        due = [self.schedule.next_due_ms] if self._reconciler is not None else []
        if self._drift_at_ms is not None:
            due.append(self._drift_at_ms)
        self.next_due_ms = min(due) if due else 2**62
