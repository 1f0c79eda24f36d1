"""One session's Prometheus metrics in their own registry (never prometheus-client's global one).

Names follow the Prometheus conventions: prefix ``livegate_``, base units in the name
(``_seconds``, ``_usd``, ``_ratio``), counters end in ``_total``, no ``_created`` series
(see :mod:`livegate.telemetry.metrics.instruments`). docs/metrics.md lists every metric with
its type, labels, unit and example queries.

The execution engine, the reconciler and the session loop call the event methods
(:meth:`SessionMetrics.intent`, :meth:`SessionMetrics.fill`, …) once per event, never
per quote; the state gauges are set from the session's own state at each heartbeat and
timer tick (:mod:`livegate.runtime.session_gauges`). The alert dispatcher calls
:meth:`SessionMetrics.alert_sent` and :meth:`SessionMetrics.alert_failed`.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest

from livegate.domain.enums import DenialCode, TradingState
from livegate.telemetry.metrics.instruments import CounterFamily, FamilyCollector, GaugeFamily, HistogramFamily

__all__ = ["ALERT_SEVERITIES", "METRICS_FILE", "SUBMIT_LATENCY_BUCKETS_SECS", "SessionMetrics"]

#: The run directory's metrics file, written at session end.
METRICS_FILE = "metrics.prom"
#: Upper bounds (s) of the submit→ack latency buckets: 0.5 ms (in-process venues) to 10 s (a venue's own timeout).
SUBMIT_LATENCY_BUCKETS_SECS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: Alert severities exported at 0 from the start (issue 11: INFO, WARN, CRIT), lower case as label values.
ALERT_SEVERITIES = ("info", "warn", "crit")


def _f(value: Decimal | float | int) -> float:
    return float(value)


class SessionMetrics:
    """The metrics of one session, held in :attr:`registry` (a private ``CollectorRegistry``).

    Parameters
    ----------
    mode:
        The session's mode (``paper``, ``live``…), exported in ``livegate_session_info``.
    version:
        The livegate version, exported in ``livegate_session_info``.
    """

    def __init__(self, *, mode: str = "", version: str = "") -> None:
        c, g = CounterFamily, GaugeFamily
        self.intents = c("livegate_intents_total", "Order intents the strategy submitted.", ("venue", "symbol"))
        self.denials = c("livegate_denials_total", "Intents the risk pipeline denied, by denial code.", ("code",))
        self.orders = c("livegate_orders_submitted_total", "Approved orders sent to a venue.", ("venue", "symbol"))
        self.rejects = c(
            "livegate_order_rejects_total", "Orders rejected (by the venue, or unsent), by code.", ("venue", "reason")
        )
        self.fills = c(
            "livegate_fills_total", "Fills applied (each venue trade id once).", ("venue", "symbol", "liquidity")
        )
        self.filled_notional = c(
            "livegate_filled_notional_usd_total", "Traded notional of applied fills, USD.", ("venue", "symbol")
        )
        self.submit_latency = HistogramFamily(
            "livegate_order_submit_latency_seconds",
            "Wall time from a submit call to the venue's answer (ack or definite refusal), s.",
            ("venue",),
            SUBMIT_LATENCY_BUCKETS_SECS,
        )
        self.venue_errors = c(
            "livegate_venue_errors_total",
            "Venue calls that failed, by operation and error class (rejected, retryable, ambiguous, fatal, timeout).",
            ("venue", "operation", "error_class"),
        )
        self.reconcile_runs = c(
            "livegate_reconcile_runs_total",
            "Reconciliations, by trigger and outcome (clean, drift, failed).",
            ("venue", "trigger", "outcome"),
        )
        self.reconcile_mismatches = c(
            "livegate_reconcile_mismatches_total",
            "Differences between ledger and venue beyond tolerance, by drift kind.",
            ("venue", "kind"),
        )
        self.anomalies = c("livegate_anomalies_total", "Anomalies the session recorded, by kind.", ("kind",))
        self.alerts_sent = c("livegate_alerts_sent_total", "Alert deliveries that succeeded.", ("severity",))
        self.alerts_failed = c("livegate_alerts_failed_total", "Alert deliveries that failed.", ("severity",))
        self.market_events = c("livegate_market_events_total", "Market events processed (quote, trade).", ("kind",))
        self.state = g("livegate_trading_state", "1 for the current trading state, 0 for the others.", ("state",))
        self.venue_up = g("livegate_venue_healthy", "1 while the venue is healthy, 0 while disabled.", ("venue",))
        self.quote_age = g("livegate_quote_age_seconds", "Age of the last valid quote, s (session clock).", ("symbol",))
        self.position = g(
            "livegate_position_notional_usd", "Signed position notional at mid, USD (short < 0).", ("symbol",)
        )
        self.gross = g("livegate_gross_exposure_usd", "Sum of absolute position notionals at mid, USD.")
        self.pnl = g("livegate_pnl_usd", "Session PnL: realized + unrealized - fees, USD.")
        self.realized = g("livegate_realized_pnl_usd", "Realized PnL of the session, USD (fees excluded).")
        self.unrealized = g("livegate_unrealized_pnl_usd", "Unrealized PnL at mid, USD.")
        self.fees = g("livegate_fees_usd", "Fees paid in the session, USD.")
        self.drawdown = g("livegate_drawdown_usd", "Fall of session PnL from its peak, USD.")
        self.max_drawdown = g("livegate_max_drawdown_usd", "Deepest drawdown of the session so far, USD.")
        self.budget = g(
            "livegate_budget_usage_ratio",
            "Use of each configured trading-day cap, as a fraction of the cap (1 = at the cap).",
            ("cap",),
        )
        self.ambiguous = g("livegate_ambiguous_orders_in_flight", "Orders whose submit outcome is unknown.")
        self.open_orders = g("livegate_open_orders", "Working orders livegate tracks.")
        self.loop_lag = g(
            "livegate_loop_lag_seconds", "How late the last wall-clock timer tick ran (event loop lag), s."
        )
        self.info = g("livegate_session_info", "Always 1; labels: the session's mode and version.", ("mode", "version"))
        self.registry = CollectorRegistry(auto_describe=False)
        FamilyCollector(
            (
                self.intents, self.denials, self.orders, self.rejects, self.fills, self.filled_notional,
                self.submit_latency, self.venue_errors, self.reconcile_runs, self.reconcile_mismatches,
                self.anomalies, self.alerts_sent, self.alerts_failed, self.market_events, self.state,
                self.venue_up, self.quote_age, self.position, self.gross, self.pnl, self.realized,
                self.unrealized, self.fees, self.drawdown, self.max_drawdown, self.budget, self.ambiguous,
                self.open_orders, self.loop_lag, self.info,
            )
        ).register(self.registry)  # fmt: skip
        for code in DenialCode:
            self.denials.touch(code.value)
        for severity in ALERT_SEVERITIES:
            self.alerts_sent.touch(severity)
            self.alerts_failed.touch(severity)
        for kind in ("quote", "trade"):
            self.market_events.touch(kind)
        self.trading_state(TradingState.ACTIVE)
        self.info.set(mode, version, value=1)
        for family in (self.gross, self.pnl, self.realized, self.unrealized, self.fees, self.drawdown):
            family.set(value=0)
        for family in (self.max_drawdown, self.ambiguous, self.open_orders, self.loop_lag):
            family.set(value=0)
        self._quotes_seen = 0
        self._trades_seen = 0

    # ------------------------------------------------------------------ composition
    def expect(self, venues: list[str], symbols: list[str]) -> None:
        """Export the intent and order series of each venue and symbol at 0 before their first event."""
        for venue in venues:
            for symbol in symbols:
                self.intents.touch(venue, symbol)
                self.orders.touch(venue, symbol)

    # ------------------------------------------------------------------ order path events
    def intent(self, venue: str, symbol: str) -> None:
        """Count one intent routed to ``venue``."""
        self.intents.inc(venue, symbol)

    def denied(self, code: str) -> None:
        """Count one denial with ``code`` (a ``DenialCode`` value)."""
        self.denials.inc(code)

    def order_submitted(self, venue: str, symbol: str) -> None:
        """Count one approved order sent to ``venue``."""
        self.orders.inc(venue, symbol)

    def submit_answered(self, venue: str, secs: float) -> None:
        """Observe the time (s) between a submit call and the venue's definite answer."""
        self.submit_latency.observe(venue, value=secs)

    def rejected(self, venue: str, reason: str | None) -> None:
        """Count one rejected order; ``reason`` is the venue's or livegate's code (``unknown`` when None)."""
        self.rejects.inc(venue, reason or "unknown")

    def fill(self, venue: str, symbol: str, liquidity: str, notional_usd: Decimal) -> None:
        """Count one applied fill and its notional (USD)."""
        self.fills.inc(venue, symbol, liquidity)
        self.filled_notional.inc(venue, symbol, amount=_f(notional_usd))

    def venue_error(self, venue: str, operation: str, error_class: str) -> None:
        """Count one failed venue call (``operation`` submit/cancel; ``error_class`` rejected, ambiguous…)."""
        self.venue_errors.inc(venue, operation, error_class)

    def reconcile_run(self, venue: str, trigger: str, outcome: str, mismatches: dict[str, int] | None = None) -> None:
        """Count one reconciliation and its differences beyond tolerance by drift kind."""
        self.reconcile_runs.inc(venue, trigger, outcome)
        for kind, count in (mismatches or {}).items():
            self.reconcile_mismatches.inc(venue, kind, amount=count)

    def anomaly(self, kind: str) -> None:
        """Count one anomaly of ``kind``."""
        self.anomalies.inc(kind)

    def alert_sent(self, severity: str) -> None:
        """Count one delivered alert of ``severity`` (INFO, WARN, CRIT; any case)."""
        self.alerts_sent.inc(str(severity).lower())

    def alert_failed(self, severity: str) -> None:
        """Count one alert delivery of ``severity`` that failed."""
        self.alerts_failed.inc(str(severity).lower())

    def market_totals(self, quotes: int, trades: int) -> None:
        """Advance the market event counters to the session's running totals (called at heartbeats)."""
        if quotes > self._quotes_seen:
            self.market_events.inc("quote", amount=quotes - self._quotes_seen)
            self._quotes_seen = quotes
        if trades > self._trades_seen:
            self.market_events.inc("trade", amount=trades - self._trades_seen)
            self._trades_seen = trades

    # ------------------------------------------------------------------ state gauges
    def trading_state(self, state: TradingState) -> None:
        """Set ``livegate_trading_state`` to 1 for ``state`` and 0 for the others."""
        for each in TradingState:
            self.state.set(each.value, value=1 if each is state else 0)

    def loop_lagged(self, secs: float) -> None:
        """Set the event loop lag (s) measured by the last timer tick."""
        self.loop_lag.set(value=max(secs, 0.0))

    # ------------------------------------------------------------------ output
    def render(self) -> bytes:
        """Return the Prometheus text exposition of :attr:`registry`."""
        return generate_latest(self.registry)

    def write(self, run_dir: Path) -> Path:
        """Write :meth:`render` to ``run_dir/metrics.prom`` atomically (temporary file, rename); return the path.

        Raises
        ------
        OSError
            If the file cannot be written.
        """
        path = run_dir / METRICS_FILE
        tmp = path.with_suffix(".prom.tmp")
        tmp.write_bytes(self.render())
        os.replace(tmp, path)
        return path
