"""The seam where tests compose their hooks into a session; production installs none (issue 9 §11).

Crash points, venue faults and drift injection are test machinery: they are built by
:mod:`livegate.testing` (``python -m livegate.testing run ...``), which parses the test
variables and installs the hooks with :func:`install_hooks` before running the same CLI.
The production ``livegate`` never installs them; it refuses to start a testnet, canary
or live session while one of :data:`TEST_VARIABLES` is set (exit 2, naming it) and
ignores them, with a warning, in shadow and paper.

The hooks are held in a :class:`contextvars.ContextVar` (empty by default), read once at
composition by :class:`~livegate.control.recovery.SessionRecovery` and
:func:`~livegate.runtime.start.plan_start`; never in hot paths.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass
from decimal import Decimal

from livegate.domain.enums import Mode
from livegate.domain.errors import ConfigError

__all__ = [
    "CRASH_ENV",
    "CRASH_POINTS",
    "DRIFT_ENV",
    "TEST_VARIABLES",
    "VENUE_FAULT_ENV",
    "DriftInjection",
    "TestHooks",
    "install_hooks",
    "installed_hooks",
    "refuse_test_variables",
]

log = logging.getLogger("livegate")

#: ``<point>:<n>``: SIGKILL the process the n-th time the engine passes the point.
CRASH_ENV = "LIVEGATE_CRASH_AT"
#: ``<offset_secs>:<symbol>:<quantity_delta>``: move the paper venue's position behind livegate's back.
DRIFT_ENV = "LIVEGATE_TEST_DRIFT"
#: Faults the fake venue simulates (:meth:`livegate.venues.fake_faults.FakeFaults.parse`).
VENUE_FAULT_ENV = "LIVEGATE_TEST_VENUE_FAULT"
#: Every test-only variable.
TEST_VARIABLES = (CRASH_ENV, DRIFT_ENV, VENUE_FAULT_ENV)
#: Crash points of the engine (see :class:`~livegate.execution.engine.ExecutionEngine`).
CRASH_POINTS = ("before_submit", "after_submit", "between_fills", "after_cancel", "cancel_all")


@dataclass(frozen=True, slots=True)
class DriftInjection:
    """Move the paper venue's position in ``symbol`` by ``quantity_delta`` at ``offset_ms`` of session time."""

    offset_ms: int
    symbol: str
    quantity_delta: Decimal


@dataclass(frozen=True, slots=True)
class TestHooks:
    """Hooks a test composes into a session; all empty in production.

    Parameters
    ----------
    crash:
        Called by the engine at each crash point (:data:`CRASH_POINTS`), or None.
    drift:
        Drift to inject into the paper venue, or None.
    venue_fault:
        Faults for the fake venue (empty: none).
    """

    __test__ = False  # not a pytest test class

    crash: Callable[[str], None] | None = None
    drift: DriftInjection | None = None
    venue_fault: str = ""


_NO_HOOKS = TestHooks()
_INSTALLED: ContextVar[TestHooks | None] = ContextVar("livegate_test_hooks", default=None)


def install_hooks(hooks: TestHooks) -> Token[TestHooks | None]:
    """Install ``hooks`` for sessions started in this context (only :mod:`livegate.testing` calls this)."""
    return _INSTALLED.set(hooks)


def installed_hooks() -> TestHooks:
    """Return the installed hooks, or empty hooks (production)."""
    return _INSTALLED.get() or _NO_HOOKS


def refuse_test_variables(env: Mapping[str, str], mode: Mode) -> None:
    """Refuse test-only variables in the production CLI: real modes exit 2, others ignore them.

    Does nothing when a test composition installed its hooks.

    Raises
    ------
    ConfigError
        In testnet, canary or live when one of :data:`TEST_VARIABLES` is set, naming it.
    """
    if _INSTALLED.get() is not None:
        return
    present = [name for name in TEST_VARIABLES if env.get(name)]
    if not present:
        return
    if mode.is_real:
        raise ConfigError(
            f"{', '.join(present)} set: test-only hooks are refused in {mode.value}; unset "
            f"{'it' if len(present) == 1 else 'them'} (tests run python -m livegate.testing)"
        )
    log.warning("%s ignored: test-only hooks are installed only by python -m livegate.testing", ", ".join(present))
