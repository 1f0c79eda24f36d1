"""Redact secrets from what the API shows (docs/architecture.md §3.11: no secret in any response).

A value is replaced by :data:`REDACTED` when its key names a secret (``secret``, ``token``,
``password``, ``passphrase``, ``private``, ``api_key``/``apikey``, ``credential``,
``webhook``, ``urls``: alert destination URLs carry their tokens), and any string holding
a URL with a user or password part (``scheme://user:pass@host``) loses that part.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["REDACTED", "redact"]

REDACTED = "***redacted***"
_SECRET_KEY = re.compile(
    r"(secret|token|passw(or)?d|passphrase|private|api_?key|credential|webhook|^urls?$|signature|auth)", re.IGNORECASE
)
_URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)


def redact(value: Any, key: str = "") -> Any:
    """Return a copy of ``value`` (JSON-like) with secrets replaced; ``key`` is the key it sits under."""
    if key and _SECRET_KEY.search(key) and value not in (None, "", [], {}):
        return REDACTED
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", value)
    return value
