"""The strategy watchdog: interrupt a strategy callback that runs longer than ``[strategy] callback_timeout_ms``.

The session loop stores the argument of the callback it is about to run in
:attr:`StrategyWatchdog.current` (the quote, trade or fill object; a fresh
:class:`NamedCallback` for ``on_start`` / ``on_stop``) and clears it when the callback
returns: two attribute stores per callback, nothing else on the hot path. The object's
identity tells one call from the next, so every call must get its own object. A daemon thread samples
:attr:`~StrategyWatchdog.current` a few times per timeout; when the same callback is still
running after the timeout it sends ``SIGUSR2`` to the main thread
(:func:`signal.pthread_kill`), whose handler raises :class:`CallbackTimeout` there. That
interrupts a pure-Python infinite loop and a blocking sleep alike (a call stuck inside C
code is interrupted when it returns to Python). The session then halts (docs/risk.md).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from types import FrameType

from livegate.domain.market import Quote, Trade

__all__ = ["CallbackTimeout", "NamedCallback", "StrategyWatchdog", "callback_name"]

log = logging.getLogger("livegate")

_SIGNAL = signal.SIGUSR2
#: Samples per timeout; the timeout is detected at most ``timeout / _SAMPLES`` late.
_SAMPLES = 5
_MIN_POLL_SECS = 0.01
_MAX_POLL_SECS = 0.25


class CallbackTimeout(BaseException):
    """A strategy callback ran longer than ``[strategy] callback_timeout_ms``.

    A ``BaseException`` so that a strategy's own ``except Exception`` cannot swallow it.

    Parameters
    ----------
    callback:
        The callback's name, e.g. ``"on_quote"``.
    timeout_ms:
        The limit it exceeded, in ms.
    """

    def __init__(self, callback: str, timeout_ms: int) -> None:
        super().__init__(f"strategy callback {callback} ran longer than callback_timeout_ms={timeout_ms}")
        self.callback = callback
        self.timeout_ms = timeout_ms


class NamedCallback:
    """Marks a call of a callback without an event argument (``on_start``, ``on_stop``); one object per call."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


def callback_name(current: object) -> str:
    """Return the name of the callback running with argument ``current``."""
    if isinstance(current, NamedCallback):
        return current.name
    if isinstance(current, Quote):
        return "on_quote"
    if isinstance(current, Trade):
        return "on_trade"
    return "on_fill"


class StrategyWatchdog:
    """Watch strategy callbacks from a thread; interrupt one that overruns.

    Parameters
    ----------
    timeout_ms:
        ``[strategy] callback_timeout_ms``, > 0.

    Notes
    -----
    :meth:`start` must run in the main thread (Python delivers signals there). Elsewhere
    (e.g. a test running a session in a worker thread) the watchdog logs that it is off.
    """

    __slots__ = ("_fired", "_main", "_previous", "_stop", "_thread", "_timeout_ms", "current", "timed_out")

    def __init__(self, timeout_ms: int) -> None:
        self._timeout_ms = timeout_ms
        self.current: object | None = None
        self.timed_out: str | None = None
        self._fired: object | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._main = 0
        self._previous: object = None

    def start(self) -> bool:
        """Install the signal handler and start the watching thread; return False when not in the main thread."""
        if threading.current_thread() is not threading.main_thread():
            log.warning("strategy watchdog off: the session does not run in the main thread")
            return False
        self._main = threading.get_ident()
        self._previous = signal.signal(_SIGNAL, self._on_signal)
        self._thread = threading.Thread(target=self._watch, name="livegate-strategy-watchdog", daemon=True)
        self._thread.start()
        return True

    def stop(self) -> None:
        """Stop the thread and restore the previous handler; harmless when not started."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
            signal.signal(_SIGNAL, self._previous)  # type: ignore[arg-type]

    def _watch(self) -> None:
        timeout_secs = self._timeout_ms / 1000
        poll = min(max(timeout_secs / _SAMPLES, _MIN_POLL_SECS), _MAX_POLL_SECS)
        seen: object | None = None
        since = 0.0
        while not self._stop.wait(poll):
            current = self.current
            if current is None:
                seen = None
                continue
            if current is not seen:
                seen, since = current, time.monotonic()
                continue
            if time.monotonic() - since >= timeout_secs and self._fired is not current:
                self._fired = current
                signal.pthread_kill(self._main, _SIGNAL)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        current = self.current
        if current is not None and current is self._fired:
            name = callback_name(current)
            self.timed_out = name
            self.current = None
            raise CallbackTimeout(name, self._timeout_ms)
