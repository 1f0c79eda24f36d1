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
3. the start records and startup reconciliation (:mod:`livegate.runtime.session_begin`), the
   strategy's run — the one session loop (:mod:`livegate.runtime.loop`) with the wall-clock
   timer (:mod:`livegate.runtime.timer`), the strategy watchdog
   (:mod:`livegate.runtime.watchdog`), the stop signals (:mod:`livegate.runtime.signals`) and
   the storage checks (:mod:`livegate.runtime.storage`) — with its error handling, and the
   end (:mod:`livegate.runtime.session_end`): the graceful stop's cancels, ``session_ended``,
   ``summary.json`` and ``report.html``.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable, Mapping
from pathlib import Path

from livegate.alerts.model import AlertSeverity
from livegate.api.views import OperatorViews
from livegate.config.loader import ResolvedConfig
from livegate.control.recovery import SessionRecovery
from livegate.control.session_risk import SessionRisk
from livegate.domain.clock import Clock, monotonic_secs
from livegate.domain.enums import TradingState
from livegate.domain.errors import ConfigError, LedgerError
from livegate.domain.instruments import Instrument
from livegate.execution.context import EngineContext
from livegate.execution.engine import ExecutionEngine
from livegate.ledger import events as ev
from livegate.ledger.store import Ledger
from livegate.marketdata.quote_cache import QuoteCache
from livegate.modes.resolve import ModeResolution
from livegate.ops.rollup_read import RunReader
from livegate.risk.gate import RiskContext
from livegate.risk.pipeline import RiskPipeline
from livegate.runtime.alerting import SessionAlerts
from livegate.runtime.artifacts import livegate_version
from livegate.runtime.loop import LoopControl, run_loop
from livegate.runtime.session_begin import SessionBegin
from livegate.runtime.session_end import STORAGE_ERRORS, SessionEnd
from livegate.runtime.signals import StopSignals
from livegate.runtime.sources import ReplaySource, StreamSource
from livegate.runtime.storage import StorageGuard
from livegate.runtime.summary import SessionMetrics
from livegate.runtime.timer import SessionTimer
from livegate.runtime.watchdog import CallbackTimeout, NamedCallback, StrategyWatchdog
from livegate.runtime.wiring import SessionResult, VenueWiring, fresh_session_id, load_strategy, open_session
from livegate.strategy.api import Strategy
from livegate.telemetry.metrics import SessionMetrics as PrometheusMetrics
from livegate.telemetry.writer import FloatOf, TelemetryWriter
from livegate.venues.paper_store import PAPER_STORE_FILE

__all__ = ["SessionCore", "SessionResult", "VenueWiring", "fresh_session_id", "load_strategy", "open_session"]

log = logging.getLogger("livegate")


class SessionCore(SessionBegin, SessionEnd):
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
        self._storage_failures: set[str] = set()  # details failed closed on (storage_failed), each once
        self.stop_signal: int | None = None
        #: On a stop signal: when its cancels must be done (monotonic s; [shutdown] cancel_timeout_ms after it).
        self.stop_deadline: float | None = None
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
        if recovery.rebuilt is not None:
            self.risk.adopt(self.engine)
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

    def storage_failed(self, detail: str) -> None:
        """Log a storage failure and fail closed on it (anomaly ``storage_failed``, HALTED), once per ``detail``.

        The same failure can come twice: a ledger read that could not rebuild a finished
        order tells the session at once (:meth:`ledger_read_failed`), and its error then goes
        on up to what called the read (the loop, the timer).
        """
        if detail in self._storage_failures:
            return
        self._storage_failures.add(detail)
        log.error("storage failure: %s; halting", detail)
        self.fail_closed("storage_failed", detail)

    def ledger_read_failed(self, detail: str) -> None:
        """Halt and stop the session: a finished order could not be read back from the ledger (§8 of the architecture).

        The session reader's retirement calls it (:attr:`Retirement.on_read_failed
        <livegate.ledger.fold_retire.Retirement.on_read_failed>`) with the order, the seqs and
        the error, before it raises: the session fails closed whoever catches the error (a
        venue's private-stream task, a strategy callback, the timer, the loop), so it never
        trades on a book it could not rebuild. The loop stops before its next batch with
        the end reason ``storage failure: <detail>``; the halt cancels every order; exit 3.
        """
        self.storage_failed(detail)
        self.control.request_stop(f"storage failure: {detail}")

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
        except STORAGE_ERRORS as exc:
            end_reason = f"storage failure: {exc}"
            self.storage_failed(str(exc))
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
        if self.stop_signal is not None:
            self.stop_deadline = monotonic_secs() + self.resolved.config.shutdown.cancel_timeout_ms / 1000
        return end_reason
