from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.alerts.stubs import StubReceiver
from tests.venue_emulator.fixtures import emulator_thread_factory

__all__ = ["emulator_thread_factory", "ntfy", "slack"]


@pytest.fixture
def ntfy() -> Iterator[StubReceiver]:
    stub = StubReceiver("ntfy").start()
    yield stub
    stub.stop()


@pytest.fixture
def slack() -> Iterator[StubReceiver]:
    stub = StubReceiver("slack").start()
    yield stub
    stub.stop()
