"""The start of a session: the gate line, the start records, the API bind and startup reconciliation.

A base of :class:`~livegate.runtime.core.SessionCore`: :meth:`SessionBegin.announce`
records ``session_started`` (or ``session_resumed``) with its telemetry and alert;
:meth:`SessionBegin.begin` binds the operator API, applies the latched trading state and
reconciles with the venue (issue 6) before any trading.
"""

from __future__ import annotations

import logging

from livegate.domain.errors import ConfigError
from livegate.ledger import events as ev
from livegate.modes.resolve import gate_line
from livegate.ops.rollup_read import RunReader
from livegate.reconcile.result import ReconcileIncomplete
from livegate.runtime.artifacts import livegate_version
from livegate.runtime.session_parts import SessionParts

__all__ = ["SessionBegin"]

log = logging.getLogger("livegate")


class SessionBegin(SessionParts):
    """Announce and begin a session (a base of :class:`~livegate.runtime.core.SessionCore`).

    Reads the session's parts (:class:`~livegate.runtime.session_parts.SessionParts`).
    """

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
                on_read_failed=self.ledger_read_failed,
            )
        except ReconcileIncomplete as exc:
            self.alerts.session_refused(str(exc))
            await self.views.stop()
            self._close()
            raise
        if self.recovery.startup_result is not None:
            self.alerts.startup_reconciled(self.recovery.startup_result.records, cfg.reconcile.on_leftover_orders)
