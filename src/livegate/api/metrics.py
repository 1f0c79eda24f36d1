"""A per-session Prometheus registry with the few series the operator views need themselves.

The full metric set (orders, denials, latencies, reconcile, alerts...) is the telemetry
package's; until a session passes that registry, :func:`session_registry` serves these,
read at scrape time from the running session (nothing in the order path is touched):

* ``livegate_trading_state{state}``: 1 for the current state, 0 for the others;
* ``livegate_session_loop_lag_seconds``: how late the views' one-second tick woke up;
* ``livegate_session_timer_tick_age_seconds``: seconds since the session timer ticked;
* ``livegate_quotes_processed_total``: market quotes the session processed;
* ``livegate_open_orders``: working orders in livegate's book.

Never the global default registry: one registry per session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from livegate.domain.enums import TradingState

__all__ = ["SessionFacts", "session_registry"]


class SessionFacts:
    """The numbers the collector reads at each scrape (filled by the operator views)."""

    __slots__ = ("loop_lag_secs", "open_orders", "quotes", "state", "tick_age_secs")

    def __init__(self) -> None:
        self.state = TradingState.ACTIVE
        self.loop_lag_secs = 0.0
        self.tick_age_secs = 0.0
        self.quotes = 0
        self.open_orders = 0


class _ViewsCollector:
    def __init__(self, read: Callable[[], SessionFacts]) -> None:
        self._read = read

    def collect(self) -> Iterable[Metric]:
        facts = self._read()
        state = GaugeMetricFamily(
            "livegate_trading_state", "Trading state of the kill switch: 1 for the current one", labels=["state"]
        )
        for value in TradingState:
            state.add_metric([value.value], 1.0 if value is facts.state else 0.0)
        yield state
        yield GaugeMetricFamily(
            "livegate_session_loop_lag_seconds", "Event-loop lag of the session (s)", value=facts.loop_lag_secs
        )
        yield GaugeMetricFamily(
            "livegate_session_timer_tick_age_seconds",
            "Seconds since the session timer last ticked",
            value=facts.tick_age_secs,
        )
        yield CounterMetricFamily(
            "livegate_quotes_processed", "Market quotes processed by the session", value=facts.quotes
        )
        yield GaugeMetricFamily("livegate_open_orders", "Working orders in livegate's book", value=facts.open_orders)


def session_registry(read: Callable[[], SessionFacts]) -> CollectorRegistry:
    """Return a fresh registry (not the global one) whose collector calls ``read`` at each scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_ViewsCollector(read))
    return registry
