"""The Alpaca emulator in its own thread, for tests that run the ``livegate`` CLI as a subprocess."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.alpaca_emulator.server import AlpacaEmulator

__all__ = ["AlpacaThread", "alpaca_thread_factory"]

T = TypeVar("T")


class AlpacaThread:
    """An :class:`AlpacaEmulator` served from its own event loop in a daemon thread."""

    def __init__(self, data_root: Path, **kwargs: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="alpaca-emulator", daemon=True)
        self._thread.start()
        self.emulator: AlpacaEmulator = self.run(self._make(data_root, kwargs))

    async def _make(self, data_root: Path, kwargs: dict[str, Any]) -> AlpacaEmulator:
        emu = AlpacaEmulator(data_root, **kwargs)
        await emu.start()
        return emu

    def run(self, coro: Any, timeout: float = 10.0) -> Any:
        """Run ``coro`` on the venue loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, fn: Callable[[AlpacaEmulator], T]) -> T:
        """Run ``fn(emulator)`` on the venue loop (no race with requests) and return its result."""

        async def wrapped() -> T:
            return fn(self.emulator)

        return self.run(wrapped())  # type: ignore[no-any-return]

    def close(self) -> None:
        """Stop the emulator and its loop."""
        self.run(self.emulator.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


@pytest.fixture
def alpaca_thread_factory(shared_data: Path) -> Iterator[Callable[..., AlpacaThread]]:
    """Return a factory of :class:`AlpacaThread` replaying ``../shared/data`` (closed after the test)."""
    made: list[AlpacaThread] = []

    def make(**kwargs: Any) -> AlpacaThread:
        thread = AlpacaThread(shared_data, **kwargs)
        made.append(thread)
        return thread

    yield make
    for thread in made:
        thread.close()
