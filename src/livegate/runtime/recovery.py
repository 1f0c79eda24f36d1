"""Issue 6 wiring of a replayed session: resume, reconciliation, and the test-only fault hooks.

The composition root (:mod:`livegate.runtime.session`) calls into this module at a few
points; everything about crash recovery lives here so the session stays readable.

Test-only environment (read once, here, at startup; never in hot paths):

``LIVEGATE_CRASH_AT=<point>:<n>``
    SIGKILL the process the ``n``-th time (1-based) the engine passes ``<point>``, one of
    :data:`CRASH_POINTS`. Used by the crash harness (``tests/recovery``,
    ``benchmarks/crash.py``).
``LIVEGATE_TEST_DRIFT=<offset_secs>:<symbol>:<quantity_delta>``
    ``offset_secs`` seconds of session time after the first event, move the paper
    venue's position in ``symbol`` by ``quantity_delta`` base units behind livegate's back
    (an exchange-side adjustment; the drift injection of issue 6).
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

from livegate.config.reconcile_models import ReconcileConfig
from livegate.domain.clock import Clock, ReplayClock
from livegate.domain.enums import Mode, TradingState
from livegate.domain.errors import ConfigError
from livegate.domain.instruments import Instrument
from livegate.domain.market import Quote, Trade
from livegate.execution.engine import ExecutionEngine
from livegate.ledger import events as ev
from livegate.ledger.store import Ledger
from livegate.marketdata.quote_cache import QuoteCache
from livegate.portfolio import Portfolio
from livegate.reconcile.drift import DRIFT_FILE, DriftLog
from livegate.reconcile.gate import ReconcileGate, ReconcileStatus
from livegate.reconcile.reconciler import (
    LedgerFillIndex,
    ReconcileIncomplete,
    Reconciler,
    ReconcileResult,
    ReconcileSchedule,
)
from livegate.reconcile.resolve import resolve_after_restart
from livegate.risk.daily import next_day_boundary_ms
from livegate.risk.gate import Gate, RecordingGate, RiskContext
from livegate.risk.pipeline import RiskPipeline
from livegate.runtime.resume import CURSOR_FILE, RebuiltSession, ReplayCursor, read_cursor, rebuild_from_ledger
from livegate.venues.base import VenueAdapter
from livegate.venues.paper import PaperVenue
from livegate.venues.paper_store import PAPER_STORE_FILE, PaperStore

log = logging.getLogger("livegate")

CRASH_ENV = "LIVEGATE_CRASH_AT"
DRIFT_ENV = "LIVEGATE_TEST_DRIFT"
#: Crash points of the engine (see :class:`~livegate.execution.engine.ExecutionEngine`).
CRASH_POINTS = ("before_submit", "after_submit", "between_fills", "after_cancel", "cancel_all")

TripHandler = Callable[[TradingState, str], object]
AnomalyHandler = Callable[[str, str], None]


class CrashHook:
    """Kill the process with SIGKILL the ``count``-th time ``point`` is passed (test only)."""

    __slots__ = ("count", "point", "seen")

    def __init__(self, point: str, count: int) -> None:
        self.point = point
        self.count = count
        self.seen = 0

    def __call__(self, point: str) -> None:
        """Count ``point``; SIGKILL this process when the chosen pass is reached."""
        if point != self.point:
            return
        self.seen += 1
        if self.seen == self.count:
            os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True, slots=True)
class DriftInjection:
    """Move the paper venue's position in ``symbol`` by ``quantity_delta`` at ``offset_ms`` of session time."""

    offset_ms: int
    symbol: str
    quantity_delta: Decimal


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """Test-only hooks resolved once from the environment; both None in production."""

    crash: CrashHook | None = None
    drift: DriftInjection | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> FaultPlan:
        """Parse :data:`CRASH_ENV` and :data:`DRIFT_ENV`.

        Raises
        ------
        ConfigError
            If a variable is set but malformed (exit 2).
        """
        crash = None
        raw = env.get(CRASH_ENV, "")
        if raw:
            point, _, count = raw.partition(":")
            if point not in CRASH_POINTS or not count.isdigit() or int(count) < 1:
                raise ConfigError(f"{CRASH_ENV}={raw!r}: expected <point>:<n>, point one of {CRASH_POINTS}, n >= 1")
            crash = CrashHook(point, int(count))
        drift = None
        raw = env.get(DRIFT_ENV, "")
        if raw:
            parts = raw.split(":")
            try:
                if len(parts) != 3:
                    raise ValueError("three fields")
                drift = DriftInjection(int(float(parts[0]) * 1000), parts[1].upper(), Decimal(parts[2]))
            except (ValueError, InvalidOperation) as exc:
                raise ConfigError(f"{DRIFT_ENV}={raw!r}: expected <offset_secs>:<symbol>:<quantity_delta>") from exc
        return cls(crash=crash, drift=drift)


def resume_index(run_dir: Path, events: Sequence[Quote | Trade], rebuilt: RebuiltSession) -> int:
    """Return the index of the first market event a resumed run processes.

    The cursor file names the event being processed at the crash; the run continues with
    the next one, so no event is replayed twice. Without a cursor the first event after the
    ledger's last event time is used.
    """
    cursor = read_cursor(run_dir / CURSOR_FILE)
    if cursor is not None:
        return min(max(cursor + 1, 0), len(events))
    for index, event in enumerate(events):
        if event.ts_event_ms > rebuilt.last_ts_ms:
            return index
    return len(events)


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
) -> Reconciler:
    """Return the session's reconciler writing ``reconcile_drift.jsonl`` and ``reconciled`` events."""
    index = LedgerFillIndex(ledger)
    return Reconciler(
        venue=venue,
        portfolio=portfolio,
        config=config,
        clock=clock,
        currency_of={s: i.quote_currency for s, i in instruments.items()},
        fill_ids=index.ids,
        balance_baseline=None if rebuilt is None else rebuilt.balance_baseline,
        drift_log=DriftLog(run_dir / DRIFT_FILE),
        ledger=ledger,
        on_drift=on_drift,
        on_anomaly=on_anomaly,
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
) -> ReconcileResult | None:
    """Settle a resumed run's unfinished orders from the venue, then reconcile once.

    On resume, orders still working after reconciliation were placed by the strategy
    instance that died; they are cancelled (one by one, ``cancel_all`` crash point) so the
    new instance starts from a clean book.

    Raises
    ------
    ReconcileIncomplete
        If the venue cannot be asked, except in shadow mode (then an anomaly is raised
        and the run goes on).
    """
    try:
        extra = []
        if rebuilt is not None:
            extra = await resolve_after_restart(
                engine=engine,
                venue=reconciler.venue,
                portfolio=portfolio,
                ledger_fill_ids=rebuilt.fill_ids,
                now_ms=now_ms,
                venue_keeps_state=mode is not Mode.SHADOW,
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
    for intent in rebuilt.approved_intents:
        if next_day_boundary_ms(intent.ts_ms, zone) == today:
            for gate in recorders:
                gate.record_approved(intent, ctx)


class Maintenance:
    """Session-time work between market events: periodic reconciliation and test drift injection.

    The replay loop compares each event time with :attr:`next_due_ms` (one integer
    comparison) and awaits :meth:`run` only when it is due.
    """

    __slots__ = ("_drift_at_ms", "_injection", "_reconciler", "_venue", "next_due_ms", "schedule")

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
    ) -> None:
        self._reconciler = reconciler if config.enabled else None
        self.schedule = ReconcileSchedule(int(config.interval_secs * 1000), status, start_ms)
        self._venue = venue
        self._injection = injection
        self._drift_at_ms = first_event_ms + injection.offset_ms if injection is not None else None
        self.next_due_ms = 0
        self._update()

    def stream_interrupted(self, reason: str) -> None:
        """Note a stream reconnect or sequence gap: deny new orders and reconcile before the next event."""
        self.schedule.stream_interrupted(reason)
        self._update()

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
        self._update()

    def _update(self) -> None:
        due = [self.schedule.next_due_ms] if self._reconciler is not None else []
        if self._drift_at_ms is not None:
            due.append(self._drift_at_ms)
        self.next_due_ms = min(due) if due else 2**62


class SessionRecovery:
    """Everything issue 6 adds to one replayed session, behind a few calls from the session.

    Parameters
    ----------
    run_dir:
        The run directory.
    resume:
        True for ``livegate run --resume``: the ledger is folded back and the paper venue
        reopens its store; False starts both empty.
    env:
        Environment, read once here for the test-only fault hooks.
    ledger:
        The open ledger (read when resuming).
    """

    def __init__(self, run_dir: Path, *, resume: bool, env: Mapping[str, str], ledger: Ledger) -> None:
        self.run_dir = run_dir
        self.resume = resume and ledger.last_seq > 0  # a run killed before its first event starts afresh
        self.faults = FaultPlan.from_env(env)
        self.rebuilt: RebuiltSession | None = rebuild_from_ledger(ledger) if self.resume else None
        if self.rebuilt is not None and self.rebuilt.ended and (run_dir / "summary.json").exists():
            raise ConfigError(f"cannot resume {run_dir}: the run ended normally (session_ended is its last event)")
        self.status = ReconcileStatus()
        self.gate = ReconcileGate(self.status)
        self.cursor = ReplayCursor(run_dir / CURSOR_FILE) if not self.resume else None
        self.maintenance: Maintenance | None = None
        self.reconciler: Reconciler | None = None

    # ------------------------------------------------------------------ composition
    @property
    def store_path(self) -> Path:
        """Return the paper venue store of this run."""
        return self.run_dir / PAPER_STORE_FILE

    @property
    def crash_point(self) -> Callable[[str], None] | None:
        """Return the engine's crash hook (test only), or None."""
        return self.faults.crash

    def portfolio(self) -> Portfolio:
        """Return the rebuilt portfolio when resuming, else a new one."""
        return self.rebuilt.portfolio if self.rebuilt is not None else Portfolio()

    def session_id(self, fresh_id: str) -> str:
        """Return the resumed session's id (client order ids continue), else ``fresh_id``."""
        return self.rebuilt.session_id if self.rebuilt is not None else fresh_id

    @property
    def first_seq(self) -> int:
        """Return the first intent sequence number (after every recorded one when resuming)."""
        return self.rebuilt.next_seq if self.rebuilt is not None else 0

    @property
    def prior_anomalies(self) -> int:
        """Return the anomalies the ledger recorded before a resume (0 for a new run)."""
        return self.rebuilt.anomalies if self.rebuilt is not None else 0

    def with_gate(self, gates: list[Gate]) -> list[Gate]:
        """Insert the RECONCILING gate right after the trading-state gate (or first)."""
        at = 1 if gates and gates[0].name == "trading_state" else 0
        return [*gates[:at], self.gate, *gates[at:]]

    def adopt(self, engine: ExecutionEngine) -> None:
        """Give a resumed engine the counters of the crashed run."""
        if self.rebuilt is not None:
            engine.stats = self.rebuilt.stats

    def record_start(self, ledger: Ledger, now_ms: int, start_index: int) -> bool:
        """Append ``session_resumed`` when resuming; return False when the caller must write ``session_started``."""
        if self.rebuilt is None:
            return False
        ledger.append(
            ev.SESSION_RESUMED,
            now_ms,
            {
                "session_id": self.rebuilt.session_id,
                "resume_index": start_index,
                "next_seq": self.rebuilt.next_seq,
                "last_seq": ledger.last_seq,
                "resumes_before": self.rebuilt.resumes,
            },
        )
        return True

    def start_index(self, events: Sequence[Quote | Trade], clock: ReplayClock) -> int:
        """Return the first event to process, move ``clock`` to the last processed one, open the cursor."""
        start = 0 if self.rebuilt is None else resume_index(self.run_dir, events, self.rebuilt)
        if self.cursor is None:
            self.cursor = ReplayCursor(self.run_dir / CURSOR_FILE)
        self.cursor.mark(start - 1)
        if start > 0:
            clock.advance_to(events[start - 1].ts_event_ms)
        return start

    def warm_quotes(self, events: Sequence[Quote | Trade], start: int, cache: QuoteCache) -> None:
        """Put the last quote of each symbol before ``start`` in ``cache`` (marks for a resumed run)."""
        seen: set[str] = set()
        for event in reversed(events[:start]):
            if type(event) is Quote and event.symbol not in seen:
                seen.add(event.symbol)
                cache.update(event)

    def cursor_mark(self) -> Callable[[int], None] | None:
        """Return the cursor's ``mark`` for the replay loop."""
        return None if self.cursor is None else self.cursor.mark

    def paper_store(self, mode: Mode) -> PaperStore | None:
        """Return the paper venue's store (emptied for a new run, reopened on resume); None for shadow."""
        if mode is not Mode.PAPER:
            return None
        return PaperStore.open(self.store_path, fresh=not self.resume)

    # ------------------------------------------------------------------ startup and loop
    async def startup(
        self,
        *,
        config: ReconcileConfig,
        mode: Mode,
        venue: VenueAdapter,
        engine: ExecutionEngine,
        portfolio: Portfolio,
        pipeline: RiskPipeline,
        ledger: Ledger,
        clock: Clock,
        instruments: Mapping[str, Instrument],
        first_event_ms: int,
        day_zone: str,
        trip: TripHandler,
        on_anomaly: AnomalyHandler,
    ) -> None:
        """Reconcile before trading (settling a resumed run first) and arm the periodic schedule.

        Raises
        ------
        ReconcileIncomplete
            If the venue cannot be asked (exit 2), except in shadow.
        """
        rebuilt = self.rebuilt
        if rebuilt is not None and rebuilt.trading_state is not TradingState.ACTIVE:
            trip(rebuilt.trading_state, f"restored from ledger: {rebuilt.trading_reason}")
        self.reconciler = build_reconciler(
            run_dir=self.run_dir,
            config=config,
            venue=venue,
            portfolio=portfolio,
            ledger=ledger,
            clock=clock,
            instruments=instruments,
            rebuilt=rebuilt,
            on_drift=trip,
            on_anomaly=on_anomaly,
        )
        now = clock.now_ms()
        await startup(
            reconciler=self.reconciler,
            engine=engine,
            portfolio=portfolio,
            rebuilt=rebuilt,
            mode=mode,
            now_ms=now,
            enabled=config.enabled,
        )
        if rebuilt is not None:
            refill_gate_counters(pipeline, rebuilt, now, day_zone)
        self.maintenance = Maintenance(
            reconciler=self.reconciler,
            config=config,
            start_ms=now,
            first_event_ms=first_event_ms,
            venue=venue,
            injection=self.faults.drift,
            status=self.status,
        )

    def close(self) -> None:
        """Release the cursor mapping."""
        if self.cursor is not None:
            self.cursor.close()
