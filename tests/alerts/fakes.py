"""Fake destinations and a settable clock for dispatcher tests."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from livegate.alerts.model import Alert


@dataclass
class FakeClock:
    ms: int = 1_700_000_000_000

    def now_ms(self) -> int:
        return self.ms

    def advance_secs(self, secs: float) -> None:
        self.ms += int(secs * 1000)


@dataclass(eq=False)
class FakeDestination:
    """Records what it is given; ``error`` makes every delivery fail with that text."""

    name: str
    error: str | None = None
    got: list[Alert] = field(default_factory=list)

    def deliver(self, alert: Alert) -> str | None:
        self.got.append(alert)
        return self.error


@dataclass(eq=False)
class BlockingDestination:
    """Holds the delivery thread inside ``deliver`` until ``release`` is set."""

    name: str
    entered: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    got: list[Alert] = field(default_factory=list)

    def deliver(self, alert: Alert) -> str | None:
        self.entered.set()
        self.release.wait(30)
        self.got.append(alert)
        return None


@dataclass(eq=False)
class ScriptedDestination:
    """Answers each delivery with the next scripted result (None = delivered)."""

    name: str
    results: list[str | None]

    def deliver(self, alert: Alert) -> str | None:
        return self.results.pop(0)
