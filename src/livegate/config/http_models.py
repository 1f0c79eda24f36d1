"""Profile section ``[http]``: the operator HTTP API of a running session (docs/operations.md).

Units are in the key names: ``_bytes``, ``_ms``. The API is off unless ``bind`` is set
(profile, env ``LIVEGATE_HTTP__BIND`` or ``livegate run --http ADDR``).
"""

from __future__ import annotations

import ipaddress

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: Hosts that name the loopback interface without being an IP literal.
_LOOPBACK_NAMES = frozenset({"localhost"})


class _HttpSection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def split_bind(bind: str) -> tuple[str, int]:
    """Return ``(host, port)`` of a ``HOST:PORT`` (IPv6 as ``[::1]:PORT``) bind address.

    Raises
    ------
    ValueError
        If the text is not ``HOST:PORT`` with a port in 0..65535.
    """
    host, sep, port_text = bind.strip().rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise ValueError(f"bind must be HOST:PORT (e.g. 127.0.0.1:9898), got {bind!r}")
    port = int(port_text)
    if port > 65535:
        raise ValueError(f"bind port must be 0..65535, got {port}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, port


def is_loopback(host: str) -> bool:
    """Return True when ``host`` is ``localhost`` or a loopback IP literal (127.0.0.0/8, ::1)."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class HttpConfig(_HttpSection):
    """The session's HTTP control API (``[http]``).

    Parameters
    ----------
    bind:
        ``HOST:PORT`` to listen on (``"127.0.0.1:9898"``); empty = no API. Port 0 picks a
        free port (the URL is in ``status.json``).
    allow_remote:
        A bind that is not loopback (``0.0.0.0``, a LAN address) is refused unless this
        is true; put a TLS-terminating proxy in front then (the API speaks plain HTTP).
    max_body_bytes:
        Largest accepted request body; a larger one is answered 413 (default 4096).
    stall_limit_ms:
        ``GET /health`` answers 503 when the session timer has not ticked for this long
        (wall ms; default 5000).
    """

    bind: str = ""
    allow_remote: bool = False
    max_body_bytes: int = Field(default=4096, ge=64, le=1_048_576)
    stall_limit_ms: int = Field(default=5000, ge=500)

    @field_validator("bind")
    @classmethod
    def _bind_form(cls, value: str) -> str:
        if value:
            split_bind(value)
        return value.strip()

    @model_validator(mode="after")
    def _remote_needs_consent(self) -> HttpConfig:
        if self.bind and not self.allow_remote and not is_loopback(split_bind(self.bind)[0]):
            raise ValueError(
                f"[http] bind {self.bind!r} is not a loopback address; set [http] allow_remote = true "
                "to listen beyond this machine"
            )
        return self

    @property
    def enabled(self) -> bool:
        """Return True when the API should listen (``bind`` is set)."""
        return bool(self.bind)
