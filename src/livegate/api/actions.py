"""Operator actions on the running session, for the HTTP API: kill, rearm, cancel-all, flatten.

Each action takes the code path of its CLI command (docs/operations.md):

* kill: :func:`~livegate.risk.manual_state.manual_kill` on the state dir (``livegate kill``),
  then the session adopts it at once — the timer's own step (state store sync, then the
  kill switch's service step: cancel everything and confirm) runs right away under the
  loop's lock instead of at the next tick;
* rearm: :func:`~livegate.risk.manual_state.rearm` (``livegate rearm``, refused while a
  trigger's condition holds), adopted the same way;
* cancel-all: :func:`~livegate.control.flatten.cancel_working` through the session's
  engine (``livegate cancel-all RUN_DIR``): every cancel is in the ledger;
* flatten: the flatten rounds of :func:`~livegate.control.flatten.flatten_positions`
  (``livegate flatten RUN_DIR``, ``[kill] flatten_on_halt``), started beside the loop.

Every action is recorded first in the run's ledger as ``operator_action`` with its
reason, source (``http``) and actor; the state changes it causes are recorded as
``trading_state_changed`` with source ``http:kill`` / ``http:rearm``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from livegate.control.flatten import cancel_working
from livegate.domain.enums import TradingState
from livegate.domain.errors import LedgerError
from livegate.ledger import events as ev
from livegate.risk.manual_state import RearmRefused, manual_kill, rearm

if TYPE_CHECKING:
    from livegate.runtime.core import SessionCore

__all__ = ["ActionOutcome", "SessionActions"]

#: ``source`` of operator actions taken through the API.
HTTP_SOURCE = "http"


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    """What an action did: ``ok`` False with ``refused`` reasons when it was not carried out."""

    action: str
    ok: bool
    detail: dict[str, Any] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)

    def to_record(self) -> dict[str, Any]:
        """Return the JSON answer of the API."""
        return {"action": self.action, "ok": self.ok, **self.detail, "refused": self.refused}


class SessionActions:
    """Carry out operator actions on ``core`` (callers are the API's request handlers, on the session's loop)."""

    def __init__(self, core: SessionCore) -> None:
        self._core = core

    def _record(self, action: str, reason: str, actor: str, **outcome: object) -> None:
        core = self._core
        payload = {"action": action, "reason": reason, "source": HTTP_SOURCE, "actor": actor, **outcome}
        try:
            core.ledger.append(ev.OPERATOR_ACTION, core.clock.now_ms(), payload)
        except LedgerError as exc:
            core.on_anomaly("ledger_write_failed", str(exc))

    async def _adopt_now(self) -> None:
        """Run the timer's state-store step now: adopt the stored state, then the kill switch's service step."""
        core = self._core
        core.risk.kill.sync()
        if core.risk.needs_service(core.engine):
            await core.risk.service(core.engine)

    async def kill(self, reason: str, actor: str, *, reducing: bool) -> ActionOutcome:
        """Latch HALTED (or REDUCING) with ``reason``; return once the halt's cancels are confirmed."""
        core = self._core
        state = TradingState.REDUCING if reducing else TradingState.HALTED
        async with core.control.lock:
            self._record("kill", reason, actor, state=state.value)
            try:
                manual_kill(core.risk.store, state, reason, actor, source=f"{HTTP_SOURCE}:kill")
            except OSError:  # fail closed: an unwritable state dir still stops this session (persist error reported)
                core.risk.kill.trip(state, reason, f"{HTTP_SOURCE}:kill")
            await self._adopt_now()
            return ActionOutcome(
                "kill",
                True,
                {"state": core.risk.kill.state.value, "open_orders": core.portfolio.working_count()},
            )

    async def rearm(self, reason: str, actor: str) -> ActionOutcome:
        """Return to ACTIVE with ``reason``, or refuse naming every blocker (``livegate rearm``)."""
        core = self._core
        async with core.control.lock:
            try:
                rearm(core.risk.store, reason, actor, core.risk.env, source=f"{HTTP_SOURCE}:rearm")
            except RearmRefused as exc:
                self._record("rearm", reason, actor, refused=exc.reasons)
                return ActionOutcome("rearm", False, {"state": core.risk.kill.state.value}, list(exc.reasons))
            except OSError as exc:  # the state dir cannot be written: the state stays where it is
                refused = [f"cannot write the state dir: {exc.strerror or exc}"]
                self._record("rearm", reason, actor, refused=refused)
                return ActionOutcome("rearm", False, {"state": core.risk.kill.state.value}, refused)
            self._record("rearm", reason, actor)
            await self._adopt_now()
            return ActionOutcome("rearm", True, {"state": core.risk.kill.state.value})

    async def cancel_all(self, reason: str, actor: str) -> ActionOutcome:
        """Cancel every open order through the engine and wait (``[kill] cancel_confirm_timeout_ms``) for none left."""
        core = self._core
        timeout_secs = core.resolved.config.kill.cancel_confirm_timeout_ms / 1000
        async with core.control.lock:
            self._record("cancel-all", reason, actor)
            remaining = await cancel_working(core.engine, f"operator cancel-all (http): {reason}", timeout_secs)
            await core.engine.dispatch()
            return ActionOutcome("cancel-all", remaining == 0, {"open_orders_left": remaining})

    async def flatten(self, reason: str, actor: str) -> ActionOutcome:
        """Start the flatten rounds (cancel, reduce-only closes at the per-order cap) beside the loop."""
        core = self._core
        async with core.control.lock:
            self._record("flatten", reason, actor)
            await core.risk.flatten(core.engine)
            positions = {p.symbol: str(p.quantity) for p in core.portfolio.positions() if p.quantity != 0}
            return ActionOutcome("flatten", True, {"started": True, "positions": positions})
