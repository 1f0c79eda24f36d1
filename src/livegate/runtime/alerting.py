"""A session's alerts: the dispatcher wired to the kill switch, anomalies, reconciliation and the session's life.

Built once by :class:`~livegate.runtime.core.SessionCore`. Every hook only builds an
:class:`~livegate.alerts.model.Alert` and hands it to
:meth:`~livegate.alerts.dispatcher.AlertDispatcher.emit` (a queue put), so nothing here
waits on a network. The severity of an anomaly follows its kill-side response in
:data:`~livegate.risk.triggers.ANOMALY_RESPONSES` (:data:`ANOMALY_SEVERITY`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from livegate.alerts import catalog
from livegate.alerts.dispatcher import AlertDispatcher, AlertStats, DeliveryCallback
from livegate.alerts.health_file import write_health
from livegate.alerts.model import Alert, AlertSeverity
from livegate.config.alerts_models import AlertsConfig
from livegate.domain.alerts import AlertHealth
from livegate.domain.clock import Clock, wall_time_ms
from livegate.domain.enums import AnomalyKind, TradingState
from livegate.reconcile.drift import DriftRecord
from livegate.reconcile.leftovers import leftover_records
from livegate.risk.killswitch import TradingStateChanged
from livegate.risk.triggers import AnomalyResponse, anomaly_response

if TYPE_CHECKING:  # destinations load when [alerts] names URLs
    from livegate.alerts.destinations import Destination

__all__ = ["ANOMALY_SEVERITY", "SessionAlerts"]

log = logging.getLogger("livegate.alerts")

#: Alert severity of an anomaly, by what the kill side does about it (docs/alerts.md).
ANOMALY_SEVERITY: dict[AnomalyResponse, AlertSeverity] = {
    AnomalyResponse.HALT: AlertSeverity.CRIT,
    AnomalyResponse.INVARIANT_ACTION: AlertSeverity.CRIT,
    AnomalyResponse.REDUCE: AlertSeverity.WARN,
    AnomalyResponse.VENUE_ERROR: AlertSeverity.WARN,
    AnomalyResponse.RECORD: AlertSeverity.WARN,
}


class SessionAlerts:
    """The session's alert hooks around one :class:`AlertDispatcher`.

    Parameters
    ----------
    config:
        ``[alerts]``.
    clock:
        Session clock (throttle and de-duplication windows).
    run_dir:
        Where ``alerts_health.json`` is kept up to date.
    on_delivery:
        Told of every delivery attempt (severity, delivered), e.g. metrics; optional.
    routes:
        Destinations per severity instead of those ``config`` names (tests compose fakes in).

    Raises
    ------
    ConfigError
        If apprise is missing or a URL is not one apprise understands (the session refuses to start).
    """

    def __init__(
        self,
        config: AlertsConfig,
        clock: Clock,
        run_dir: Path,
        *,
        on_delivery: DeliveryCallback | None = None,
        routes: Mapping[AlertSeverity, Sequence[Destination]] | None = None,
    ) -> None:
        self._config = config
        self._run_dir = run_dir
        if routes is None:
            self.dispatcher = AlertDispatcher.from_config(config, clock, on_delivery=on_delivery, on_change=self._write)
        else:
            self.dispatcher = AlertDispatcher(
                routes,
                clock,
                throttle_secs=config.throttle_secs,
                dedup_secs=config.dedup_secs,
                queue_size=config.queue_size,
                on_delivery=on_delivery,
                on_change=self._write,
            )
        self._write(self.dispatcher.stats())

    def health(self) -> AlertHealth:
        """Return the delivery health (``/health`` takes this callable)."""
        return self.dispatcher.health()

    def emit(self, alert: Alert) -> str:
        """Hand ``alert`` to the dispatcher (never blocks); return what it did."""
        return self.dispatcher.emit(alert)

    # ------------------------------------------------------------------ hooks
    def on_state_changed(self, change: TradingStateChanged) -> None:
        """Kill switch listener: alert ``state.<state>`` on every persisted move of the trading state."""
        self.emit(catalog.state_changed_alert(change.state, change.previous, change.reason, change.source))

    def on_anomaly(self, kind: str, detail: str) -> None:
        """Alert ``drift`` for reconcile drift, else ``anomaly.<kind>`` at the severity of its response."""
        if kind == AnomalyKind.RECONCILE_DRIFT.value:
            self.emit(catalog.drift_alert(detail))
            return
        self.emit(catalog.anomaly_alert(kind, detail, ANOMALY_SEVERITY[anomaly_response(kind)]))

    def session_started(
        self, *, session_id: str, mode: str, real_money: bool, venue: str, strategy: str, state: TradingState
    ) -> None:
        """Alert ``session.started``, and ``live.enabled`` when the mode trades a real account."""
        self.emit(catalog.session_started_alert(session_id, mode, strategy, state))
        if real_money:
            self.emit(catalog.live_enabled_alert(mode, venue))

    def startup_reconciled(self, records: Sequence[DriftRecord], policy: str) -> None:
        """Alert ``leftover_orders`` when the startup reconciliation settled orders of earlier sessions."""
        found = leftover_records(records)
        if not found:
            return
        venue = found[0].venue
        orders = ", ".join(f"{r.client_order_id} ({r.symbol})" for r in found)
        self.emit(catalog.leftover_orders_alert(venue, len(found), policy, orders))

    def session_refused(self, reason: str) -> None:
        """Alert ``session.refused``."""
        self.emit(catalog.session_refused_alert(reason))

    def session_stopped(self, *, session_id: str, reason: str, state: TradingState, anomalies: int) -> None:
        """Alert ``session.stopped``."""
        self.emit(catalog.session_stopped_alert(session_id, reason, state, anomalies))

    def close(self) -> AlertStats:
        """Let queued alerts go out for up to ``[alerts] drain_secs``, then write the final health."""
        return self.dispatcher.close(self._config.drain_secs)

    def _write(self, stats: AlertStats) -> None:
        try:
            write_health(self._run_dir, stats, updated_ms=wall_time_ms())
        except OSError as exc:
            log.warning("alerts: cannot write %s: %s", self._run_dir, exc)
