"""The ``[alerts]`` section: where alerts go, by severity, and how often (docs/alerts.md).

Destinations are apprise URLs (``ntfy://host:port/topic``, ``slack://T/B/C``,
``mailto://…``; https://appriseit.com lists every service). An alert of severity S goes to
``urls`` plus ``<s>_urls``. Env: ``LIVEGATE_ALERTS__URLS='["ntfy://…"]'`` (a JSON list),
``LIVEGATE_ALERTS__THROTTLE_SECS=60``, like every section.

The URLs hold secrets (tokens in the path or the user part): :func:`redact_url` is what
``config_resolved.json``, logs and errors show, and the ``[alerts]`` section is left out of
the config hash (alert destinations do not change what a session trades).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

__all__ = ["REDACTED", "AlertsConfig", "redact_url"]

#: What stands for a secret part of a destination URL.
REDACTED = "***"


def redact_url(url: str) -> str:
    """Return ``url`` with everything but its scheme and network address hidden.

    The ``host[:port]`` part is kept only when it is one (a host name with a dot,
    ``localhost`` or an IP address, an optional numeric port) and no user part precedes it;
    path, query and user part are always replaced by ``***``: ``ntfy://127.0.0.1:8080/***``,
    ``slack://***``, ``tgram://***`` (a Telegram bot token ``123:ABC`` is no address).
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return REDACTED
    parts = urlsplit(f"x://{rest}")
    try:
        port = parts.port
    except ValueError:
        return f"{scheme}://{REDACTED}"
    host = parts.hostname or ""
    address = "." in host or host == "localhost" or ":" in host
    if parts.username is not None or not address:
        return f"{scheme}://{REDACTED}"
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}{'' if port is None else f':{port}'}/{REDACTED}"


class AlertsConfig(BaseModel):
    """Alert destinations, routing by severity, throttling and delivery limits.

    Parameters
    ----------
    urls:
        apprise URLs that receive every severity (INFO, WARN, CRIT). Default none.
    info_urls, warn_urls, crit_urls:
        apprise URLs that receive only that severity, in addition to ``urls``.
    throttle_secs:
        Per alert key, at most one delivery in this many seconds of session time (event
        time on replayed data); later alerts of the key inside the window are counted as
        throttled and summed into the next delivered one. 0 disables. Default 300.
    dedup_secs:
        An alert identical to one delivered (same key, title and text) is not sent again
        for this many seconds of session time. 0 disables. Default 3600.
    queue_size:
        Alerts waiting for delivery; when full, a new alert is dropped and counted
        (delivery never waits on the order path). Default 256.
    timeout_secs:
        Connect and read timeout of one delivery to one destination, seconds. Default 5.
    min_interval_secs:
        Shortest time between two deliveries to one destination, wall seconds: apprise's
        own pacing per service (5.5 s for most, 1.2 s for Slack) capped to this, so a burst
        (a kill, then its anomaly) is not spread over half a minute. Default 1.
    drain_secs:
        At the session's end, how long (wall seconds) queued alerts may still be sent
        before the rest is dropped and counted. Default 10.
    slack_webhook_url:
        Base URL replacing ``https://hooks.slack.com/services`` for ``slack://`` webhook
        destinations (a Slack-compatible relay or a test receiver). Default: Slack's own.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    urls: list[str] = Field(default_factory=list)
    info_urls: list[str] = Field(default_factory=list)
    warn_urls: list[str] = Field(default_factory=list)
    crit_urls: list[str] = Field(default_factory=list)
    throttle_secs: float = Field(default=300.0, ge=0)
    dedup_secs: float = Field(default=3600.0, ge=0)
    queue_size: int = Field(default=256, gt=0, le=100_000)
    timeout_secs: float = Field(default=5.0, gt=0, le=120)
    min_interval_secs: float = Field(default=1.0, ge=0, le=60)
    drain_secs: float = Field(default=10.0, ge=0, le=600)
    slack_webhook_url: str = ""

    @field_validator("urls", "info_urls", "warn_urls", "crit_urls")
    @classmethod
    def _apprise_urls(cls, value: list[str], info: ValidationInfo) -> list[str]:
        out = []
        for i, url in enumerate(value):
            url = url.strip()
            scheme, sep, rest = url.partition("://")
            if not sep or not scheme or not rest:
                where = f"[alerts] {info.field_name}[{i}]"
                raise ValueError(f"{where} is not an apprise URL (scheme://…): {redact_url(url)}")
            out.append(url)
        return out

    @field_validator("slack_webhook_url")
    @classmethod
    def _http_base(cls, value: str) -> str:
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"[alerts] slack_webhook_url must be http(s)://host[:port][/prefix], got {value!r}")
        return value.rstrip("/")

    @property
    def configured(self) -> bool:
        """Return True when at least one destination is configured."""
        return bool(self.urls or self.info_urls or self.warn_urls or self.crit_urls)

    def redacted(self) -> dict[str, object]:
        """Return the section as JSON with every URL redacted (``config_resolved.json``)."""
        record = self.model_dump(mode="json")
        for key in ("urls", "info_urls", "warn_urls", "crit_urls"):
            record[key] = [redact_url(u) for u in record[key]]
        return record
