"""The kill switch's side of a session: start state, triggers, halt actions, kill events.

Wires the L2 pieces (:mod:`livegate.risk.killswitch`, :mod:`livegate.risk.triggers`,
:mod:`livegate.risk.tripwires`) to the ledger, telemetry, the run directory and the
execution engine:

* at start: refuse when the session lock exists; read the latched trading state from the
  state dir; a ``KILL`` file or ``LIVEGATE_KILL_SWITCH`` (1, true, yes, on) trips HALTED;
  while running, the session timer (:mod:`livegate.runtime.timer`) adopts what other
  processes write to the state dir;
* at heartbeats (replayed as a timer would fire them, also inside data gaps), fills and
  anomalies: judge the automatic triggers and the venue quote heartbeat;
* on HALTED: cancel every open order on every venue through the engine and poll the
  venues' open orders until none remain (timeout → anomaly), then optionally flatten
  with reduce-only orders through the pipeline (``[kill] flatten_on_halt``);
* record each trip in ``kill_events.jsonl``, the ledger (``trading_state_changed``) and
  telemetry (``trading_state`` and ``kill``).

Kill ordering (docs/risk.md): the state file is durable before anything else happens; a
move to HALTED then dispatches the cancels first and writes the state log line, the
ledger event, telemetry and the kill event right after (their content is taken at trip
time), so a halt does not wait on three more fsyncs before the first cancel goes out.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from livegate.config.models import LivegateConfig
from livegate.config.paths import state_dir
from livegate.config.risk_models import KillConfig
from livegate.control.confirm import confirm_none_open
from livegate.control.flatten import FlattenResult, plan_for, start_flatten
from livegate.domain.clock import Clock, monotonic_secs, wall_time_ms
from livegate.domain.decisions import Denied
from livegate.domain.enums import Mode, TradingState
from livegate.domain.errors import ConfigError, LedgerError
from livegate.domain.instruments import Instrument
from livegate.execution.engine import ExecutionEngine
from livegate.ledger import events as ev
from livegate.ledger.store import Ledger
from livegate.marketdata.quote_cache import QuoteCache
from livegate.portfolio import Portfolio
from livegate.risk.chain import build_gates, build_risk_parts
from livegate.risk.gate import Gate, RiskContext
from livegate.risk.killswitch import KILL_SWITCH_ENV, KillSwitch, TradingStateChanged, kill_switch_env_on
from livegate.risk.state_store import TradingStateStore
from livegate.risk.triggers import TriggerHit, TriggerMonitor
from livegate.risk.tripwires import VenueHealthChanged
from livegate.telemetry.writer import TelemetryWriter

AnomalyReporter = Callable[[str, str], None]
_MAX_CATCH_UP_TICKS = 100
#: Wall seconds between two looks for the KILL file from event-time heartbeats (a fast replay
#: runs thousands of heartbeats a second); the session timer also looks at every tick.
_KILL_LOOK_EVERY_SECS = 0.01
#: Wall seconds between cancel-all retries of an unconfirmed halt during the session.
_HALT_RETRY_SECS = 0.5
_NEVER_MS = 2**62
#: ``[kill] stale_feed_secs`` of a venue-stream session whose profile does not set it (s).
VENUE_STALE_FEED_SECS = Decimal(10)


def _kill_config(config: LivegateConfig, *, wall_clock: bool) -> KillConfig:
    """Return ``[kill]``, with ``stale_feed_secs`` on (:data:`VENUE_STALE_FEED_SECS`) for a venue stream when unset."""
    kill = config.kill
    if wall_clock and "stale_feed_secs" not in kill.model_fields_set:
        return kill.model_copy(update={"stale_feed_secs": VENUE_STALE_FEED_SECS})
    return kill


def refuse_if_locked(env: Mapping[str, str]) -> None:
    """Raise ConfigError (exit 2) when the state dir holds a session lock (issue 3 §5).

    Raises
    ------
    ConfigError
        Naming the lock's reason and the command that clears it.
    """
    store = TradingStateStore(state_dir(env))
    lock = store.read_lock()
    if lock is not None:
        raise ConfigError(
            f"session locked since an anomaly ({lock.get('kind', '?')}: {lock.get('reason', lock.get('detail', ''))}) "
            f"in {store.lock_path}; inspect it, then run: livegate unlock --reason TEXT"
        )


class SessionRisk:
    """One session's kill switch, triggers and halt routine.

    Parameters
    ----------
    config, env:
        Resolved config and the environment (``LIVEGATE_STATE_DIR``, ``LIVEGATE_KILL_SWITCH``).
    clock, advance:
        Session clock, and a function moving it forward (replay) so heartbeat checks that
        fall inside a data gap run at their own time.
    quotes, portfolio, instruments:
        The session's read views.
    ledger, telemetry, run_dir:
        Where changes and trips are recorded.
    session_id:
        Written as the actor of automatic trips.
    report_anomaly:
        The session's anomaly sink (counts toward exit code 3).
    """

    def __init__(
        self,
        *,
        config: LivegateConfig,
        env: Mapping[str, str],
        clock: Clock,
        advance: Callable[[int], None] | None,
        quotes: QuoteCache,
        portfolio: Portfolio,
        instruments: dict[str, Instrument],
        ledger: Ledger,
        telemetry: TelemetryWriter,
        run_dir: Path,
        session_id: str,
        report_anomaly: AnomalyReporter,
    ) -> None:
        self._cfg = config
        self._env = env
        self._clock = clock
        self._advance = advance
        self._quotes = quotes
        self._portfolio = portfolio
        self._ledger = ledger
        self._telemetry = telemetry
        self._kill_events = run_dir / "kill_events.jsonl"
        self._report = report_anomaly
        self.store = TradingStateStore(state_dir(env))
        self.kill = KillSwitch(self.store, clock, actor=f"session {session_id}", defer_halt_log=True)
        self.parts = build_risk_parts(config, self.kill)
        self.monitor = TriggerMonitor(
            config.risk, _kill_config(config, wall_clock=advance is None), self.parts.daily, self.parts.peak
        )
        self._ctx = RiskContext(instruments=instruments, quotes=quotes, portfolio=portfolio, clock=clock)
        self._venue_symbols: dict[str, list[str]] = {}
        for symbol, inst in sorted(instruments.items()):
            self._venue_symbols.setdefault(inst.venue, []).append(symbol)
        self.state_at_start = self.kill.record
        self.trips: list[dict[str, Any]] = []
        self._unrecorded: list[tuple[TradingStateChanged, dict[str, Any]]] = []
        self._halt_pending = False
        self._flatten_task: asyncio.Task[FlattenResult] | None = None
        #: A halt whose cancel-all the venues have not confirmed yet (retried until they do; §3f).
        self.halt_unconfirmed = False
        self._halt_retry_due = 0.0
        self._locked = False
        self._check_ms = config.telemetry.heartbeat_interval_ms
        self._kill_looked_secs = -1.0
        # replay: heartbeat checks in event time; a wall-clock session runs them on its timer
        self.next_check_ms = -1 if advance is not None else _NEVER_MS
        self._fills_seen = 0
        self._rejects_seen = 0
        self.cancel_latency_secs: list[float] = []
        self.kill.add_listener(self._on_change)
        self.parts.health.add_listener(self._on_health)

    # ------------------------------------------------------------------ composition
    def gates(self, mode: Mode) -> list[Gate]:
        """Return the session's gate chain, sharing this kill switch and health board."""
        return build_gates(self._cfg, mode, self.parts)

    def start(self) -> None:
        """Record a latched non-ACTIVE state and apply the manual triggers (KILL file, env)."""
        record = self.kill.record
        now = self._clock.now_ms()
        if record.state is not TradingState.ACTIVE:
            payload: dict[str, object] = {
                "state": record.state.value,
                "previous": record.state.value,
                "reason": record.reason,
                "source": f"restored:{record.source}",
                "trigger_value": record.trigger_value,
                "threshold": record.threshold,
            }
            self._ledger_append(ev.TRADING_STATE_CHANGED, now, payload)
            self._telemetry.emit(
                "trading_state", now, state=record.state.value, reason=record.reason, source="restored"
            )
            self._halt_pending = record.state is TradingState.HALTED
        if self.store.kill_file_present():
            self.kill.trip(TradingState.HALTED, f"KILL file present in {self.store.directory}", "kill_file")
        if kill_switch_env_on(self._env):
            self.kill.trip(TradingState.HALTED, f"{KILL_SWITCH_ENV} is on", "env")

    @property
    def env(self) -> Mapping[str, str]:
        """Return the session's environment."""
        return self._env

    # ------------------------------------------------------------------ feeds
    def on_anomaly(self, kind: str, detail: str) -> None:
        """Lock the next session (when configured) and trip the trigger the anomaly maps to."""
        if self._cfg.kill.lock_on_anomaly and not self._locked:
            self._locked = True
            try:
                self.store.write_lock({"kind": kind, "reason": detail, "ts_ms": wall_time_ms()})
            except OSError as exc:
                self._report("session_lock_failed", str(exc))
        hit = self.monitor.on_anomaly(kind, detail, self._clock.now_ms())
        if hit is not None:
            self._trip(hit)

    def before_event(self, ts_ms: int) -> None:
        """Run the heartbeat checks a timer would have run before ``ts_ms`` (replay gaps included)."""
        due = self.next_check_ms
        if ts_ms < due:
            return
        if due < 0:
            self.next_check_ms = ts_ms + self._check_ms
            return
        ticks = 0
        while due <= ts_ms and ticks < _MAX_CATCH_UP_TICKS:
            if self._advance is not None:
                self._advance(due)
            self.heartbeat(due)
            due += self._check_ms
            ticks += 1
        self.next_check_ms = due if due > ts_ms else ts_ms + self._check_ms

    def heartbeat(self, now_ms: int) -> None:
        """Judge venue health, the KILL file and the periodic triggers at ``now_ms``.

        The KILL file is looked for at most every ``_KILL_LOOK_EVERY_SECS`` of wall time
        (10 ms): a replay's heartbeats come much faster than an operator can act.
        """
        self.parts.health.heartbeat(now_ms, self._quotes, self._venue_symbols)
        if self.kill.state is not TradingState.HALTED:
            looked = monotonic_secs()
            if looked - self._kill_looked_secs >= _KILL_LOOK_EVERY_SECS:
                self._kill_looked_secs = looked
                if self.store.kill_file_present_cached():
                    self.kill.trip(TradingState.HALTED, f"KILL file present in {self.store.directory}", "kill_file")
        self.evaluate(now_ms)

    def evaluate(self, now_ms: int) -> None:
        """Judge the periodic triggers; trip on each hit and store the conditions that hold."""
        hits = self.monitor.evaluate(self._ctx, now_ms)
        if not hits and not self.kill.conditions:
            return  # none holds, none stored: nothing to trip or store (most heartbeats)
        for hit in hits:
            self._trip(hit)
        conditions = TriggerMonitor.conditions_of(hits, now_ms, wall_time_ms()) if hits else {}
        problem = self.kill.set_conditions(conditions)
        if problem:
            self._report("trading_state_persist_failed", problem)

    def needs_service(self, engine: ExecutionEngine) -> bool:
        """Return True when :meth:`service` has work: a halt, new fills or new rejects (O(1))."""
        stats = engine.stats
        return (
            self._halt_pending
            or stats.fills != self._fills_seen
            or stats.rejected != self._rejects_seen
            or (self.halt_unconfirmed and monotonic_secs() >= self._halt_retry_due)
        )

    async def service(self, engine: ExecutionEngine) -> None:
        """Judge triggers after fills and rejects; on a pending HALT cancel all, confirm, flatten."""
        stats = engine.stats
        now = self._clock.now_ms()
        if stats.rejected != self._rejects_seen:
            hit = self.monitor.on_rejects(stats.rejected - self._rejects_seen, now)
            self._rejects_seen = stats.rejected
            if hit is not None:
                self._trip(hit)
        if stats.fills != self._fills_seen:
            self._fills_seen = stats.fills
            self.evaluate(now)
        while self._halt_pending:
            self._halt_pending = False
            await self.halt(engine)
        if self.halt_unconfirmed and monotonic_secs() >= self._halt_retry_due:
            await self.retry_halt(engine)

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

    async def cancel_and_confirm(self, engine: ExecutionEngine, reason: str, timeout_ms: int) -> int:
        """Cancel every working order (graceful stop) and wait at most ``timeout_ms`` for none to remain.

        The trading state does not change. Orders still open after the wait are an anomaly
        ``cancel_all_unconfirmed``; returns how many remain.
        """
        started = monotonic_secs()
        await engine.halt_all_venues(reason)
        return await self._confirm(engine, reason, started, timeout_ms, wait_for_venue=True)

    async def _confirm(
        self,
        engine: ExecutionEngine,
        reason: str,
        started: float,
        timeout_ms: int,
        *,
        report: bool = True,
        wait_for_venue: bool = False,
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
            self._report("cancel_all_unconfirmed", f"{remaining} open orders remain {timeout_ms} ms after cancel-all")
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

    # ------------------------------------------------------------------ results
    @property
    def not_clean(self) -> bool:
        """Return True when a kill tripped or the session ran in a state other than ACTIVE (exit 3)."""
        return bool(self.trips) or self.kill.state is not TradingState.ACTIVE

    def flush_records(self) -> None:
        """Write what a HALT deferred until its cancels went out: state log line, ledger, telemetry, kill event."""
        problem = self.kill.flush_log()
        if problem:
            self._report("trading_state_persist_failed", problem)
        while self._unrecorded:
            change, event = self._unrecorded.pop(0)
            self._record(change, event)

    def summary(self) -> dict[str, Any]:
        """Return the ``trading_state`` block of ``summary.json`` (after writing any deferred records)."""
        self.flush_records()
        record = self.kill.record
        return {
            "state": record.state.value,
            "reason": record.reason,
            "source": record.source,
            "since_wall_ms": record.ts_ms,
            "state_at_start": self.state_at_start.state.value,
            "kills": len(self.trips),
            "venue_health": {v: h.value for v, h in sorted(self.parts.health.health.items())},
            "state_dir": str(self.store.directory),
        }

    # ------------------------------------------------------------------ internals
    def _trip(self, hit: TriggerHit) -> None:
        self.kill.trip(hit.state, hit.reason, f"trigger:{hit.name}", trigger_value=hit.value, threshold=hit.threshold)

    def _on_change(self, change: TradingStateChanged) -> None:
        if change.persist_error:
            self._report("trading_state_persist_failed", change.persist_error)
        if change.state is TradingState.ACTIVE:  # an operator's rearm, adopted from the state dir
            self._halt_pending = False
            self._record(change, None)
            return
        event = self._kill_event(change)  # positions and PnL as of the trip
        self.trips.append(event)
        if change.state is TradingState.HALTED:
            self._halt_pending = True
            self._unrecorded.append((change, event))  # written by flush_records once the cancels are out
            return
        self._record(change, event)

    def _record(self, change: TradingStateChanged, event: dict[str, Any] | None) -> None:
        self._ledger_append(ev.TRADING_STATE_CHANGED, change.ts_ms, change.to_record())
        self._telemetry.emit(
            "trading_state",
            change.ts_ms,
            state=change.state.value,
            reason=change.reason,
            previous=change.previous.value,
            source=change.source,
        )
        self._telemetry.emit(
            "kill",
            change.ts_ms,
            state=change.state.value,
            reason=change.reason,
            source=change.source,
            trigger_value=change.trigger_value,
            threshold=change.threshold,
        )
        if event is None:
            return
        with self._kill_events.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(event, sort_keys=True, default=_json_default) + "\n")

    def _on_health(self, change: VenueHealthChanged) -> None:
        self._telemetry.emit(
            "anomaly",
            change.ts_ms,
            anomaly_kind=f"venue_{change.health.value}",
            detail=f"{change.venue}: {change.reason}",
        )

    def _kill_event(self, change: TradingStateChanged) -> dict[str, Any]:
        portfolio, quotes = self._portfolio, self._quotes
        unrealized = portfolio.unrealized_pnl(quotes.mid)
        realized, fees = portfolio.realized_pnl(), portfolio.fees()
        daily = self.monitor.last_daily_pnl
        event = {
            "ts_ms": change.ts_ms,
            "wall_ms": wall_time_ms(),
            "state": change.state.value,
            "previous": change.previous.value,
            "reason": change.reason,
            "source": change.source,
            "trigger_value": change.trigger_value,
            "threshold": change.threshold,
            "positions": [p.to_record(quotes.mid(p.symbol)) for p in portfolio.positions() if p.quantity != 0],
            "open_orders": portfolio.working_count(),
            "pnl": {
                "realized_usd": str(realized),
                "unrealized_usd": None if unrealized is None else str(unrealized),
                "fees_usd": str(fees),
                "total_usd": None if unrealized is None else str(realized + unrealized - fees),
                "daily_usd": None if daily is None else str(daily),
                "drawdown_usd": str(self.monitor.last_drawdown),
            },
        }
        return event

    def _ledger_append(self, kind: str, ts_ms: int, payload: dict[str, object]) -> None:
        try:
            self._ledger.append(kind, ts_ms, payload)
        except LedgerError as exc:
            self._report("ledger_write_failed", str(exc))


def _json_default(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
