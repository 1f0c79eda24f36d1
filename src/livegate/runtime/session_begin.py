"""The start of a session: the gate line, the start records, the API bind and startup reconciliation.

A base of :class:`~livegate.runtime.core.SessionCore`: :meth:`SessionBegin.announce`
records ``session_started`` (or ``session_resumed``) with its telemetry and alert;
:meth:`SessionBegin.begin` binds the operator API, applies the latched trading state and
reconciles with the venue (issue 6) before any trading.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from livegate.api.views import OperatorViews
from livegate.config.loader import ResolvedConfig
from livegate.control.recovery import SessionRecovery
from livegate.control.session_risk import SessionRisk
from livegate.domain.clock import Clock
from livegate.domain.errors import ConfigError
from livegate.domain.instruments import Instrument
from livegate.execution.engine import ExecutionEngine
from livegate.ledger import events as ev
from livegate.ledger.store import Ledger
from livegate.modes.resolve import ModeResolution, gate_line
from livegate.ops.rollup_read import RunReader
from livegate.portfolio import Portfolio
from livegate.reconcile.reconciler import ReconcileIncomplete
from livegate.risk.pipeline import RiskPipeline
from livegate.runtime.alerting import SessionAlerts
from livegate.runtime.artifacts import livegate_version
from livegate.runtime.wiring import VenueWiring
from livegate.telemetry.metrics import SessionMetrics as PrometheusMetrics
from livegate.telemetry.writer import TelemetryWriter

__all__ = ["SessionBegin"]

log = logging.getLogger("livegate")


class SessionBegin:
    """Announce and begin a session (a base of :class:`~livegate.runtime.core.SessionCore`).

    The attributes below are set by :class:`~livegate.runtime.core.SessionCore`;
    ``_close`` comes from :class:`~livegate.runtime.session_end.SessionEnd`.
    """

    resolved: ResolvedConfig
    mode: ModeResolution
    run_dir: Path
    ledger: Ledger
    recovery: SessionRecovery
    clock: Clock
    instruments: dict[str, Instrument]
    wiring: VenueWiring
    session_id: str
    run_reader: RunReader | None
    prometheus: PrometheusMetrics
    alerts: SessionAlerts
    telemetry: TelemetryWriter
    portfolio: Portfolio
    risk: SessionRisk
    pipeline: RiskPipeline
    engine: ExecutionEngine
    views: OperatorViews
    on_anomaly: Callable[[str, str], None]
    _close: Callable[[], None]

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
