"""Build the test hooks of a session from the test variables (see :mod:`livegate.control.faults`).

``LIVEGATE_CRASH_AT=<point>:<n>``
    SIGKILL the process the ``n``-th time (1-based) the engine passes ``<point>``, one of
    :data:`~livegate.control.faults.CRASH_POINTS`.
``LIVEGATE_TEST_DRIFT=<offset_secs>:<symbol>:<quantity_delta>``
    ``offset_secs`` seconds of session time after the first event, move the paper venue's
    position in ``symbol`` by ``quantity_delta`` base units behind livegate's back.
``LIVEGATE_TEST_VENUE_FAULT=<faults>``
    Faults the fake venue simulates (:meth:`livegate.venues.fake_faults.FakeFaults.parse`).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from livegate.control.faults import CRASH_ENV, CRASH_POINTS, DRIFT_ENV, VENUE_FAULT_ENV, DriftInjection, TestHooks
from livegate.domain.errors import ConfigError

__all__ = ["CrashHook", "hooks_from_env"]


class CrashHook:
    """Kill the process with SIGKILL the ``count``-th time ``point`` is passed."""

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


def hooks_from_env(env: Mapping[str, str]) -> TestHooks:
    """Parse the test variables into :class:`TestHooks` (empty ones when none is set).

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
    return TestHooks(crash=crash, drift=drift, venue_fault=env.get(VENUE_FAULT_ENV, ""))
