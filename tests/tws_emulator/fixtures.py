"""Serve a :class:`TwsEmulator` from its own event loop in a daemon thread (subprocess tests)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from tests.tws_emulator.server import TwsEmulator

__all__ = ["TwsThread"]

T = TypeVar("T")


class TwsThread:
    """A :class:`TwsEmulator` on 127.0.0.1 (free port) served from a background thread.

    Read or change the venue only through :meth:`call`, which runs on the venue's loop.
    """

    def __init__(self, **kwargs: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="tws-emulator", daemon=True)
        self._thread.start()
        self.tws: TwsEmulator = self._run(self._make(kwargs))

    async def _make(self, kwargs: dict[str, Any]) -> TwsEmulator:
        tws = TwsEmulator(**kwargs)
        await tws.start()
        return tws

    def _run(self, coro: Any, timeout: float = 10.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    @property
    def port(self) -> int:
        """Return the API socket port."""
        return self.tws.port

    def call(self, fn: Callable[[TwsEmulator], T]) -> T:
        """Run ``fn(tws)`` on the venue loop and return its result."""

        async def wrapped() -> T:
            return fn(self.tws)

        return self._run(wrapped())  # type: ignore[no-any-return]

    def close(self) -> None:
        """Stop the emulator and its loop."""
        self._run(self.tws.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
