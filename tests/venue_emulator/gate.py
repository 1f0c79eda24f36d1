"""Request admission as Binance does it: API key, HMAC-SHA256 signature, recvWindow, weights, bans.

Sources: Binance Spot API "Request security" (SIGNED endpoints: HMAC-SHA256 of the
total parameters, ``timestamp`` within ``recvWindow`` of the server time and not more
than 1000 ms ahead), "LIMITS" (``X-MBX-USED-WEIGHT-1M``; 429 with ``Retry-After``; an
IP that keeps sending after a 429 is banned with 418, 2 minutes at first). USD-M uses
the same rules with a 2400 weight per minute limit.

Binance bans clients "failing to back off after receiving 429s": a request that was
already on its way when the 429 went out cannot have backed off. The emulator answers
requests arriving within ``in_flight_grace_ms`` of the 429 with another 429 and bans
only those sent later inside the ``Retry-After`` window.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field

from tests.venue_emulator.model import Kind, VenueRefusal

__all__ = ["Gate", "weight_of"]

_SIG = re.compile(r"&?signature=([^&]*)")

_SPOT_WEIGHTS = {
    ("GET", "/api/v3/exchangeInfo"): 20,
    ("GET", "/api/v3/order"): 4,
    ("GET", "/api/v3/account"): 20,
    ("GET", "/api/v3/myTrades"): 20,
    ("GET", "/api/v3/allOrders"): 20,
    ("POST", "/api/v3/userDataStream"): 2,
    ("PUT", "/api/v3/userDataStream"): 2,
}
_USDM_WEIGHTS = {
    ("GET", "/fapi/v2/account"): 5,
    ("GET", "/fapi/v3/account"): 5,
    ("GET", "/fapi/v2/positionRisk"): 5,
    ("GET", "/fapi/v3/positionRisk"): 5,
    ("GET", "/fapi/v1/userTrades"): 5,
    ("GET", "/fapi/v1/allOrders"): 5,
    ("POST", "/fapi/v1/order"): 0,
}


def weight_of(kind: Kind, method: str, path: str, has_symbol: bool) -> int:
    """Return the request weight of ``method path`` (Binance's per-endpoint "Weight")."""
    if path.endswith("/openOrders") and method == "GET":
        if kind is Kind.SPOT:
            return 6 if has_symbol else 80
        return 1 if has_symbol else 40
    table = _SPOT_WEIGHTS if kind is Kind.SPOT else _USDM_WEIGHTS
    return table.get((method, path), 1)


@dataclass
class Gate:
    """Admission state of one emulated venue: the account key, used weight, limit and ban times."""

    kind: Kind
    api_key: str
    secret: str
    weight_limit_1m: int = 6000
    orders_limit_10s: int = 100
    ban_secs: float = 120.0
    used: dict[int, int] = field(default_factory=dict)  # minute -> used weight
    orders: dict[int, int] = field(default_factory=dict)  # 10 s window -> new orders
    limited_until_ms: int = 0
    limited_at_ms: int = 0
    in_flight_grace_ms: int = 100
    banned_until_ms: int = 0

    def used_weight(self, now_ms: int) -> int:
        """Return the weight used in the current minute (the ``X-MBX-USED-WEIGHT-1M`` header)."""
        return self.used.get(now_ms // 60_000, 0)

    def admit(self, method: str, path: str, weight: int, now_ms: int, *, new_order: bool) -> None:
        """Count ``weight`` (and a new order) and refuse when over a limit or banned.

        Raises
        ------
        VenueRefusal
            418 while banned (and for a request sent while a 429's Retry-After runs);
            429 -1003 over the weight limit, 429 -1015 over the order-rate limit.
        """
        if now_ms < self.banned_until_ms:
            raise self._ban_answer(now_ms)
        if now_ms < self.limited_until_ms:
            if now_ms - self.limited_at_ms <= self.in_flight_grace_ms:  # sent before the 429 reached the client
                retry = max(1, -(-(self.limited_until_ms - now_ms) // 1000))
                raise VenueRefusal(
                    429, -1003, "Too many requests; back off (request in flight).", {"Retry-After": str(retry)}
                )
            self.banned_until_ms = now_ms + int(self.ban_secs * 1000)
            raise self._ban_answer(now_ms)
        minute = now_ms // 60_000
        self.used[minute] = self.used.get(minute, 0) + weight
        if self.used[minute] > self.weight_limit_1m:
            retry = 60 - (now_ms // 1000) % 60
            self.limited_until_ms = now_ms + retry * 1000
            self.limited_at_ms = now_ms
            raise VenueRefusal(
                429,
                -1003,
                f"Too many requests; current limit of IP(127.0.0.1) request weight is {self.weight_limit_1m} "
                "request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.",
                {"Retry-After": str(retry)},
            )
        if new_order:
            window = now_ms // 10_000
            self.orders[window] = self.orders.get(window, 0) + 1
            if self.orders[window] > self.orders_limit_10s:
                retry = 10 - (now_ms // 1000) % 10
                raise VenueRefusal(
                    429,
                    -1015,
                    f"Too many new orders; current limit is {self.orders_limit_10s} orders per 10 SECOND.",
                    {"Retry-After": str(retry)},
                )

    def force_limit(self, now_ms: int, retry_after_secs: int) -> VenueRefusal:
        """Enter the rate-limited state now and return its 429 answer (a test's injected 429)."""
        self.limited_until_ms = now_ms + retry_after_secs * 1000
        self.limited_at_ms = now_ms
        return VenueRefusal(
            429, -1003, "Too many requests; injected by the test.", {"Retry-After": str(retry_after_secs)}
        )

    def ban(self, now_ms: int, secs: float) -> None:
        """Ban the client for ``secs`` from ``now_ms`` (a test's injected 418)."""
        self.banned_until_ms = now_ms + int(secs * 1000)

    def _ban_answer(self, now_ms: int) -> VenueRefusal:
        retry = max(1, -(-(self.banned_until_ms - now_ms) // 1000))
        return VenueRefusal(
            418,
            -1003,
            f"Way too many requests; IP(127.0.0.1) banned until {self.banned_until_ms}. "
            "Please use WebSocket Streams for live updates to avoid bans.",
            {"Retry-After": str(retry)},
        )

    def check_key(self, api_key: str | None, revoked: bool) -> None:
        """Refuse an unknown or revoked API key: 401 -2015 (Binance "Invalid API-key, IP, or permissions")."""
        if revoked or api_key != self.api_key:
            raise VenueRefusal(401, -2015, "Invalid API-key, IP, or permissions for action.")

    def check_signed(self, payload: str, params: dict[str, str], now_ms: int) -> None:
        """Check the HMAC-SHA256 ``signature`` over ``payload`` and the timestamp against ``recvWindow``.

        Raises
        ------
        VenueRefusal
            -1102 missing timestamp/signature; -1022 bad signature; -1021 timestamp
            outside the recvWindow or more than 1000 ms ahead of the server time.
        """
        found = _SIG.search(payload)
        if found is None or "timestamp" not in params:
            raise VenueRefusal(
                400, -1102, "Mandatory parameter 'signature' or 'timestamp' was not sent, was empty/null, or malformed."
            )
        unsigned = payload[: found.start()] + payload[found.end() :]
        expected = hmac.new(self.secret.encode(), unsigned.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, found.group(1)):
            raise VenueRefusal(400, -1022, "Signature for this request is not valid.")
        stamp = int(params["timestamp"])
        window = int(params.get("recvWindow", "5000"))
        if window > 60_000:
            raise VenueRefusal(400, -1131, "recvWindow must be less than 60000")
        if stamp >= now_ms + 1000:
            raise VenueRefusal(400, -1021, "Timestamp for this request was 1000ms ahead of the server's time.")
        if now_ms - stamp > window:
            raise VenueRefusal(400, -1021, "Timestamp for this request is outside of the recvWindow.")
