"""Alert destinations: one apprise URL each, delivered to with apprise's own service plugins.

apprise (extra ``livegate[alerts]``) is imported here only, and only when a destination
is built: a session without ``[alerts]`` URLs never imports it. Each URL becomes one
apprise plugin object so a failure is known per destination. Names and errors are
redacted (:func:`~livegate.config.alerts_models.redact_url`): a token in a URL never
reaches a log, ``alerts_health.json`` or ``/health``.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Protocol

from livegate.alerts.model import Alert, AlertSeverity
from livegate.config.alerts_models import REDACTED, AlertsConfig, redact_url
from livegate.domain.errors import ConfigError

if TYPE_CHECKING:
    from apprise import NotifyBase

__all__ = ["AppriseDestination", "Destination", "build_destinations"]

#: Longest error text kept per failure.
_MAX_ERROR = 300
#: URL parts at least this long are treated as secrets when they appear in an error text.
_MIN_SECRET = 4


class Destination(Protocol):
    """Where alerts go; tests use fakes, sessions :class:`AppriseDestination`."""

    @property
    def name(self) -> str:
        """Return the redacted destination name."""
        ...

    def deliver(self, alert: Alert) -> str | None:
        """Send ``alert``; return None when delivered, else the (redacted) reason it failed."""
        ...


class AppriseDestination:
    """One apprise URL.

    Parameters
    ----------
    url:
        The apprise URL (a secret; never shown).
    timeout_secs:
        Connect and read timeout, seconds (``[alerts] timeout_secs``).
    min_interval_secs:
        Cap on apprise's pacing between two deliveries of this plugin (``request_rate_per_sec``,
        which apprise reads as seconds between requests), wall seconds.
    slack_webhook_url:
        Base replacing ``https://hooks.slack.com/services`` for a ``slack://`` webhook; "" keeps Slack's.

    Raises
    ------
    ConfigError
        If apprise is not installed or does not understand ``url`` (named redacted).
    """

    __slots__ = ("_name", "_plugin", "_secrets")

    def __init__(
        self, url: str, *, timeout_secs: float, min_interval_secs: float = 1.0, slack_webhook_url: str = ""
    ) -> None:
        try:
            import apprise
            from apprise.plugins.slack import NotifySlack
        except ImportError as exc:
            raise ConfigError("[alerts] needs apprise: pip install 'livegate[alerts]'") from exc
        _silence_apprise_logger()
        self._name = redact_url(url)
        plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
        if plugin is None:
            raise ConfigError(f"[alerts] destination {self._name} is not an apprise URL apprise can use")
        plugin.socket_connect_timeout = timeout_secs
        plugin.socket_read_timeout = timeout_secs
        plugin.request_rate_per_sec = min(plugin.request_rate_per_sec, min_interval_secs)
        if slack_webhook_url and isinstance(plugin, NotifySlack):
            plugin.webhook_url = slack_webhook_url  # a Slack-compatible receiver instead of hooks.slack.com
        self._plugin: NotifyBase = plugin
        self._secrets = _secret_parts(url)

    @property
    def name(self) -> str:
        """Return the redacted URL (``ntfy://127.0.0.1:8080/***``)."""
        return self._name

    def deliver(self, alert: Alert) -> str | None:
        """Send ``alert`` through the apprise plugin; return None or the redacted failure reason."""
        import apprise

        notify_type = _NOTIFY_TYPES[alert.severity]
        try:
            with apprise.LogCapture(level=logging.WARNING) as captured:  # type: ignore[no-untyped-call]
                ok = self._plugin.notify(body=alert.body, title=alert.title, notify_type=notify_type)
                text = captured.getvalue() if not ok else ""
        except Exception as exc:  # a plugin bug must not kill the delivery worker: counted as a failure
            return self._scrub(f"{self._name}: {type(exc).__name__}: {exc}")
        if ok:
            return None
        lines = [line.split(" - ", 2)[-1].strip() for line in str(text).splitlines() if line.strip()]
        detail = "; ".join(lines[-2:]) or "delivery failed"
        return self._scrub(f"{self._name}: {detail}")

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text[:_MAX_ERROR]


def _silence_apprise_logger() -> None:
    """Keep apprise's own log lines (which quote URLs, tokens included) out of livegate's logs.

    livegate reports every failure itself, redacted; :meth:`AppriseDestination.deliver`
    reads apprise's lines through ``apprise.LogCapture``, a handler on the same logger.
    """
    apprise_log = logging.getLogger("apprise")
    if apprise_log.propagate:
        apprise_log.propagate = False
        apprise_log.addHandler(logging.NullHandler())


_NOTIFY_TYPES = {AlertSeverity.INFO: "info", AlertSeverity.WARN: "warning", AlertSeverity.CRIT: "failure"}


def _secret_parts(url: str) -> list[str]:
    """Return the parts of ``url`` after its scheme that could be secrets, longest first."""
    rest = url.partition("://")[2]
    parts = {p for p in re.split(r"[/:@?&=#,]", rest) if len(p) >= _MIN_SECRET}
    shown = redact_url(url).partition("://")[2].partition("/")[0]  # host and port, when redaction keeps them
    parts.difference_update(shown.split(":"))
    return sorted(parts, key=len, reverse=True)


def build_destinations(config: AlertsConfig) -> dict[AlertSeverity, list[Destination]]:
    """Return the destinations of each severity (``urls`` plus ``<severity>_urls``), one object per URL.

    URLs redacted in a run's ``config_resolved.json`` (a resumed run) are skipped with a warning.

    Raises
    ------
    ConfigError
        If apprise is missing or a URL is not one apprise understands.
    """
    built: dict[str, Destination] = {}
    routes: dict[AlertSeverity, list[Destination]] = {}
    lists = {
        AlertSeverity.INFO: config.info_urls,
        AlertSeverity.WARN: config.warn_urls,
        AlertSeverity.CRIT: config.crit_urls,
    }
    for severity, own in lists.items():
        route: list[Destination] = []
        for url in [*config.urls, *own]:
            if REDACTED in url:
                logging.getLogger("livegate.alerts").warning("alerts: skipping redacted destination %s", url)
                continue
            if url not in built:
                built[url] = AppriseDestination(
                    url,
                    timeout_secs=config.timeout_secs,
                    min_interval_secs=config.min_interval_secs,
                    slack_webhook_url=config.slack_webhook_url,
                )
            if built[url] not in route:
                route.append(built[url])
        routes[severity] = route
    return routes
