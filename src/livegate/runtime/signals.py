"""SIGTERM / SIGINT: the first asks the session to stop gracefully, a second stops the process at once.

Graceful stop (docs/risk.md): no new strategy callbacks, working orders cancelled
(``[shutdown] cancel_open_orders``) with a bounded wait for the venue to confirm,
telemetry flushed, ``summary.json`` and ``session_ended`` written with the reason
``"signal SIGTERM"``; the exit code is 128 + the signal number (143 for SIGTERM, 130 for
SIGINT) unless the session failed (1) or had anomalies (3). A second signal restores the
default action and re-sends itself: the process ends at once, as an unhandled signal.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable

__all__ = ["STOP_SIGNALS", "StopSignals"]

log = logging.getLogger("livegate")

#: The signals that stop a session gracefully.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopSignals:
    """Route SIGTERM and SIGINT to ``on_stop`` through the running asyncio loop.

    Parameters
    ----------
    on_stop:
        Called once, with the signal number, on the first stop signal.
    """

    __slots__ = ("_installed", "_loop", "_on_stop", "received")

    def __init__(self, on_stop: Callable[[int], None]) -> None:
        self._on_stop = on_stop
        self._loop: asyncio.AbstractEventLoop | None = None
        self._installed: list[signal.Signals] = []
        self.received: int | None = None

    def install(self) -> None:
        """Install the handlers on the running loop (skipped where it cannot take them, e.g. off the main thread)."""
        loop = asyncio.get_running_loop()
        self._loop = loop
        for sig in STOP_SIGNALS:
            try:
                loop.add_signal_handler(sig, self._handle, sig)
            except (ValueError, RuntimeError, NotImplementedError):
                continue
            self._installed.append(sig)

    def uninstall(self) -> None:
        """Remove the handlers; harmless twice."""
        if self._loop is not None:
            for sig in self._installed:
                self._loop.remove_signal_handler(sig)
        self._installed = []

    def _handle(self, sig: signal.Signals) -> None:
        if self.received is not None:
            log.warning("second %s: stopping at once", sig.name)
            signal.signal(sig, signal.SIG_DFL)
            os.kill(os.getpid(), sig)
            return
        self.received = int(sig)
        log.warning(
            "%s received: stopping (cancel working orders, flush, summarize); send again to stop at once", sig.name
        )
        self._on_stop(int(sig))
