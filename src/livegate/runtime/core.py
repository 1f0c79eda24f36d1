"""The one composition root path of a session: everything but the event source and its loop.

Both sessions — replayed data (:mod:`livegate.runtime.session`) and a venue's market-data
stream (:mod:`livegate.runtime.live_session`) — decide three things themselves: the
session id, where approved orders go (:class:`VenueWiring`, chosen once by the mode) and
their loop. Everything else is built here, once, in the same order for both:

1. the run directory's artifacts (``config_resolved.json``, ``build_info.json``,
   ``kill_events.jsonl``), the ledger and the issue 6 recovery wiring
   (:func:`open_session`);
2. telemetry, portfolio, quote cache, the kill switch's side (:class:`SessionRisk`), the
   risk pipeline (with the ``RECONCILING`` gate), the execution engine and the strategy
   context (:class:`SessionCore`);
3. the start records, startup reconciliation, the strategy's run — the one session loop
   (:mod:`livegate.runtime.loop`) with the wall-clock timer (:mod:`livegate.runtime.timer`),
   the strategy watchdog (:mod:`livegate.runtime.watchdog`), the stop signals
   (:mod:`livegate.runtime.signals`) and the storage checks (:mod:`livegate.runtime.storage`)
   — with its error handling, and the end: the graceful stop's cancels, ``session_ended``,
   ``summary.json`` and ``report.html``.
"""

from __future__ import annotations

import logging
import signal
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from livegate.alerts.model import AlertSeverity
from livegate.api.views import OperatorViews
from livegate.config.loader import ResolvedConfig
from livegate.control.recovery import SessionRecovery
from livegate.control.session_risk import SessionRisk
from livegate.domain.clock import Clock, monotonic_secs
from livegate.domain.enums import TradingState
from livegate.domain.errors import ConfigError, DataError, LedgerError
from livegate.domain.instruments import Instrument
from livegate.execution.context import EngineContext
from livegate.execution.engine import ExecutionEngine
from livegate.ledger import events as ev
from livegate.ledger.store import Ledger
from livegate.marketdata.quote_cache import QuoteCache
from livegate.modes.resolve import ModeResolution, gate_line
from livegate.ops.rollup_read import RunReader
from livegate.reconcile.result import ReconcileIncomplete
from livegate.risk.gate import RiskContext
from livegate.risk.pipeline import RiskPipeline
from livegate.runtime.alerting import SessionAlerts
from livegate.runtime.artifacts import livegate_version, write_json, write_report
from livegate.runtime.loop import LoopControl, ReplaySource, StreamSource, run_loop
from livegate.runtime.session_gauges import refresh_gauges
from livegate.runtime.signals import StopSignals
from livegate.runtime.storage import StorageGuard
from livegate.runtime.summary import InputFacts, SessionMetrics, build_summary
from livegate.runtime.timer import SessionTimer
from livegate.runtime.watchdog import CallbackTimeout, NamedCallback, StrategyWatchdog
from livegate.runtime.wiring import SessionResult, VenueWiring, fresh_session_id, load_strategy, open_session
from livegate.strategy.api import Strategy
from livegate.telemetry.metrics import METRICS_FILE
from livegate.telemetry.metrics import SessionMetrics as PrometheusMetrics
from livegate.telemetry.writer import FloatOf, TelemetryWriter
from livegate.venues.paper_store import PAPER_STORE_FILE

__all__ = ["SessionCore", "SessionResult", "VenueWiring", "fresh_session_id", "load_strategy", "open_session"]

log = logging.getLogger("livegate")
#: Errors of the session's own storage (ledger, paper venue store, telemetry, run directory): fail closed.
_STORAGE_ERRORS = (LedgerError, DataError, OSError, sqlite3.Error)


class SessionCore:
    """One session's parts, built in one place for every event source.

    Parameters
    ----------
    resolved, mode, env:
        Resolved config, the mode resolved once, and the environment.
    run_dir, ledger, recovery:
        From :func:`open_session`.
    clock, advance:
        Session clock, and the function moving it (replayed time) or None (wall time).
    instruments:
        Instruments the session trades.
    wiring:
        Where approved orders go (:class:`VenueWiring`).
    session_id:
        Input of the client order ids (a resumed run's id continues).
    strategy:
        The strategy instance and its name (:func:`load_strategy`).
    """

    def __init__(
        self,
        *,
        resolved: ResolvedConfig,
        mode: ModeResolution,
        env: Mapping[str, str],
        run_dir: Path,
        ledger: Ledger,
        recovery: SessionRecovery,
        clock: Clock,
        advance: Callable[[int], None] | None,
        instruments: dict[str, Instrument],
        wiring: VenueWiring,
        session_id: str,
        strategy: tuple[Strategy, str],
    ) -> None:
        cfg = resolved.config
        #: Prometheus metrics in their own registry (``/metrics``, ``metrics.prom`` at the end).
        self.prometheus = PrometheusMetrics(mode=mode.mode.value, version=livegate_version())
        try:
            self.alerts = SessionAlerts(cfg.alerts, clock, run_dir, on_delivery=self._count_alert)
        except ConfigError:
            ledger.close()
            recovery.close()
            raise
        self.resolved, self.mode, self.run_dir = resolved, mode, run_dir
        self.ledger, self.recovery, self.clock = ledger, recovery, clock
        self.instruments, self.wiring, self.session_id = instruments, wiring, session_id
        self.strategy, strategy_name = strategy
        self.anomalies: list[dict[str, str]] = []
        #: A new run's ledger reader: the fill index folds through it, the report finishes it.
        self.run_reader: RunReader | None = None
        self.metrics = SessionMetrics()
        self.prometheus.expect(sorted(wiring.venues), sorted(instruments))
        self._metrics_write_failed = False
        self._failed = False
        self.stop_signal: int | None = None
        self._signals: StopSignals | None = None
        self.watchdog = StrategyWatchdog(cfg.strategy.callback_timeout_ms)
        self.telemetry = TelemetryWriter(run_dir / "telemetry.jsonl", append=recovery.resume_requested)
        self._pnl_float, self._drawdown_float = FloatOf(), FloatOf()
        self.storage = StorageGuard()
        self.storage.watch_file("ledger", run_dir / "ledger.sqlite")
        self.storage.watch_file("telemetry", self.telemetry.path)
        self.storage.watch_errors("telemetry", lambda: self.telemetry.error)
        if (run_dir / PAPER_STORE_FILE).exists():
            self.storage.watch_file("paper venue store", run_dir / PAPER_STORE_FILE)
        self.portfolio = recovery.portfolio()
        self.quotes = QuoteCache()
        self.risk = SessionRisk(
            config=cfg,
            env=env,
            clock=clock,
            advance=advance,
            quotes=self.quotes,
            portfolio=self.portfolio,
            instruments=instruments,
            ledger=ledger,
            telemetry=self.telemetry,
            run_dir=run_dir,
            session_id=session_id,
            report_anomaly=self.on_anomaly,
        )
        self.risk.kill.add_listener(self.alerts.on_state_changed)
        risk_ctx = RiskContext(instruments=instruments, quotes=self.quotes, portfolio=self.portfolio, clock=clock)
        gates = recovery.with_gate([*self.risk.gates(mode.mode), *wiring.extra_gates])
        self.pipeline = RiskPipeline(gates, risk_ctx)
        self.engine = ExecutionEngine(
            pipeline=self.pipeline,
            ledger=ledger,
            telemetry=self.telemetry,
            portfolio=self.portfolio,
            venues=wiring.venues,
            router=wiring.router,
            clock=clock,
            session_id=session_id,
            strategy_name=strategy_name,
            first_seq=recovery.first_seq,
            crash_point=recovery.crash_point,
            ambiguous_timeout_secs=self.resolved.config.execution.ambiguous_timeout_secs,
            # a venue-stream session (no replay clock to advance): a slow venue call never
            # blocks timers, quotes, cancels or the kill check (issue 10 §3l)
            background_venue_calls=advance is None,
            metrics=self.prometheus,
        )
        recovery.adopt(self.engine)
        self.engine.add_anomaly_handler(self.on_anomaly)
        self.ctx = EngineContext(
            engine=self.engine,
            portfolio=self.portfolio,
            quotes=self.quotes,
            instruments=instruments,
            clock=clock,
            strategy_id=strategy_name,
            sizer=wiring.sizer,
        )
        self._started_secs = monotonic_secs()
        #: The loop's lock and stop request, shared with the timer and the operator's API actions.
        self.control = LoopControl()
        #: Wall time (monotonic s) of the timer's last tick: ``GET /health`` judges a stall by it.
        self.last_tick_secs = monotonic_secs()
        # status.json every second; the HTTP API when [http] bind is set (its /metrics: the session registry)
        self.views = OperatorViews(self, alert_health=self.alerts.health, registry=self.prometheus.registry)

    def _count_alert(self, severity: AlertSeverity, delivered: bool) -> None:
        """Count one alert delivery in ``livegate_alerts_sent_total`` / ``_failed_total`` (alert thread)."""
        if delivered:
            self.prometheus.alert_sent(severity.value)
        else:
            self.prometheus.alert_failed(severity.value)

    # ------------------------------------------------------------------ loop steps
    def deliver_fills(self) -> None:
        """Hand the fills that arrived since the last call to ``strategy.on_fill``, in arrival order."""
        strategy, ctx, watch = self.strategy, self.ctx, self.watchdog
        for fill in self.engine.take_new_fills():
            watch.current = fill
            strategy.on_fill(ctx, fill)
            watch.current = None

    def fail_closed(self, kind: str, detail: str) -> None:
        """Trip HALTED with ``detail`` and record anomaly ``kind`` (the next service step cancels everything).

        The trip comes first so the state names ``kind`` as its source; the anomaly's own
        response (HALT in ``ANOMALY_RESPONSES``) then finds the session already halted.
        """
        self.risk.kill.trip(TradingState.HALTED, f"{kind}: {detail}", kind)
        self.on_anomaly(kind, detail)

    def heartbeat(self, ts_ms: int) -> None:
        """Observe equity (PnL in USD) and write one ``heartbeat`` telemetry line at clock time ``ts_ms``."""
        metrics, engine, portfolio = self.metrics, self.engine, self.portfolio
        equity = portfolio.equity_pnl(self.quotes.mid)
        metrics.observe_equity(equity)  # the gauges are set by the session timer's tick and at the end
        stats = engine.stats
        self.telemetry.emit_heartbeat(
            ts_ms,
            quotes_processed=metrics.quotes,
            trades_processed=metrics.trades,
            intents=stats.intents,
            fills=stats.fills,
            open_orders=portfolio.working_count(),
            # what the writer makes of a Decimal, converted once per change (the line's text reused)
            pnl_total_usd=self._pnl_float(equity) if equity is not None else 0.0,
            drawdown_usd=self._drawdown_float(metrics.drawdown),
        )

    # ------------------------------------------------------------------ events
    def on_anomaly(self, kind: str, detail: str) -> None:
        """Record an anomaly (exit code 3) in telemetry and the ledger; let the kill switch judge it."""
        self.anomalies.append({"kind": kind, "detail": detail})
        self.prometheus.anomaly(kind)
        self.telemetry.emit("anomaly", self.clock.now_ms(), anomaly_kind=kind, detail=detail)
        if kind != "ledger_write_failed":
            try:
                self.ledger.append(ev.ANOMALY, self.clock.now_ms(), {"kind": kind, "detail": detail})
            except LedgerError as exc:
                self.on_anomaly("ledger_write_failed", str(exc))
        self.alerts.on_anomaly(kind, detail)
        self.risk.on_anomaly(kind, detail)

    # ------------------------------------------------------------------ start
    def announce(self, inputs: list[str], *, note: str, resume_index: int = 0, **started: object) -> None:
        """Log the gate line; record ``session_started`` (or ``session_resumed``) and its telemetry.

        ``started`` adds fields after the standard ``session_started`` payload.
        """
        mode = self.mode
        now = self.clock.now_ms()
        log.info(gate_line(mode.mode, "PASS", mode.note or note, mode.source))
        if not self.recovery.record_start(self.ledger, now, resume_index):
            cfg = self.resolved.config
            payload: dict[str, object] = {
                "session_id": self.session_id,
                "mode": mode.mode.value,
                "seed": cfg.seed,
                "config_hash": self.resolved.config_hash,
                "inputs": list(inputs),
                "strategy": cfg.strategy.spec,
                "livegate_version": livegate_version(),
                **started,
            }
            self.ledger.append(ev.SESSION_STARTED, now, payload)
        self.telemetry.emit(
            "session_started", now, mode=mode.mode.value, session_id=self.session_id, inputs=list(inputs)
        )
        cfg = self.resolved.config
        self.alerts.session_started(
            session_id=self.session_id,
            mode=mode.mode.value,
            real_money=mode.mode.is_real,
            venue=cfg.venue.name,
            strategy=cfg.strategy.spec,
            state=self.risk.kill.state,
        )

    async def begin(self, first_event_ms: int) -> None:
        """Apply the latched trading state, then reconcile with the venue before any trading.

        Raises
        ------
        ReconcileIncomplete
            If the venue cannot be asked (exit 2; shadow goes on); telemetry and the
            ledger are closed first.
        """
        cfg = self.resolved.config
        try:
            self.views.prepare()  # bind the API before trading: a busy port refuses the start
        except ConfigError:
            self._close()
            raise
        self.risk.start()
        if self.recovery.rebuilt is None:
            self.run_reader = RunReader(self.run_dir)
        try:
            await self.recovery.startup(
                config=cfg.reconcile,
                mode=self.mode.mode,
                venue=self.wiring.reconcile_venue,
                engine=self.engine,
                portfolio=self.portfolio,
                pipeline=self.pipeline,
                ledger=self.ledger,
                clock=self.clock,
                instruments=self.instruments,
                first_event_ms=first_event_ms,
                day_zone=cfg.risk.day_boundary_tz,
                trip=lambda state, reason: self.risk.kill.trip(state, reason, "reconcile"),
                on_anomaly=self.on_anomaly,
                daily=self.risk.parts.daily,
                session_id=self.session_id,
                metrics=self.prometheus,
                fill_reader=self.run_reader,
            )
        except ReconcileIncomplete as exc:
            self.alerts.session_refused(str(exc))
            await self.views.stop()
            self._close()
            raise
        if self.recovery.startup_result is not None:
            self.alerts.startup_reconciled(self.recovery.startup_result.records, cfg.reconcile.on_leftover_orders)

    # ------------------------------------------------------------------ run
    async def run(self, source: ReplaySource | StreamSource, *, error_kind: str, end_reason: str) -> str:
        """Run the strategy's ``on_start``, the session loop over ``source`` and ``on_stop``; return the end reason.

        The wall-clock timer, the strategy watchdog and the stop signals run alongside.
        A stop (signal, storage failure) ends the loop before its next batch and skips
        ``on_stop``; the reason is the stop's (``"signal SIGTERM"``). A callback overrunning
        ``[strategy] callback_timeout_ms`` halts the session (anomaly ``strategy_timeout``,
        exit 3), a ledger or storage error too (``storage_failed``). Any other exception
        ends the session as an anomaly ``error_kind`` with the reason
        ``"<error kind words>: <exception>"`` (exit code 1); the artifacts are still written.
        """
        ctx, watch, strategy = self.ctx, self.watchdog, self.strategy
        control = self.control
        timer = SessionTimer(self, control, wall_clock=source.wall_clock)

        def on_signal(signum: int) -> None:
            control.request_stop(f"signal {signal.Signals(signum).name}", signum=signum)

        self._signals = StopSignals(on_signal)
        self._started_secs = monotonic_secs()
        self._signals.install()
        watch.start()
        timer.start()
        raised = True
        try:
            await self.views.start()
            watch.current = NamedCallback("on_start")
            strategy.on_start(ctx)
            watch.current = None
            await self.engine.dispatch()
            await run_loop(self, source, control)
            if control.stop_reason is None:
                watch.current = NamedCallback("on_stop")
                strategy.on_stop(ctx)
                watch.current = None
            raised = False
        except CallbackTimeout as exc:
            watch.current = None
            end_reason = f"strategy watchdog: {exc}"
            log.error("%s; halting", exc)
            self.fail_closed("strategy_timeout", str(exc))
        except _STORAGE_ERRORS as exc:
            end_reason = f"storage failure: {exc}"
            log.error("storage failure: %s; halting", exc)
            self.fail_closed("storage_failed", str(exc))
        except Exception as exc:  # a strategy or stream failure ends the session with its artifacts written
            end_reason = f"{error_kind.replace('_', ' ')}: {exc!r}"
            log.exception("%s; ending the session", error_kind.replace("_", " "))
            self.on_anomaly(error_kind, repr(exc))
            self._failed = True
        finally:
            await timer.stop()
            watch.stop()
        if control.stop_reason is not None and not raised:
            end_reason = control.stop_reason
        self.stop_signal = control.stop_signal
        return end_reason

    async def _stop_cancels(self) -> None:
        """On a stop signal, cancel working orders and wait (bounded) for the venues to confirm."""
        shutdown = self.resolved.config.shutdown
        if self.stop_signal is None or not shutdown.cancel_open_orders:
            return
        if self.risk.kill.state is TradingState.HALTED:
            return  # the halt already cancelled and confirmed
        await self.risk.cancel_and_confirm(
            self.engine, f"shutdown: {signal.Signals(self.stop_signal).name}", shutdown.cancel_timeout_ms
        )

    async def end_cancels(self, reason: str) -> None:
        """At the end of a venue session, cancel what is still working and confirm at the venue.

        With ``[shutdown] cancel_open_orders`` (default) every venue is asked to cancel all
        and polled until it reports none open (bounded by ``cancel_timeout_ms``; orders left
        are the anomaly ``cancel_all_unconfirmed``), so no order of the session is left
        working, whatever its state in livegate's book (e.g. a cancel that failed).
        Without it, only the orders livegate knows as working get a cancel request.
        """
        shutdown = self.resolved.config.shutdown
        if self.stop_signal is not None:
            return  # the stop path already cancelled and confirmed (_stop_cancels)
        if shutdown.cancel_open_orders:
            await self.risk.cancel_and_confirm(self.engine, reason, shutdown.cancel_timeout_ms)
            return
        for order in self.portfolio.working_orders():
            self.engine.request_cancel(order.client_order_id, reason)

    async def finish(
        self,
        end_reason: str,
        facts: InputFacts,
        *,
        extra: Callable[[], Mapping[str, Any]] | None = None,
    ) -> SessionResult:
        """Send what is queued, judge the kill triggers once more, write the end records and artifacts.

        ``extra`` adds keys to ``summary.json`` after ``trading_state``.
        """
        engine, risk, clock = self.engine, self.risk, self.clock
        try:
            if engine.has_pending:
                await engine.dispatch()
            await engine.settle()  # background venue calls answer (each bounded) before the end records
            if risk.needs_service(engine):
                await risk.service(engine)
            if risk.halt_unconfirmed:  # a halt's cancels still unconfirmed: retry, bounded, before ending
                await risk.retry_halt(engine, self.resolved.config.kill.cancel_confirm_timeout_ms)
            await self._stop_cancels()
            await risk.settle_flatten()  # [kill] flatten_on_halt rounds still running
        except _STORAGE_ERRORS as exc:
            self.fail_closed("storage_failed", str(exc))
            await risk.service(engine)
        problem = self.storage.check()
        if problem:  # never end clean without the files the session opened (each failure reported once)
            self.fail_closed("storage_failed", problem)
            if risk.needs_service(engine):
                await risk.service(engine)
        wall_secs = monotonic_secs() - self._started_secs
        self.metrics.observe_equity(self.portfolio.equity_pnl(self.quotes.mid))
        try:
            self.ledger.append(ev.SESSION_ENDED, clock.now_ms(), {"reason": end_reason})
        except LedgerError as exc:
            self.on_anomaly("ledger_write_failed", str(exc))
        cfg = self.resolved.config
        summary = build_summary(
            mode=self.mode.mode.value,
            data=facts,
            engine=engine,
            portfolio=self.portfolio,
            quotes=self.quotes,
            metrics=self.metrics,
            ledger_hash=self.ledger.head_hash,
            wall_secs=wall_secs,
            session_id=self.session_id,
            seed=cfg.seed,
            strategy=cfg.strategy.spec,
            anomalies=len(self.anomalies) + self.recovery.prior_anomalies,
        )
        self.telemetry.emit(
            "session_ended",
            clock.now_ms(),
            quotes_processed=self.metrics.quotes,
            trades_processed=self.metrics.trades,
            bad_rows=facts.bad_rows,
            fills=engine.stats.fills,
        )
        summary["trading_state"] = risk.summary()
        if extra is not None:
            summary.update(extra())
        self.alerts.session_stopped(
            session_id=self.session_id,
            reason=end_reason,
            state=risk.kill.state,
            anomalies=len(self.anomalies) + self.recovery.prior_anomalies,
        )
        self._close()
        if self.telemetry.error and not any(a["kind"] == "storage_failed" for a in self.anomalies):
            self.anomalies.append({"kind": "storage_failed", "detail": self.telemetry.error})
        if self._signals is not None:
            self._signals.uninstall()
        summary["end_reason"] = end_reason
        refresh_gauges(self)
        self.write_metrics()
        write_json(self.run_dir / "summary.json", summary)
        write_report(self.run_dir / "report.html", summary, self.run_reader)
        exit_code = self._exit_code()
        await self.views.stop()
        return SessionResult(run_dir=self.run_dir, summary=summary, exit_code=exit_code, anomalies=self.anomalies)

    def _exit_code(self) -> int:
        """Return 1 (failed), 3 (anomalies, a kill, storage), 128 + signal (stopped by a signal) or 0."""
        if self._failed:
            return 1
        if self.anomalies or self.risk.not_clean:
            return 3
        if self.stop_signal is not None:
            return 128 + self.stop_signal
        return 0

    def write_metrics(self) -> None:
        """Write ``metrics.prom`` (wall-clock heartbeats and the end); a failure is logged, not an anomaly."""
        try:
            self.prometheus.write(self.run_dir)
        except OSError as exc:
            if not self._metrics_write_failed:  # once: a heartbeat rewrites it every second
                log.error("could not write %s: %s", self.run_dir / METRICS_FILE, exc)
            self._metrics_write_failed = True

    def _close(self) -> None:
        self.alerts.close()
        self.telemetry.close()
        self.ledger.close()
        self.recovery.close()
