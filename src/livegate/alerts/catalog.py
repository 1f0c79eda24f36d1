"""Every alert livegate sends: key, severity, title and text (docs/alerts.md has the table).

Builders take reasons and numbers only, never a secret. Keys are stable: they decide
throttling and de-duplication, and operators filter on them.
"""

from __future__ import annotations

from collections.abc import Mapping

from livegate.alerts.model import Alert, AlertKind, AlertSeverity
from livegate.domain.enums import TradingState

__all__ = [
    "anomaly_alert",
    "daily_summary_alert",
    "drift_alert",
    "leftover_orders_alert",
    "live_enabled_alert",
    "probe_alert",
    "session_refused_alert",
    "session_started_alert",
    "session_stopped_alert",
    "state_changed_alert",
]

#: Severity of a move to each trading state: a kill (HALTED) is critical, REDUCING a warning, a re-arm news.
STATE_SEVERITY = {
    TradingState.HALTED: AlertSeverity.CRIT,
    TradingState.REDUCING: AlertSeverity.WARN,
    TradingState.ACTIVE: AlertSeverity.INFO,
}


def state_changed_alert(state: TradingState, previous: TradingState, reason: str, source: str) -> Alert:
    """Return ``state.<state>``: the kill switch tripped (HALTED, REDUCING) or was re-armed (ACTIVE)."""
    if state is TradingState.ACTIVE:
        title = "livegate: trading re-armed (ACTIVE)"
    else:
        title = f"livegate: kill switch tripped, trading state {state.value.upper()}"
    body = f"{previous.value.upper()} -> {state.value.upper()} by {source}: {reason}"
    return Alert(f"{AlertKind.STATE}.{state.value}", STATE_SEVERITY[state], title, body)


def drift_alert(detail: str) -> Alert:
    """Return ``drift``: ledger and venue differ beyond tolerance (the state moves per ``[reconcile] on_drift``)."""
    return Alert(AlertKind.DRIFT.value, AlertSeverity.CRIT, "livegate: reconcile drift beyond tolerance", detail)


def anomaly_alert(kind: str, detail: str, severity: AlertSeverity) -> Alert:
    """Return ``anomaly.<kind>`` with the severity its kill-side response gives (docs/alerts.md)."""
    return Alert(f"{AlertKind.ANOMALY}.{kind}", severity, f"livegate: anomaly {kind}", detail)


def session_started_alert(session_id: str, mode: str, strategy: str, state: TradingState) -> Alert:
    """Return ``session.started`` (WARN when the latched state is not ACTIVE at the start)."""
    severity = AlertSeverity.INFO if state is TradingState.ACTIVE else AlertSeverity.WARN
    body = f"session {session_id}, mode {mode}, strategy {strategy}, trading state {state.value.upper()}"
    return Alert(AlertKind.SESSION_STARTED.value, severity, f"livegate: session started ({mode})", body)


def session_stopped_alert(session_id: str, reason: str, state: TradingState, anomalies: int) -> Alert:
    """Return ``session.stopped`` (WARN when it ended with anomalies or not ACTIVE)."""
    clean = anomalies == 0 and state is TradingState.ACTIVE
    severity = AlertSeverity.INFO if clean else AlertSeverity.WARN
    body = f"session {session_id}: {reason}; trading state {state.value.upper()}, anomalies {anomalies}"
    return Alert(AlertKind.SESSION_STOPPED.value, severity, "livegate: session stopped", body)


def session_refused_alert(reason: str) -> Alert:
    """Return ``session.refused``: a session did not start trading (e.g. leftover orders under ``refuse``)."""
    return Alert(AlertKind.SESSION_REFUSED.value, AlertSeverity.CRIT, "livegate: session refused to start", reason)


def live_enabled_alert(mode: str, venue: str) -> Alert:
    """Return ``live.enabled``: a session armed a real-money mode (testnet, canary, live)."""
    return Alert(
        AlertKind.LIVE_ENABLED.value,
        AlertSeverity.WARN,
        f"livegate: live trading enabled ({mode})",
        f"mode {mode} armed on venue {venue}",
    )


def leftover_orders_alert(venue: str, count: int, policy: str, orders: str) -> Alert:
    """Return ``leftover_orders``: orders of earlier sessions were found working at startup."""
    return Alert(
        AlertKind.LEFTOVER_ORDERS.value,
        AlertSeverity.WARN,
        f"livegate: {count} leftover order(s) found at {venue}",
        f"on_leftover_orders={policy}: {orders}",
    )


def daily_summary_alert(day: str, facts: Mapping[str, object]) -> Alert:
    """Return ``daily.summary.<day>``: one line per fact (``fills: 12``), in the given order."""
    body = "\n".join(f"{name}: {value}" for name, value in facts.items()) or "no activity"
    return Alert(f"{AlertKind.DAILY_SUMMARY}.{day}", AlertSeverity.INFO, f"livegate: daily summary {day}", body)


def probe_alert(severity: AlertSeverity, note: str) -> Alert:
    """Return ``test``: what ``livegate alerts test`` and preflight send."""
    return Alert(AlertKind.TEST.value, severity, f"livegate: test alert ({severity.value.upper()})", note)
