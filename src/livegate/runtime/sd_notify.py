"""systemd's notify protocol (``sd_notify(3)``): READY, WATCHDOG, STOPPING and STATUS over ``$NOTIFY_SOCKET``.

Under a ``Type=notify`` unit (``deploy/livegate.service``) systemd passes the path of a
unix datagram socket in ``NOTIFY_SOCKET`` (a leading ``@`` names an abstract socket)
and, with ``WatchdogSec=``, the watchdog period in ``WATCHDOG_USEC`` (microseconds) for the process
``WATCHDOG_PID``. A venue session sends:

* ``READY=1`` once the startup reconciliation is done and the loop starts (systemd then
  counts the unit as started);
* ``WATCHDOG=1`` from the session's wall-clock timer (:mod:`livegate.runtime.timer`)
  every half watchdog period, so a stuck loop or timer is restarted by systemd;
* ``STOPPING=1`` when the loop ends (stream end, stop signal), before the cancels and
  the end records.

Without ``NOTIFY_SOCKET`` every call is a no-op. A failed send is logged once and never
stops the session (systemd's watchdog is a backstop, not part of the order path).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

from livegate.domain.clock import monotonic_secs

__all__ = ["NOTIFY_SOCKET_ENV", "WATCHDOG_PID_ENV", "WATCHDOG_USEC_ENV", "SdNotifier"]

log = logging.getLogger("livegate")

NOTIFY_SOCKET_ENV = "NOTIFY_SOCKET"
WATCHDOG_USEC_ENV = "WATCHDOG_USEC"
WATCHDOG_PID_ENV = "WATCHDOG_PID"


class SdNotifier:
    """Send notify messages to systemd, and watchdog pings at half the watchdog period.

    Parameters
    ----------
    address:
        The ``NOTIFY_SOCKET`` value (a path, or ``@name`` for an abstract socket); None or
        empty disables every message.
    watchdog_usec:
        ``WATCHDOG_USEC``: the unit's watchdog period in microseconds, or None without a watchdog.
    """

    __slots__ = ("_address", "_failed", "_last_ping_secs", "_socket", "watchdog_interval_secs")

    def __init__(self, address: str | None, watchdog_usec: int | None = None) -> None:
        self._address = "\0" + address[1:] if address and address.startswith("@") else address or None
        self._socket: socket.socket | None = None
        self._failed = False
        #: Seconds between two ``WATCHDOG=1`` pings: half the watchdog period (sd_watchdog_enabled(3)).
        self.watchdog_interval_secs = watchdog_usec / 2_000_000 if watchdog_usec and self._address else None
        self._last_ping_secs: float | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str], pid: int | None = None) -> SdNotifier:
        """Build from ``NOTIFY_SOCKET``, ``WATCHDOG_USEC`` and ``WATCHDOG_PID`` of ``env``.

        The watchdog is ignored when ``WATCHDOG_PID`` names another process (the variable
        was inherited) or ``WATCHDOG_USEC`` is not a positive integer.
        """
        usec_text = env.get(WATCHDOG_USEC_ENV, "")
        usec = int(usec_text) if usec_text.isdigit() and int(usec_text) > 0 else None
        watchdog_pid = env.get(WATCHDOG_PID_ENV, "")
        if watchdog_pid and watchdog_pid != str(pid if pid is not None else os.getpid()):
            usec = None
        return cls(env.get(NOTIFY_SOCKET_ENV), usec)

    @property
    def enabled(self) -> bool:
        """Return True when a notify socket is configured."""
        return self._address is not None

    def notify(self, *assignments: str) -> bool:
        """Send ``assignments`` (e.g. ``"READY=1"``, ``"STATUS=trading"``) as one datagram; return True if sent."""
        if self._address is None:
            return False
        try:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._socket.sendto("\n".join(assignments).encode("utf-8"), self._address)
        except OSError as exc:
            if not self._failed:
                log.warning("sd_notify to %s failed: %s (further failures not logged)", self._address, exc)
                self._failed = True
            return False
        return True

    def ready(self, status: str = "") -> bool:
        """Send ``READY=1`` (and ``STATUS=status`` when given)."""
        return self.notify("READY=1", *((f"STATUS={status}",) if status else ()))

    def stopping(self, status: str = "") -> bool:
        """Send ``STOPPING=1`` (and ``STATUS=status`` when given)."""
        return self.notify("STOPPING=1", *((f"STATUS={status}",) if status else ()))

    def ping_if_due(self) -> bool:
        """Send ``WATCHDOG=1`` when half the watchdog period passed since the last ping; return True if sent."""
        interval = self.watchdog_interval_secs
        if interval is None:
            return False
        now = monotonic_secs()
        if self._last_ping_secs is not None and now - self._last_ping_secs < interval:
            return False
        self._last_ping_secs = now
        return self.notify("WATCHDOG=1")

    def close(self) -> None:
        """Close the socket; harmless twice."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None
