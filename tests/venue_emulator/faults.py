"""Faults a test injects into the emulated venue (all off by default).

Each HTTP fault matches requests by method and path suffix and fires ``count`` times.
``after_accept`` first lets the venue process the request (the order is placed or
cancelled) and only then answers with the fault: Binance's "503 -1007 execution status
unknown" and a client timeout after the venue took the order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Faults", "HttpFault", "PrivateStreamFaults"]

#: Binance -1007 (Spot and USD-M "Error codes"): the venue may or may not have executed.
EXECUTION_UNKNOWN_MSG = (
    "Timeout waiting for response from backend server. Send status unknown; execution status unknown."
)


@dataclass(slots=True)
class HttpFault:
    """One scripted HTTP answer.

    Parameters
    ----------
    path:
        Path suffix the fault matches (``"/order"`` matches ``/api/v3/order`` and ``/fapi/v1/order``).
    method:
        HTTP method, or ``""`` for any.
    status, code, msg:
        The answer (``code`` None: ``raw`` or an empty body).
    after_accept:
        Process the request first, then answer with the fault.
    delay_secs:
        Sleep this long before answering (after processing when ``after_accept``).
    count:
        How many matching requests the fault answers.
    headers, raw:
        Extra headers (e.g. ``Retry-After``) and a raw body (an unparsable answer).
    replace_answer:
        False: only delay (``delay_secs``, after processing with ``after_accept``), then
        send the venue's normal answer; a delay past the client's timeout makes the
        client give up on an order the venue took.
    """

    path: str
    method: str = ""
    status: int = 503
    code: int | None = -1007
    msg: str = EXECUTION_UNKNOWN_MSG
    after_accept: bool = False
    delay_secs: float = 0.0
    count: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    raw: str | None = None
    replace_answer: bool = True

    def matches(self, method: str, path: str) -> bool:
        """Return True when this fault answers ``method path`` (and has firings left)."""
        return self.count > 0 and (not self.method or self.method == method) and path.endswith(self.path)


@dataclass(slots=True)
class PrivateStreamFaults:
    """Private-event faults: the next ``lose`` events vanish, the next ``duplicate`` are sent twice,
    and the next ``reorder`` events are each held back and sent after the one that follows."""

    lose: int = 0
    duplicate: int = 0
    reorder: int = 0


@dataclass(slots=True)
class Faults:
    """Every fault switch of one emulator."""

    http: list[HttpFault] = field(default_factory=list)
    private: PrivateStreamFaults = field(default_factory=PrivateStreamFaults)
    revoked_key: bool = False
    clock_skew_ms: int = 0

    def take(self, method: str, path: str) -> HttpFault | None:
        """Return (and spend one firing of) the first fault matching ``method path``."""
        for fault in self.http:
            if fault.matches(method, path):
                fault.count -= 1
                return fault
        return None
