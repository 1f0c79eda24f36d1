"""Test-only fault hooks of a session, resolved once from the environment at composition.

Read here, once, at startup; never in hot paths. Production runs leave every variable
unset and get a :class:`FaultPlan` whose hooks are all None.

``LIVEGATE_CRASH_AT=<point>:<n>``
    SIGKILL the process the ``n``-th time (1-based) the engine passes ``<point>``, one of
    :data:`CRASH_POINTS`. Used by the crash harness (``tests/recovery``,
    ``benchmarks/crash.py``).
``LIVEGATE_TEST_DRIFT=<offset_secs>:<symbol>:<quantity_delta>``
    ``offset_secs`` seconds of session time after the first event, move the paper
    venue's position in ``symbol`` by ``quantity_delta`` base units behind livegate's back
    (an exchange-side adjustment; the drift injection of issue 6).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from livegate.domain.errors import ConfigError

__all__ = ["CRASH_ENV", "CRASH_POINTS", "DRIFT_ENV", "CrashHook", "DriftInjection", "FaultPlan"]

CRASH_ENV = "LIVEGATE_CRASH_AT"
DRIFT_ENV = "LIVEGATE_TEST_DRIFT"
#: Crash points of the engine (see :class:`~livegate.execution.engine.ExecutionEngine`).
CRASH_POINTS = ("before_submit", "after_submit", "between_fills", "after_cancel", "cancel_all")


class CrashHook:
    """Kill the process with SIGKILL the ``count``-th time ``point`` is passed (test only)."""

    __slots__ = ("count", "point", "seen")

    def __init__(self, point: str, count: int) -> None:
        self.point = point
        self.count = count
        self.seen = 0

    def __call__(self, point: str) -> None:
        """Count ``point``; SIGKILL this process when the chosen pass is reached."""
        if point != self.point:
            return
        self.seen += 1
        if self.seen == self.count:
            os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True, slots=True)
class DriftInjection:
    """Move the paper venue's position in ``symbol`` by ``quantity_delta`` at ``offset_ms`` of session time."""

    offset_ms: int
    symbol: str
    quantity_delta: Decimal


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """Test-only hooks resolved once from the environment; both None in production."""

    crash: CrashHook | None = None
    drift: DriftInjection | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> FaultPlan:
        """Parse :data:`CRASH_ENV` and :data:`DRIFT_ENV`.

        Raises
        ------
        ConfigError
            If a variable is set but malformed (exit 2).
        """
        crash = None
        raw = env.get(CRASH_ENV, "")
        if raw:
            point, _, count = raw.partition(":")
            if point not in CRASH_POINTS or not count.isdigit() or int(count) < 1:
                raise ConfigError(f"{CRASH_ENV}={raw!r}: expected <point>:<n>, point one of {CRASH_POINTS}, n >= 1")
            crash = CrashHook(point, int(count))
        drift = None
        raw = env.get(DRIFT_ENV, "")
        if raw:
            parts = raw.split(":")
            try:
                if len(parts) != 3:
                    raise ValueError("three fields")
                drift = DriftInjection(int(float(parts[0]) * 1000), parts[1].upper(), Decimal(parts[2]))
            except (ValueError, InvalidOperation) as exc:
                raise ConfigError(f"{DRIFT_ENV}={raw!r}: expected <offset_secs>:<symbol>:<quantity_delta>") from exc
        return cls(crash=crash, drift=drift)
