"""Pytest fixtures: an :class:`Emulator` in the test's loop, or in a thread for subprocess tests.

Use ``from tests.venue_emulator.fixtures import *`` in a ``conftest.py`` (or import the
fixtures by name). ``emulator_thread`` runs the venue's loop in a background thread so a
test can run the ``livegate`` CLI as a subprocess against it; call venue methods through
:meth:`EmulatorThread.call` (they run on the venue's loop).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

import pytest
import pytest_asyncio

from livegate.config.models import VenueConfig
from livegate.domain.clock import Clock
from livegate.venues.ccxt import CcxtAdapter
from livegate.venues.ccxt.config import CcxtConfig, CcxtCredentials
from livegate.venues.ccxt.factory import with_venue_settings
from tests.venue_emulator.model import Kind
from tests.venue_emulator.server import API_KEY, API_SECRET, Emulator

__all__ = ["EmulatorThread", "ccxt_adapter_for", "spot_emulator", "usdm_emulator"]

T = TypeVar("T")


class EmulatorThread:
    """An :class:`Emulator` served from its own event loop in a daemon thread."""

    def __init__(self, kind: Kind = Kind.SPOT, **kwargs: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="venue-emulator", daemon=True)
        self._thread.start()
        self.emulator: Emulator = self.run(self._make(kind, kwargs))

    async def _make(self, kind: Kind, kwargs: dict[str, Any]) -> Emulator:
        emu = Emulator(kind, **kwargs)
        await emu.start()
        return emu

    def run(self, coro: Any, timeout: float = 10.0) -> Any:
        """Run ``coro`` on the venue loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, fn: Callable[[Emulator], T]) -> T:
        """Run ``fn(emulator)`` on the venue loop (no race with requests) and return its result."""

        async def wrapped() -> T:
            return fn(self.emulator)

        return self.run(wrapped())  # type: ignore[no-any-return]

    def close(self) -> None:
        """Stop the emulator and its loop."""
        self.run(self.emulator.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


def ccxt_adapter_for(emu: Emulator, *, clock: Clock | None = None, **venue: Any) -> CcxtAdapter:
    """Return livegate's ccxt adapter for ``emu`` built as a session builds it (``[venue]`` keys).

    ``venue`` sets further ``[venue]`` keys (e.g. ``timeout_ms=500``); the adapter holds
    the emulator's API key and secret. Call ``await adapter.connect()`` before use.
    """
    exchange = "binance" if emu.kind is Kind.SPOT else "binanceusdm"
    settings = VenueConfig(name=f"ccxt:{exchange}", rest_url=emu.rest_url, ws_url=emu.ws_url, **venue)
    config = with_venue_settings(CcxtConfig(exchange, name=settings.name, symbols=()), settings)

    adapter = CcxtAdapter(config, CcxtCredentials(api_key=API_KEY, secret=API_SECRET), clock=clock)
    adapter.exchange.timeout_on_exit = 0  # ccxt's 250 ms grace at close() is for TLS; the emulator is plain HTTP
    return adapter


@pytest_asyncio.fixture
async def spot_emulator() -> AsyncIterator[Emulator]:
    """A spot emulator in step mode on 127.0.0.1 (free port), in the test's own loop."""
    emu = Emulator(Kind.SPOT, max_events=400)
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


@pytest_asyncio.fixture
async def usdm_emulator() -> AsyncIterator[Emulator]:
    """A USD-M emulator in step mode on 127.0.0.1 (free port), in the test's own loop."""
    emu = Emulator(Kind.USDM, max_events=400)
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


@pytest.fixture
def emulator_thread_factory() -> Iterator[Callable[..., EmulatorThread]]:
    """Return a factory of :class:`EmulatorThread` (closed after the test)."""
    made: list[EmulatorThread] = []

    def make(kind: Kind = Kind.SPOT, **kwargs: Any) -> EmulatorThread:
        thread = EmulatorThread(kind, **kwargs)
        made.append(thread)
        return thread

    yield make
    for thread in made:
        thread.close()
