"""Venue calls that never block the session (issue 10 §3l).

With background calls on, the execution engine runs each submit and cancel to a real
venue as an asyncio task: the session loop goes on (timers, quotes, other cancels, the
kill check) while a slow venue answers, and the answer is applied when it comes. Every
call is bounded by a timeout; past it a submit is ambiguous (in flight, looked up,
never resent) and a cancel failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from livegate.domain.errors import Ambiguous, InvariantViolation, LedgerError, VenueError

__all__ = ["VenueCalls"]

log = logging.getLogger("livegate.execution")

_T = TypeVar("_T")


class VenueCalls:
    """Background venue calls keyed by client order id, with a per-call timeout.

    Parameters
    ----------
    timeout_secs:
        Upper bound on one call in seconds (normally the venue client's own timeout plus
        a margin); None leaves the bound to the client.
    anomaly:
        ``anomaly(kind, detail)`` for an unexpected error of a background call.
    on_done:
        Called with the client order id when its call finished (the engine re-queues
        a cancel that waited for the order's submit).
    """

    __slots__ = ("_anomaly", "_by_id", "_on_done", "_tasks", "busy", "submitting", "timeout_secs")

    def __init__(
        self,
        timeout_secs: float | None,
        anomaly: Callable[[str, str], None],
        on_done: Callable[[str], None],
    ) -> None:
        self.timeout_secs = timeout_secs
        self._anomaly = anomaly
        self._on_done = on_done
        self._tasks: set[asyncio.Task[None]] = set()
        self._by_id: dict[str, set[asyncio.Task[None]]] = {}
        self.busy: set[str] = set()
        self.submitting: set[str] = set()  # client order ids whose submit call is in the air

    def __len__(self) -> int:
        """Return how many calls run in the background."""
        return len(self._tasks)

    def spawn(self, client_order_id: str, call: Coroutine[Any, Any, None], *, submit: bool = False) -> None:
        """Run ``call`` (the engine's submit, ``submit`` True, or cancel of ``client_order_id``) as a task."""
        self.busy.add(client_order_id)
        task = asyncio.create_task(self._guarded(client_order_id, call))
        if submit:
            self.submitting.add(client_order_id)
            task.add_done_callback(lambda _: self.submitting.discard(client_order_id))
        self._tasks.add(task)
        self._by_id.setdefault(client_order_id, set()).add(task)
        task.add_done_callback(lambda done: self._forget(client_order_id, done))

    def _forget(self, client_order_id: str, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        tasks = self._by_id.get(client_order_id)
        if tasks is not None:
            tasks.discard(task)
            if not tasks:
                del self._by_id[client_order_id]

    async def settle(self) -> None:
        """Wait for every background call to finish (each is bounded by ``timeout_secs``)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))

    async def abandon(self, settled: Callable[[str], bool]) -> list[str]:
        """Stop waiting for the calls of the orders ``settled`` says are finished; return their client order ids.

        For a stopping session only: an order the venue has already reported finished
        (e.g. cancelled by the stop's cancel-all while its submit answer is still awaited)
        needs no answer; the call's task is cancelled (the request itself may still end at
        the venue client's timeout).
        """
        ids = sorted(cid for cid in self._by_id if settled(cid))
        tasks = [task for cid in ids for task in self._by_id.get(cid, ())]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for cid in ids:
            log.warning("stopping: not waiting for the venue's answer about %s (already finished there)", cid)
        return ids

    async def bounded(self, call: Awaitable[_T], what: str) -> _T:
        """Await one venue call within ``timeout_secs``.

        Raises
        ------
        Ambiguous
            Code ``ENGINE_TIMEOUT`` when the venue has not answered in time.
        """
        if self.timeout_secs is None:
            return await call
        try:
            return await asyncio.wait_for(call, self.timeout_secs)
        except TimeoutError as exc:
            raise Ambiguous(f"{what}: no answer within {self.timeout_secs:g} s", "ENGINE_TIMEOUT") from exc

    async def _guarded(self, client_order_id: str, call: Coroutine[Any, Any, None]) -> None:
        """Run one call; an unexpected error is an anomaly, never a crashed session."""
        try:
            await call
        except (VenueError, LedgerError, InvariantViolation) as exc:
            kind = "ledger_write_failed" if isinstance(exc, LedgerError) else "invariant_violation"
            self._anomaly(kind, f"{client_order_id}: background venue call: {exc}")
        finally:
            self.busy.discard(client_order_id)
            self._on_done(client_order_id)
