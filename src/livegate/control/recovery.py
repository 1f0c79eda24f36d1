"""Issue 6 wiring of a session: resume, reconciliation and the test-only fault hooks.

The composition root (:mod:`livegate.runtime.core`) calls into :class:`SessionRecovery` at
a few points, for both sessions: a replayed session may resume a crashed run
(``livegate run --resume``); every session reconciles before trading and then
periodically and after stream interruptions (:mod:`livegate.control.maintenance`). The
test hooks (crash points, drift injection) are the ones a test composition installed
(:mod:`livegate.control.faults`); production installs none.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path

from livegate.config.reconcile_models import ReconcileConfig
from livegate.control.faults import installed_hooks
from livegate.control.maintenance import (
    AnomalyHandler,
    Maintenance,
    TripHandler,
    build_reconciler,
    refill_gate_counters,
    startup,
)
from livegate.control.resume import (
    CURSOR_FILE,
    CheckpointRefresher,
    CursorSlot,
    RebuiltSession,
    ReplayCursor,
    read_cursor,
    rebuild_from_ledger,
)
from livegate.control.run_lock import RunLock
from livegate.domain.clock import Clock
from livegate.domain.enums import Mode, TradingState
from livegate.domain.errors import ConfigError
from livegate.domain.instruments import Instrument
from livegate.execution.engine import ExecutionEngine
from livegate.ledger import events as ev
from livegate.ledger.fold_retire import Retirement
from livegate.ledger.store import Ledger
from livegate.portfolio import Portfolio
from livegate.reconcile.fills import LedgerFillIndex, LedgerReader
from livegate.reconcile.gate import ReconcileGate, ReconcileStatus
from livegate.reconcile.leftovers import LeftoverPolicy
from livegate.reconcile.reconciler import Reconciler
from livegate.reconcile.result import ReconcileResult
from livegate.risk.budget_store import BudgetStore
from livegate.risk.daily import DailyBook
from livegate.risk.gate import Gate
from livegate.risk.pipeline import RiskPipeline
from livegate.telemetry.metrics import SessionMetrics
from livegate.venues.base import VenueAdapter
from livegate.venues.paper_store import PAPER_STORE_FILE, PaperStore

__all__ = ["SessionRecovery", "startup"]

log = logging.getLogger("livegate")


class SessionRecovery:
    """Everything issue 6 adds to one session, behind a few calls from the composition root.

    A venue-stream session uses it with ``resume=False`` and never calls the replay-only
    methods (:meth:`start_index`, :meth:`warm_quotes`, :meth:`cursor_slot`,
    :meth:`paper_store`).

    Parameters
    ----------
    run_dir:
        The run directory.
    resume:
        True for ``livegate run --resume``: the ledger is folded back and the paper venue
        reopens its store; False starts both empty.
    env:
        Environment of the session.
    ledger:
        The open ledger (read when resuming).
    budgets:
        The trading-day budget store of the session's venue account (issue 9 §5), or None.
    run_lock:
        The run directory's lock, released by :meth:`close`.
    """

    def __init__(
        self,
        run_dir: Path,
        *,
        resume: bool,
        env: Mapping[str, str],
        ledger: Ledger,
        budgets: BudgetStore | None = None,
        run_lock: RunLock | None = None,
    ) -> None:
        self.run_dir = run_dir
        self.budgets = budgets
        self._run_lock = run_lock
        self._daily: DailyBook | None = None
        self.resume_requested = resume
        self.resume = resume and ledger.last_seq > 0  # a run killed before its first event starts afresh
        self.faults = installed_hooks()
        self.rebuilt: RebuiltSession | None = rebuild_from_ledger(ledger) if self.resume else None
        if self.rebuilt is not None and self.rebuilt.ended and (run_dir / "summary.json").exists():
            raise ConfigError(f"cannot resume {run_dir}: the run ended normally (session_ended is its last event)")
        self.status = ReconcileStatus()
        self.gate = ReconcileGate(self.status)
        self.cursor: ReplayCursor | None = None  # replayed sessions open it in start_index
        self.maintenance: Maintenance | None = None
        self.reconciler: Reconciler | None = None
        #: The startup reconciliation (its records include leftover orders settled), once :meth:`startup` ran.
        self.startup_result: ReconcileResult | None = None
        #: The session reader's retirement whose failed reads :meth:`startup` reports (until :meth:`close`).
        self._retirement: Retirement | None = None
        #: Refreshes the fold checkpoint (``ledger.checkpoint``) after periodic reconciliations.
        self.checkpoints = CheckpointRefresher(
            ledger.path, covered_seq=self.rebuilt.checkpoint_seq if self.rebuilt is not None else 0
        )

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

    def resume_point(self) -> tuple[int | None, int | None]:
        """Return where a resumed replay continues: (cursor's last marked event, ledger's last event time).

        The run continues after the event the cursor names (it was being processed at the
        crash), so no event is replayed twice; without a cursor (lost with a power loss)
        after the ledger's last event time. ``(None, None)`` for a new run.
        """
        if self.rebuilt is None:
            return None, None
        return read_cursor(self.run_dir / CURSOR_FILE), self.rebuilt.last_ts_ms

    def open_cursor(self, start: int) -> None:
        """Open the replay cursor with event ``start`` next (it marks ``start - 1`` as processed)."""
        if self.cursor is None:
            self.cursor = ReplayCursor(self.run_dir / CURSOR_FILE)
        self.cursor.mark(start - 1)

    def cursor_slot(self) -> CursorSlot | None:
        """Return the cursor's slot for the replay loop (``slot[0] = index`` marks event ``index``)."""
        return None if self.cursor is None else self.cursor.slot()

    def paper_store(self, mode: Mode) -> PaperStore | None:
        """Return the paper venue's store (created for a new run, reopened on resume); None for shadow.

        Nothing ever empties a venue store: a new run finding one refuses to start. (A
        resume of a run killed before its first ledger event reopens the store it
        created: write-ahead means nothing was sent to it.)

        Raises
        ------
        ConfigError
            If a new run finds a store in its run directory.
        """
        if mode is not Mode.PAPER:
            return None
        if not self.resume_requested and self.store_path.exists():
            raise ConfigError(
                f"{self.store_path} exists: a new run never reuses or empties a venue store; "
                f"continue it with livegate run --resume {self.run_dir}"
            )
        return PaperStore.open(self.store_path)

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
        daily: DailyBook | None = None,
        session_id: str = "",
        metrics: SessionMetrics | None = None,
        fill_reader: LedgerReader | None = None,
        on_read_failed: Callable[[str], None] | None = None,
    ) -> None:
        """Reconcile before trading (settling a resumed run first) and arm the periodic schedule.

        With ``daily`` the trading-day book continues the account's budgets
        (:meth:`DailyBook.attach`); a resumed run then recounts its own approved orders of
        today from the ledger. ``metrics`` counts the reconciliations (startup and periodic).
        ``fill_reader`` (a new run only) is what the reconciler's fill index reads the
        ledger through (the end-of-run report's reader, so the ledger is folded once).
        ``on_read_failed`` is told (until :meth:`close`) when that reader or the engine's book
        cannot read a finished order back from the ledger (the session halts and stops on it;
        :attr:`livegate.ledger.fold_retire.Retirement.on_read_failed`).

        Raises
        ------
        ReconcileIncomplete
            If the venue cannot be asked (exit 2), except in shadow.
        ConfigError
            If the budget file is unreadable (exit 2).
        """
        rebuilt = self.rebuilt
        if rebuilt is not None and rebuilt.trading_state is not TradingState.ACTIVE:
            trip(rebuilt.trading_state, f"restored from ledger: {rebuilt.trading_reason}")
        # a resumed run's fill index goes on from the rebuilt fold instead of folding the ledger again
        if rebuilt is not None:
            fill_index: LedgerFillIndex | None = LedgerFillIndex(ledger, rebuilt.fold)
        else:
            fill_index = None if fill_reader is None else LedgerFillIndex(ledger, reader=fill_reader)
            retirement = None if fill_reader is None else fill_reader.fold.retirement
            if fill_index is not None and fill_reader is not None and retirement is not None:
                # the engine's book lets go the finished orders the reader did, and reads one back alike
                portfolio.revive_with(partial(retirement.order_copy, fill_reader.fold))
                engine.quality.arrival_of = partial(retirement.arrival_mid, fill_reader.fold)
                fill_index.on_retired = engine.retire_finished
                retirement.on_read_failed = on_read_failed  # a failed read back halts the session
                self._retirement = retirement
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
            metrics=metrics,
            fill_index=fill_index,
        )
        now = clock.now_ms()
        self.startup_result = await startup(
            reconciler=self.reconciler,
            engine=engine,
            portfolio=portfolio,
            rebuilt=rebuilt,
            mode=mode,
            now_ms=now,
            enabled=config.enabled,
            leftovers=LeftoverPolicy(config.on_leftover_orders),
        )
        if daily is not None and self.budgets is not None:
            ctx = pipeline.context
            daily.attach(self.budgets, session_id, now, portfolio, ctx.quotes, count_from_ledger=rebuilt is not None)
            self._daily = daily
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
            after_run=lambda _now_ms: self._refresh_checkpoint(ledger),
        )

    def _refresh_checkpoint(self, ledger: Ledger) -> None:
        """Refresh the fold checkpoint in the background if the ledger grew enough (after periodic reconciliations)."""
        self.checkpoints.maybe_refresh(ledger.last_seq)

    def close(self) -> None:
        """Write the day's budgets, release the cursor mapping and the run directory lock.

        A failed read back of a finished order is no longer reported to the session (the
        end-of-run report may still read the ledger file).
        """
        if self._retirement is not None:
            self._retirement.on_read_failed = None
        try:
            if self._daily is not None:
                self._daily.flush()
        except OSError as exc:
            log.warning("could not write the trading-day budgets to %s: %s", self.budgets and self.budgets.path, exc)
        finally:
            if self.cursor is not None:
                self.cursor.close()
            if self._run_lock is not None:
                self._run_lock.release()
