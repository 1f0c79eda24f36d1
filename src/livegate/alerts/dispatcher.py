"""The alert dispatcher: admit (throttle, de-duplicate), queue, deliver on its own thread, count.

:meth:`AlertDispatcher.emit` is what the session calls, from the event loop: a dictionary
look-up under a lock and a ``put_nowait`` on a bounded queue, never a network call, so
alerting cannot block or slow the order path. A full queue drops the alert and counts it
(``dropped_total``). One daemon thread takes alerts off the queue and delivers each to
the destinations of its severity, one after the other; every attempt is counted per
destination (``sent_total`` / ``failed_total``) and, through the optional callbacks, told
to metrics (``on_delivery``) and to the run directory's ``alerts_health.json``
(``on_change``).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from livegate.alerts.model import Alert, AlertSeverity
from livegate.alerts.policy import AlertPolicy, Verdict
from livegate.config.alerts_models import AlertsConfig
from livegate.domain.alerts import AlertHealth
from livegate.domain.clock import Clock

if TYPE_CHECKING:  # destinations load when [alerts] names URLs
    from livegate.alerts.destinations import Destination

__all__ = ["AlertDispatcher", "AlertStats", "DeliveryCallback", "DestinationHealth", "Outcome"]

log = logging.getLogger("livegate.alerts")

#: Called after each delivery attempt with the alert's severity and whether it was delivered.
DeliveryCallback = Callable[[AlertSeverity, bool], None]


class Outcome(StrEnum):
    """What :meth:`AlertDispatcher.emit` did with an alert (besides the policy's :class:`Verdict`)."""

    QUEUED = "queued"
    DROPPED = "dropped"
    NO_DESTINATION = "no_destination"


@dataclass(frozen=True, slots=True)
class DestinationHealth:
    """Delivery counters of one destination (``name`` redacted)."""

    name: str
    sent: int = 0
    failed: int = 0
    last_error: str | None = None
    failing: bool = False


@dataclass(frozen=True, slots=True)
class AlertStats:
    """Everything the dispatcher counted: :class:`AlertHealth` plus admission counters and per-destination health.

    ``emitted_total`` counts every :meth:`AlertDispatcher.emit`; of those, ``throttled_total``
    and ``duplicate_total`` were held back by the policy, ``dropped_total`` (in ``health``) by
    a full queue or the end-of-session drain, the rest were queued and delivered or failed.
    """

    health: AlertHealth
    emitted_total: int
    throttled_total: int
    duplicate_total: int
    destinations: tuple[DestinationHealth, ...]

    def to_record(self) -> dict[str, Any]:
        """Return the JSON object of ``alerts_health.json``."""
        h = self.health
        return {
            "sent_total": h.sent_total,
            "failed_total": h.failed_total,
            "dropped_total": h.dropped_total,
            "last_error": h.last_error,
            "failing": h.failing,
            "emitted_total": self.emitted_total,
            "throttled_total": self.throttled_total,
            "duplicate_total": self.duplicate_total,
            "destinations": [
                {"name": d.name, "sent": d.sent, "failed": d.failed, "last_error": d.last_error, "failing": d.failing}
                for d in self.destinations
            ],
        }


class AlertDispatcher:
    """Route alerts by severity to their destinations without ever waiting on a delivery.

    Parameters
    ----------
    routes:
        Destinations per severity (:func:`~livegate.alerts.destinations.build_destinations`).
    clock:
        Session clock; the throttle and de-duplication windows run on it.
    throttle_secs, dedup_secs:
        ``[alerts]`` windows (:class:`~livegate.alerts.policy.AlertPolicy`).
    queue_size:
        Alerts waiting for the delivery thread; more are dropped and counted.
    on_delivery:
        Told of every delivery attempt (metrics: alerts sent and failed); optional.
    on_change:
        Given the stats after every delivered alert and at :meth:`close` (``alerts_health.json``); optional.
    """

    def __init__(
        self,
        routes: Mapping[AlertSeverity, Sequence[Destination]],
        clock: Clock,
        *,
        throttle_secs: float = 300.0,
        dedup_secs: float = 3600.0,
        queue_size: int = 256,
        on_delivery: DeliveryCallback | None = None,
        on_change: Callable[[AlertStats], None] | None = None,
    ) -> None:
        self._routes = {severity: list(routes.get(severity, ())) for severity in AlertSeverity}
        self._clock = clock
        self._policy = AlertPolicy(throttle_secs, dedup_secs)
        self._queue: queue.Queue[tuple[Alert, int] | None] = queue.Queue(maxsize=queue_size)
        self._on_delivery = on_delivery
        self._on_change = on_change
        self._lock = threading.Lock()
        self._abandon = threading.Event()
        self._inflight = False
        self._thread: threading.Thread | None = None
        self._closed = False
        self._emitted = self._throttled = self._duplicates = self._dropped = 0
        self._last_error: str | None = None
        names: list[str] = []
        for route in self._routes.values():
            names.extend(d.name for d in route if d.name not in names)
        self._dest: dict[str, DestinationHealth] = {n: DestinationHealth(n) for n in names}

    @classmethod
    def from_config(
        cls,
        config: AlertsConfig,
        clock: Clock,
        *,
        on_delivery: DeliveryCallback | None = None,
        on_change: Callable[[AlertStats], None] | None = None,
    ) -> AlertDispatcher:
        """Build the dispatcher of an ``[alerts]`` section (apprise is imported only when URLs are set).

        Raises
        ------
        ConfigError
            If apprise is missing or a URL is not one apprise understands.
        """
        routes: Mapping[AlertSeverity, Sequence[Destination]] = {}
        if config.configured:
            from livegate.alerts.destinations import build_destinations

            routes = build_destinations(config)
        return cls(
            routes,
            clock,
            throttle_secs=config.throttle_secs,
            dedup_secs=config.dedup_secs,
            queue_size=config.queue_size,
            on_delivery=on_delivery,
            on_change=on_change,
        )

    @property
    def enabled(self) -> bool:
        """Return True when any severity has a destination."""
        return bool(self._dest)

    # ------------------------------------------------------------------ producer side (event loop)
    def emit(self, alert: Alert) -> str:
        """Admit and queue ``alert``; never blocks. Return a :class:`Verdict` or :class:`Outcome` value."""
        if not self._routes[alert.severity] or self._closed:
            return Outcome.NO_DESTINATION.value
        with self._lock:
            self._emitted += 1
            admission = self._policy.admit(alert, self._clock.now_ms())
            if admission.verdict is Verdict.THROTTLED:
                self._throttled += 1
                return Verdict.THROTTLED.value
            if admission.verdict is Verdict.DUPLICATE:
                self._duplicates += 1
                return Verdict.DUPLICATE.value
            self._ensure_worker()  # under the lock: emits from two threads start one worker
        try:
            self._queue.put_nowait((alert, admission.suppressed))
        except queue.Full:
            with self._lock:
                self._dropped += 1
            log.warning("alerts: queue full, dropped %s", alert.key)
            return Outcome.DROPPED.value
        return Outcome.QUEUED.value

    def health(self) -> AlertHealth:
        """Return the delivery counters (``/health``, ``/status``, ``livegate status``)."""
        with self._lock:
            return self._health()

    def stats(self) -> AlertStats:
        """Return :meth:`health` with the admission counters and per-destination health."""
        with self._lock:
            return AlertStats(
                health=self._health(),
                emitted_total=self._emitted,
                throttled_total=self._throttled,
                duplicate_total=self._duplicates,
                destinations=tuple(self._dest.values()),
            )

    def close(self, drain_secs: float) -> AlertStats:
        """Stop taking alerts, let queued ones go out for up to ``drain_secs`` wall seconds, drop the rest.

        Returns the final stats (also given to ``on_change``).
        """
        self._closed = True
        thread = self._thread
        if thread is not None:
            sentinel = 1
            try:
                self._queue.put(None, timeout=max(drain_secs, 0.001))
            except queue.Full:
                sentinel = 0
            thread.join(timeout=drain_secs)
            if thread.is_alive():
                with self._lock:
                    self._abandon.set()
                    left = max(self._queue.qsize() - sentinel, 0) + (1 if self._inflight else 0)
                    self._dropped += left
                log.warning("alerts: %d alert(s) not delivered within %.1f s of the end; dropped", left, drain_secs)
        final = self.stats()
        self._notify_change(final)
        return final

    # ------------------------------------------------------------------ delivery thread
    def _ensure_worker(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="livegate-alerts", daemon=True)
            self._thread.start()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            with self._lock:
                if self._abandon.is_set():
                    continue  # counted as dropped by close()
                self._inflight = True
            alert, suppressed = item
            if suppressed:
                alert = replace(alert, body=f"{alert.body}\n({suppressed} more '{alert.key}' alert(s) throttled)")
            for destination in self._routes[alert.severity]:
                error = destination.deliver(alert)
                self._count(destination.name, alert.severity, error)
            with self._lock:
                self._inflight = False
            self._notify_change(self.stats())

    def _count(self, name: str, severity: AlertSeverity, error: str | None) -> None:
        with self._lock:
            if self._abandon.is_set():
                return  # the end of the session counted this alert as dropped
            current = self._dest[name]
            if error is None:
                self._dest[name] = replace(current, sent=current.sent + 1, failing=False)
            else:
                self._dest[name] = replace(current, failed=current.failed + 1, last_error=error, failing=True)
                self._last_error = error
        if error is not None:
            log.warning("alerts: delivery failed: %s", error)
        if self._on_delivery is not None:
            try:
                self._on_delivery(severity, error is None)
            except Exception:  # a metrics callback must not stop alert delivery; logged
                log.exception("alerts: on_delivery callback failed")

    def _notify_change(self, stats: AlertStats) -> None:
        if self._on_change is None:
            return
        try:
            self._on_change(stats)
        except Exception:  # writing the health file must not stop alert delivery; logged
            log.exception("alerts: on_change callback failed")

    def _health(self) -> AlertHealth:
        dest = self._dest.values()
        return AlertHealth(
            sent_total=sum(d.sent for d in dest),
            failed_total=sum(d.failed for d in dest),
            dropped_total=self._dropped,
            last_error=self._last_error,
            failing=any(d.failing for d in dest),
        )
