"""What every part of the Alpaca emulator writes the same way: keys, error bodies, times and decimals.

Alpaca's REST errors are JSON ``{"code": <8 digits>, "message": ...}`` with the HTTP
status in the first three digits of the code (docs.alpaca.markets, "Orders", "Errors");
keys travel in the ``APCA-API-KEY-ID`` / ``APCA-API-SECRET-KEY`` headers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from aiohttp import web

__all__ = ["API_KEY", "API_SECRET", "WORKING", "authorized", "error", "iso", "plain"]

API_KEY = "PKEMULATOR0ALPACA0KEY"
API_SECRET = "emulator-secret-never-logged"
#: Order statuses of a working order.
WORKING = ("new", "accepted", "pending_new", "partially_filled")


def iso(ts: float) -> str:
    """Return epoch seconds ``ts`` as Alpaca writes times: RFC 3339 UTC with microseconds."""
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def plain(value: Decimal) -> str:
    """Return ``value`` as a plain decimal string (no exponent, no trailing zeros)."""
    return format(value.normalize(), "f")


def authorized(request: web.Request) -> bool:
    """Return True when the request carries the emulator's key and secret."""
    return (
        request.headers.get("APCA-API-KEY-ID") == API_KEY and request.headers.get("APCA-API-SECRET-KEY") == API_SECRET
    )


def error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    """Return an Alpaca error answer."""
    return web.json_response({"code": code, "message": message}, status=status, headers=headers)
