"""Prometheus metrics of a session (issue 11 item 2): :class:`SessionMetrics` and its families."""

from livegate.telemetry.metrics.session import (
    ALERT_SEVERITIES,
    METRICS_FILE,
    SUBMIT_LATENCY_BUCKETS_SECS,
    SessionMetrics,
)

__all__ = ["ALERT_SEVERITIES", "METRICS_FILE", "SUBMIT_LATENCY_BUCKETS_SECS", "SessionMetrics"]
