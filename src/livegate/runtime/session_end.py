"""The end of a session: the graceful stop's cancels, ``session_ended``, ``summary.json``, ``report.html``.

A base of :class:`~livegate.runtime.core.SessionCore`: :meth:`SessionEnd.end_cancels`
leaves no order of a venue session working; :meth:`SessionEnd.finish` sends what is
queued, judges the kill triggers once more, writes the end records and artifacts
(``metrics.prom`` too, :meth:`SessionEnd.write_metrics`) and picks the exit code.
"""

from __future__ import annotations

import logging
import signal
import sqlite3
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

from livegate.domain.clock import monotonic_secs
from livegate.domain.enums import TradingState
from livegate.domain.errors import DataError, LedgerError
from livegate.ledger import events as ev
from livegate.runtime.artifacts import write_json, write_report
from livegate.runtime.session_gauges import refresh_gauges
from livegate.runtime.session_parts import SessionParts
from livegate.runtime.summary import InputFacts, build_summary
from livegate.runtime.wiring import SessionResult
from livegate.telemetry.metrics import METRICS_FILE

if TYPE_CHECKING:
    from livegate.runtime.core import SessionCore

__all__ = ["STORAGE_ERRORS", "SessionEnd"]

log = logging.getLogger("livegate")
#: Errors of the session's own storage (ledger, paper venue store, telemetry, run directory): fail closed.
STORAGE_ERRORS = (LedgerError, DataError, OSError, sqlite3.Error)


class SessionEnd(SessionParts):
    """Cancel at the end, write the end records and artifacts (a base of :class:`~livegate.runtime.core.SessionCore`).

    Reads the session's parts (:class:`~livegate.runtime.session_parts.SessionParts`).
    """

    async def stop_cancels(self) -> None:
        """On a stop signal, cancel working orders and wait (bounded) for the venues to confirm.

        Called first while venue calls may still be in the air (a venue session ending on
        a signal: the venue's own list of open orders shows an order whose submit answer
        is late), then again by :meth:`finish` once they answered.
        """
        shutdown = self.resolved.config.shutdown
        if self.stop_signal is None or not shutdown.cancel_open_orders:
            return
        if self.risk.kill.state is TradingState.HALTED:
            return  # the halt already cancelled and confirmed
        if not self._stop_may_call():
            return  # the stop's wait is over (a first pass named what it left open)
        deadline = self.stop_deadline
        left_ms = shutdown.cancel_timeout_ms if deadline is None else max(0, int((deadline - monotonic_secs()) * 1000))
        await self._cancel_and_confirm(f"shutdown: {signal.Signals(self.stop_signal).name}", left_ms)

    async def _cancel_and_confirm(self, reason: str, timeout_ms: int) -> None:
        """Cancel every working order, wait at most ``timeout_ms``, and name what stays unconfirmed (stderr, ledger)."""
        remaining = await self.risk.cancel_and_confirm(self.engine, reason, timeout_ms, left_open=self._left_open)
        if remaining:
            log.error("%d order(s) %s", remaining, self._left_open())

    def _stop_may_call(self) -> bool:
        """Return False once a stop's cancel wait is over: its deadline passed, or the venues' backoff runs past it.

        Every venue call of a stop shares ``stop_deadline`` (``[shutdown] cancel_timeout_ms``
        after the signal): its cancels (one pass, or two when a submit's answer was still
        awaited) and a halt tripped meanwhile (e.g. by the cancels' venue errors, which is
        latched all the same), so the stop ends in about that time plus the flush.
        """
        if self.stop_deadline is None:
            return True
        return monotonic_secs() + self.engine.halt_wait_max_secs() < self.stop_deadline

    def _left_open(self) -> str:
        """Return which orders the venues did not confirm cancelled, and how to settle them (stderr, ledger).

        The orders livegate still holds as working or in flight (a venue that cannot be
        asked may hold them open); ``livegate cancel-all RUN_DIR`` cancels them once the
        venue answers, and records the outcome in this run's ledger.
        """
        orders = {o.client_order_id: o for o in self.portfolio.working_orders()}
        orders.update(self.engine.ambiguous_orders)
        names = ", ".join(
            f"{o.client_order_id} ({o.venue} {o.intent.symbol} {o.intent.side.value} {o.remaining_quantity})"
            for o in orders.values()
        )
        return (
            f"may still be open at the venue: {names or 'none in the book'} (cancel not confirmed); "
            f"settle with: livegate cancel-all {self.run_dir}"
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
            return  # the stop path already cancelled and confirmed (stop_cancels)
        if shutdown.cancel_open_orders:
            await self._cancel_and_confirm(reason, shutdown.cancel_timeout_ms)
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
            may_call = self._stop_may_call()  # a stop bounds a halt's venue calls too
            if risk.needs_service(engine):
                await risk.service(engine, halt=may_call)
            if risk.halt_unconfirmed and may_call:  # a halt's cancels still unconfirmed: retry, bounded
                await risk.retry_halt(engine, self.resolved.config.kill.cancel_confirm_timeout_ms)
            await self.stop_cancels()
            await risk.settle_flatten()  # [kill] flatten_on_halt rounds still running
        except STORAGE_ERRORS as exc:
            self.storage_failed(str(exc))  # once: a failed read back of a finished order told the session already
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
        refresh_gauges(cast("SessionCore", self))  # SessionEnd is a base of SessionCore only
        self.write_metrics()
        write_json(self.run_dir / "summary.json", summary)
        write_report(self.run_dir / "report.html", summary, self.run_reader)
        self._log_brought_back()
        exit_code = self._exit_code()
        await self.views.stop()
        return SessionResult(run_dir=self.run_dir, summary=summary, exit_code=exit_code, anomalies=self.anomalies)

    def _log_brought_back(self) -> None:
        """Log how many finished orders the ledger reader and the engine's book read back for a later event.

        No line for none.
        """
        retirement = None if self.run_reader is None else self.run_reader.fold.retirement
        if retirement is not None and retirement.revived:
            log.info(
                "ledger reader: brought back %d finished order(s) from the ledger for later events about them",
                retirement.revived,
            )
        if retirement is not None and retirement.copied:
            log.info("execution engine: brought back %d finished order(s) from the ledger", retirement.copied)

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
