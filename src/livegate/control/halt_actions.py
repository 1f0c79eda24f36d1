"""The halt routine of a session: cancel every open order, confirm none remain, retry, flatten.

On a move to HALTED the session cancels every open order on every venue through the
engine and polls the venues' open orders until none remain (timeout: anomaly
``cancel_all_unconfirmed``), retries an unconfirmed halt until the venues confirm
(issue 10 §3f), then optionally flattens with reduce-only orders through the pipeline
(``[kill] flatten_on_halt``). The graceful stop's cancels (:meth:`HaltActions.cancel_and_confirm`)
use the same confirmation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from livegate.config.models import LivegateConfig
from livegate.control.confirm import confirm_none_open
from livegate.control.flatten import FlattenResult, plan_for, start_flatten
from livegate.domain.clock import Clock, monotonic_secs
from livegate.domain.decisions import Denied
from livegate.execution.engine import ExecutionEngine
from livegate.risk.gate import RiskContext
from livegate.risk.killswitch import KillSwitch

__all__ = ["HaltActions"]

#: Wall seconds between cancel-all retries of an unconfirmed halt during the session.
_HALT_RETRY_SECS = 0.5


class HaltActions:
    """Cancel, confirm, retry and flatten for a halt (a base of :class:`~livegate.control.session_risk.SessionRisk`).

    The attributes below are set by :class:`~livegate.control.session_risk.SessionRisk`;
    :meth:`flush_records` comes from :class:`~livegate.control.kill_records.KillRecords`.
    """

    kill: KillSwitch
    halt_unconfirmed: bool
    cancel_latency_secs: list[float]
    _cfg: LivegateConfig
    _clock: Clock
    _ctx: RiskContext
    _report: Callable[[str, str], None]
    _halt_retry_due: float
    _flatten_task: asyncio.Task[FlattenResult] | None
    flush_records: Callable[[], None]

    async def retry_halt(self, engine: ExecutionEngine, timeout_ms: int = 0) -> int:
        """Send cancel-all again for a halt the venues have not confirmed; return orders left.

        One attempt (paced by the engine's halt backoff and the rate budget) when
        ``timeout_ms`` is 0, else retried until none remain or ``timeout_ms`` passes (the
        session's end). Issue 10 §3f: the halt routine keeps retrying until the venue
        confirms none open.
        """
        reason = f"kill: {self.kill.record.reason} (retry)"
        if timeout_ms:
            remaining = await self._confirm(
                engine, reason, monotonic_secs(), timeout_ms, report=False, wait_for_venue=True
            )
        else:
            await engine.halt_all_venues(reason)
            remaining = await engine.venue_open_order_count(after_halt=True)
        self._set_unconfirmed(remaining)
        return remaining

    def _set_unconfirmed(self, remaining: int) -> None:
        self.halt_unconfirmed = remaining > 0
        self._halt_retry_due = monotonic_secs() + _HALT_RETRY_SECS

    async def halt(self, engine: ExecutionEngine) -> int:
        """Cancel every open order on every venue and confirm none remain; return orders left.

        Polls the venues' open orders every 5 ms until none remain or
        ``[kill] cancel_confirm_timeout_ms`` passes (wall time), which is an anomaly.
        """
        started = monotonic_secs()
        reason = f"kill: {self.kill.record.reason}"
        try:
            await engine.halt_all_venues(reason)
        finally:
            self.cancel_latency_secs.append(monotonic_secs() - started)
            self.flush_records()  # the state file is already durable; now the log, ledger and kill event
        remaining = await self._confirm(engine, reason, started, self._cfg.kill.cancel_confirm_timeout_ms)
        self._set_unconfirmed(remaining)
        if self._cfg.kill.flatten_on_halt:
            await self.flatten(engine)
        return remaining

    async def cancel_and_confirm(
        self, engine: ExecutionEngine, reason: str, timeout_ms: int, *, left_open: Callable[[], str] | None = None
    ) -> int:
        """Cancel every working order (graceful stop) and wait at most ``timeout_ms`` for none to remain.

        The trading state does not change. Orders still open after the wait are an anomaly
        ``cancel_all_unconfirmed`` (its detail ends with ``left_open()``: which orders and
        how to settle them); returns how many remain.
        """
        started = monotonic_secs()
        await engine.halt_all_venues(reason)
        return await self._confirm(engine, reason, started, timeout_ms, wait_for_venue=True, left_open=left_open)

    async def _confirm(
        self,
        engine: ExecutionEngine,
        reason: str,
        started: float,
        timeout_ms: int,
        *,
        report: bool = True,
        wait_for_venue: bool = False,
        left_open: Callable[[], str] | None = None,
    ) -> int:
        remaining = await confirm_none_open(
            engine,
            reason,
            started,
            timeout_ms,
            clock=self._clock,
            ban_wait_max_ms=self._cfg.shutdown.ban_wait_max_ms if wait_for_venue else None,
        )
        if remaining and report:
            more = "" if left_open is None else f": {left_open()}"
            self._report(
                "cancel_all_unconfirmed", f"{remaining} open orders remain {timeout_ms} ms after cancel-all{more}"
            )
        return remaining

    async def flatten(self, engine: ExecutionEngine) -> None:
        """Start the flatten rounds beside the session loop (docs/recovery.md); a running one is not restarted.

        Rounds (cancel, reduce-only pieces at ``[risk] max_order_notional_usd``, wait
        ``[kill] flatten_retry_ms``) repeat until flat or ``[kill] flatten_timeout_ms``;
        each denied piece is an anomaly ``flatten_denied``. :meth:`settle_flatten` awaits them.
        """
        if self._flatten_task is not None and not self._flatten_task.done():
            return
        kill = self._cfg.kill
        plan = plan_for(self._cfg, timeout_secs=kill.flatten_timeout_ms / 1000, retry_secs=kill.flatten_retry_ms / 1000)
        self._flatten_task = start_flatten(
            engine, self.kill, self._ctx, self._clock.now_ms, plan, on_denied=self._flatten_denied
        )

    async def settle_flatten(self) -> FlattenResult | None:
        """Wait for flatten rounds still running (bounded by ``[kill] flatten_timeout_ms``); return their result."""
        task, self._flatten_task = self._flatten_task, None
        return None if task is None else await task

    def _flatten_denied(self, decision: Denied) -> None:
        self._report("flatten_denied", f"{decision.intent.symbol}: {decision.code.value}: {decision.detail}")
