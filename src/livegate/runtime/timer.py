"""The session's wall-clock timer: runs every ``[session] timer_interval_ms`` whatever the feed does.

Every tick, under the loop's lock (:class:`~livegate.runtime.loop.LoopControl`):

* operator checks: the state store (``livegate kill``, ``rearm``, another process, one
  ``stat`` when nothing changed), the ``KILL`` file, ``LIVEGATE_KILL_SWITCH``;
* storage checks (:class:`~livegate.runtime.storage.StorageGuard`): a ledger, paper venue
  store or telemetry file deleted, replaced or failing ends the session HALTED;
* on a venue stream (wall-clock session) also: the kill triggers (``stale_feed``, daily
  loss, drawdown), and at each heartbeat interval venue health, the ``heartbeat``
  telemetry line, ``metrics.prom``, ambiguous-order lookups; reconciliation when due;
* the kill switch's service step (cancel-all on HALTED);

A tick that raises a storage error (ledger, venue store, file system; a reconciliation that
cannot read the ledger back) fails closed as a storage failure (``storage_failed``), any other
error as ``timer_failed``: HALTED either way, and the session stops.
* under systemd (``NOTIFY_SOCKET``, ``WATCHDOG_USEC``): ``WATCHDOG=1`` every half watchdog
  period (:mod:`livegate.runtime.sd_notify`), so a stuck loop or timer gets restarted.

Telemetry reaches the OS at every heartbeat. A replay keeps its heartbeats in event time
(deterministic); its timer does only the operator and storage checks.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from livegate.domain.clock import monotonic_secs
from livegate.domain.enums import TradingState
from livegate.domain.errors import LedgerError
from livegate.risk.killswitch import KILL_SWITCH_ENV, kill_switch_env_on
from livegate.runtime.loop import LoopControl
from livegate.runtime.sd_notify import SdNotifier
from livegate.runtime.session_end import STORAGE_ERRORS
from livegate.runtime.session_gauges import refresh_gauges

if TYPE_CHECKING:
    from livegate.runtime.core import SessionCore

__all__ = ["SessionTimer"]

log = logging.getLogger("livegate")


class SessionTimer:
    """Tick ``core``'s wall-clock work every ``[session] timer_interval_ms``.

    Parameters
    ----------
    core:
        The session.
    control:
        The loop's lock and stop request.
    wall_clock:
        True for a venue stream: heartbeats, triggers, maintenance and lookups run here.
    """

    def __init__(self, core: SessionCore, control: LoopControl, *, wall_clock: bool) -> None:
        cfg = core.resolved.config
        self._core = core
        self._control = control
        self._wall_clock = wall_clock
        self._interval_secs = cfg.session.timer_interval_ms / 1000
        self._heartbeat_ms = cfg.telemetry.heartbeat_interval_ms
        self._next_heartbeat_ms = 0
        self._task: asyncio.Task[None] | None = None
        self._systemd = SdNotifier.from_env(core.risk.env)

    def start(self) -> None:
        """Start ticking on the running loop."""
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        """Stop ticking (waits for a tick in progress)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        self._systemd.close()

    async def _run(self) -> None:
        metrics = self._core.prometheus
        while True:
            started = monotonic_secs()
            await asyncio.sleep(self._interval_secs)
            async with self._control.lock:
                # how late this tick runs (sleep overrun plus the wait for the loop's lock): the loop lag
                metrics.loop_lagged(monotonic_secs() - started - self._interval_secs)
                try:
                    await self.tick()
                    self._systemd.ping_if_due()
                except STORAGE_ERRORS as exc:  # the ledger or a file failed (a reconciliation's ledger read too)
                    self._core.storage_failed(str(exc))
                    self._control.request_stop(f"storage failure: {exc}")
                except Exception as exc:  # a failing tick must not end silently: stop the session, halted
                    log.exception("session timer failed; halting")
                    self._core.fail_closed("timer_failed", f"session timer: {exc!r}")
                    self._control.request_stop(f"session timer failed: {exc!r}")

    async def tick(self) -> None:
        """Run one tick's checks and work (callers hold the loop's lock)."""
        core = self._core
        core.last_tick_secs = monotonic_secs()  # GET /health: the loop ticks
        risk, engine = core.risk, core.engine
        kill = risk.kill
        kill.sync()
        if kill.state is not TradingState.HALTED:
            if risk.store.kill_file_present():
                kill.trip(TradingState.HALTED, f"KILL file present in {risk.store.directory}", "kill_file")
            elif kill_switch_env_on(risk.env):
                kill.trip(TradingState.HALTED, f"{KILL_SWITCH_ENV} is on", "env")
        problem = core.storage.check()
        if problem:
            core.fail_closed("storage_failed", problem)
            self._control.request_stop(f"storage failure: {problem}")
        if self._wall_clock:
            await self._wall_work()
        if risk.needs_service(engine):
            await risk.service(engine)
        refresh_gauges(core)
        core.telemetry.flush()  # telemetry reaches the OS every tick, so at every wall-clock heartbeat
        try:
            core.ledger.flush()  # venue answers appended since the last commit are durable by the next tick
        except LedgerError as exc:
            core.fail_closed("ledger_write_failed", str(exc))

    async def _wall_work(self) -> None:
        core = self._core
        risk, engine = core.risk, core.engine
        now = core.clock.now_ms()
        if now >= self._next_heartbeat_ms:
            risk.heartbeat(now)  # venue health, KILL file, triggers
            if engine.ambiguous_orders:
                await engine.resolve_ambiguous()
            core.heartbeat(now)
            core.write_metrics()  # metrics.prom follows a venue session (node_exporter's textfile collector)
            self._next_heartbeat_ms = now + self._heartbeat_ms
        else:
            risk.evaluate(now)  # stale_feed and the loss triggers every tick
        maintenance = core.recovery.maintenance
        if maintenance is not None and now >= maintenance.next_due_ms:
            await maintenance.run(now)
