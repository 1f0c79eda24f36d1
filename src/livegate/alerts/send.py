"""One alert sent now, outside a session: ``livegate alerts test``, preflight's alerts check, the daily summary.

Synchronous (the caller waits for every destination), no throttling: these are one-off
alerts an operator or a scheduled command asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from livegate.alerts.catalog import daily_summary_alert
from livegate.alerts.destinations import Destination, build_destinations
from livegate.alerts.model import Alert
from livegate.config.alerts_models import AlertsConfig

__all__ = ["DeliveryReport", "send_daily_summary", "send_now"]


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """Per destination (redacted name), None when delivered or the failure reason."""

    results: tuple[tuple[str, str | None], ...]

    @property
    def delivered(self) -> bool:
        """Return True when there was at least one destination and every one took the alert."""
        return bool(self.results) and all(error is None for _, error in self.results)

    @property
    def failures(self) -> list[str]:
        """Return the failure reasons."""
        return [error for _, error in self.results if error is not None]


def send_now(config: AlertsConfig, alert: Alert, *, everywhere: bool = False) -> DeliveryReport:
    """Deliver ``alert`` to its severity's destinations (``everywhere``: to every configured one) and wait.

    Raises
    ------
    ConfigError
        If apprise is missing or a URL is not one apprise understands.
    """
    if not config.configured:
        return DeliveryReport(())
    routes = build_destinations(config)
    targets: list[Destination] = []
    for severity, route in routes.items():
        if everywhere or severity is alert.severity:
            targets.extend(d for d in route if d not in targets)
    return DeliveryReport(tuple((d.name, d.deliver(alert)) for d in targets))


def send_daily_summary(config: AlertsConfig, day: str, facts: Mapping[str, object]) -> DeliveryReport:
    """Send the ``daily.summary.<day>`` alert (INFO) with one line per fact; what ``livegate daily`` calls.

    Parameters
    ----------
    config:
        The ``[alerts]`` section.
    day:
        The trading day, ``YYYY-MM-DD``.
    facts:
        Name to value, in display order (``{"fills": 12, "pnl_usd": "31.20"}``).

    Raises
    ------
    ConfigError
        If apprise is missing or a URL is not one apprise understands.
    """
    return send_now(config, daily_summary_alert(day, facts))
