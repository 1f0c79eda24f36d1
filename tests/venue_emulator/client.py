"""A minimal signed Binance REST client for the emulator's own tests (what ccxt sends, by hand)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp

from tests.venue_emulator.server import API_KEY, API_SECRET, Emulator

__all__ = ["Answer", "call"]


class Answer:
    """Status, parsed JSON body and headers of one answer."""

    def __init__(self, status: int, body: Any, headers: dict[str, str]) -> None:
        self.status = status
        self.body = body
        self.headers = headers

    @property
    def code(self) -> int | None:
        """Return Binance's error code, None on success."""
        return self.body.get("code") if isinstance(self.body, dict) and "msg" in self.body else None


async def call(
    emu: Emulator,
    method: str,
    path: str,
    *,
    signed: bool = True,
    key: str = API_KEY,
    secret: str = API_SECRET,
    timestamp_ms: int | None = None,
    **params: Any,
) -> Answer:
    """Send one request as ccxt does (timestamp + recvWindow + HMAC-SHA256 signature last)."""
    headers = {"X-MBX-APIKEY": key}
    query = {k: str(v) for k, v in params.items()}
    if signed:
        query["timestamp"] = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
        query["recvWindow"] = "10000"
        text = urlencode(query)
        text += "&signature=" + hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()
    else:
        text = urlencode(query)
    url = emu.rest_url + path
    async with aiohttp.ClientSession() as session:
        if method in ("GET", "DELETE"):
            request = session.request(method, f"{url}?{text}" if text else url, headers=headers)
        else:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            request = session.request(method, url, data=text, headers=headers)
        async with request as response:
            raw = await response.text()
            body = json.loads(raw) if raw else None
            return Answer(response.status, body, dict(response.headers))
