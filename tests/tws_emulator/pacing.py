"""TWS's API message rate limit: error 100 over the limit, the message dropped, the client dropped after repeats.

Sources:

* TWS API "Message Codes": 100 "Max rate of messages per second has been exceeded."
* IBKR TWS API "Troubleshooting Common Errors" (RTD Server, interactivebrokers.github.io/
  tws-api/rtd_fqa_errors.html): "No more than 50 messages can be sent from an API
  application ... to TWS per second (this does not include messages in the opposite
  direction) ... If the 50 messages/second rate is exceeded, TWS will eventually close
  the connection."

:class:`MessageRateLimit` counts every message a client connection sends in a sliding
one-second window. A message over ``max_per_sec`` is not acted on: the emulator answers
error 100 and drops it. After ``disconnect_after`` such messages from one connection TWS
closes that connection ("eventually": the exact count is IB's; a test picks it). Nothing
of livegate is imported: this is the venue.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

__all__ = ["PACING_TEXT", "MessageRateLimit"]

PACING_TEXT = "Max rate of messages per second has been exceeded"


@dataclass
class MessageRateLimit:
    """A per-connection sliding-window message limit (see the module docstring).

    Parameters
    ----------
    max_per_sec:
        Messages a connection may send within any ``window_secs`` (IB: 50 a second).
    disconnect_after:
        Dropped messages of one connection after which TWS closes it; None never closes.
    window_secs:
        Length of the window, in seconds.
    """

    max_per_sec: int = 50
    disconnect_after: int | None = None
    window_secs: float = 1.0
    dropped: list[tuple[int, int]] = field(default_factory=list)  # (message id, order id or -1), in order
    disconnects: int = 0
    peak: int = 0  # the most messages admitted within one window
    _sent: dict[int, deque[float]] = field(default_factory=dict)
    _violations: dict[int, int] = field(default_factory=dict)

    def admit(self, connection: int, now_secs: float) -> bool:
        """Return True when ``connection`` may send one more message at ``now_secs`` (and count it)."""
        sent = self._sent.setdefault(connection, deque())
        while sent and sent[0] <= now_secs - self.window_secs:
            sent.popleft()
        if len(sent) >= self.max_per_sec:
            return False
        sent.append(now_secs)
        self.peak = max(self.peak, len(sent))
        return True

    def refuse(self, connection: int, msg: int, order_id: int) -> bool:
        """Record a dropped message; return True when TWS now closes ``connection``."""
        self.dropped.append((msg, order_id))
        count = self._violations.get(connection, 0) + 1
        self._violations[connection] = count
        if self.disconnect_after is not None and count >= self.disconnect_after:
            self._violations[connection] = 0
            self._sent.pop(connection, None)
            self.disconnects += 1
            return True
        return False
