"""The typed parts of a session that the bases of :class:`~livegate.runtime.core.SessionCore` use.

:class:`SessionParts` only declares attributes (no behaviour): :class:`~livegate.runtime.core.SessionCore`
sets them when it builds the session; its bases :class:`~livegate.runtime.session_begin.SessionBegin`
and :class:`~livegate.runtime.session_end.SessionEnd` read them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from livegate.api.views import OperatorViews
from livegate.config.loader import ResolvedConfig
from livegate.control.recovery import SessionRecovery
from livegate.control.session_risk import SessionRisk
from livegate.domain.clock import Clock
from livegate.domain.instruments import Instrument
from livegate.execution.engine import ExecutionEngine
from livegate.ledger.store import Ledger
from livegate.marketdata.quote_cache import QuoteCache
from livegate.modes.resolve import ModeResolution
from livegate.ops.rollup_read import RunReader
from livegate.portfolio import Portfolio
from livegate.risk.pipeline import RiskPipeline
from livegate.runtime.alerting import SessionAlerts
from livegate.runtime.signals import StopSignals
from livegate.runtime.storage import StorageGuard
from livegate.runtime.summary import SessionMetrics
from livegate.runtime.wiring import VenueWiring
from livegate.telemetry.metrics import SessionMetrics as PrometheusMetrics
from livegate.telemetry.writer import TelemetryWriter

__all__ = ["SessionParts"]


class SessionParts:
    """A session's parts as :class:`~livegate.runtime.core.SessionCore` sets them (declarations only).

    ``_close`` is :meth:`~livegate.runtime.session_end.SessionEnd._close`; ``on_anomaly``,
    ``fail_closed``, ``storage_failed`` and ``ledger_read_failed`` are
    :class:`~livegate.runtime.core.SessionCore`'s.
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
    anomalies: list[dict[str, str]]
    run_reader: RunReader | None
    metrics: SessionMetrics
    prometheus: PrometheusMetrics
    alerts: SessionAlerts
    telemetry: TelemetryWriter
    storage: StorageGuard
    portfolio: Portfolio
    quotes: QuoteCache
    risk: SessionRisk
    pipeline: RiskPipeline
    engine: ExecutionEngine
    views: OperatorViews
    stop_signal: int | None
    stop_deadline: float | None
    _signals: StopSignals | None
    _started_secs: float
    _failed: bool
    _metrics_write_failed: bool
    on_anomaly: Callable[[str, str], None]
    fail_closed: Callable[[str, str], None]
    storage_failed: Callable[[str], None]
    ledger_read_failed: Callable[[str], None]
    _close: Callable[[], None]
