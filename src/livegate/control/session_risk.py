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
  with reduce-only orders through the pipeline (``[kill] flatten_on_halt``)
  (:mod:`livegate.control.halt_actions`);
* record each trip in ``kill_events.jsonl``, the ledger (``trading_state_changed``) and
  telemetry (``trading_state`` and ``kill``) (:mod:`livegate.control.kill_records`).

Kill ordering (docs/risk.md): the state file is durable before anything else happens; a
move to HALTED then dispatches the cancels first and writes the state log line, the
ledger event, telemetry and the kill event right after (their content is taken at trip
time), so a halt does not wait on three more fsyncs before the first cancel goes out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from livegate.config.models import LivegateConfig
from livegate.config.paths import state_dir
from livegate.config.risk_models import KillConfig
from livegate.control.flatten import FlattenResult
from livegate.control.halt_actions import HaltActions
from livegate.control.kill_records import KillRecords
from livegate.domain.clock import Clock, monotonic_secs, wall_time_ms
from livegate.domain.enums import Mode, OrderStatus, TradingState
from livegate.domain.errors import ConfigError
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
from livegate.risk.triggers import AnomalyResponse, TriggerHit, TriggerMonitor, anomaly_response
from livegate.risk.tripwires import VenueHealthChanged
from livegate.telemetry.writer import TelemetryWriter

AnomalyReporter = Callable[[str, str], None]
_MAX_CATCH_UP_TICKS = 100
#: Wall seconds between two looks for the KILL file from event-time heartbeats (a fast replay
#: runs thousands of heartbeats a second); the session timer also looks at every tick.
_KILL_LOOK_EVERY_SECS = 0.01
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


class SessionRisk(HaltActions, KillRecords):
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

    def adopt(self, engine: ExecutionEngine) -> None:
        """Take over the counters of a resumed run: its fills and rejects so far are not new.

        Before this, a resume met the crashed run's restored reject count as that many new
        rejects at once, and ten rejects over the run's whole life tripped ``reject_storm``.
        The rejects inside ``[kill] reject_window_secs`` before now, and the venue errors
        inside ``venue_error_window_secs``, are counted in their windows again, at their
        ledger times: a storm under way when the process died still counts after it.

        Raises
        ------
        LedgerError
            If the ledger cannot be read.
        """
        self._fills_seen = engine.stats.fills
        self._rejects_seen = engine.stats.rejected
        now = self._clock.now_ms()
        since = now - self._cfg.kill.reject_window_secs * 1000
        first: dict[object, int] = {}  # an order is rejected once: its first rejected report counts
        for event in self._ledger.events_since(ev.ORDER_REPORT, since, now):
            if event.payload.get("status") == OrderStatus.REJECTED.value:
                first.setdefault(event.payload.get("client_order_id"), event.ts_ms)
        self.monitor.carry_rejects(first.values())
        errors_since = now - self._cfg.kill.venue_error_window_secs * 1000
        errors = self._ledger.events_since(ev.ANOMALY, errors_since, now)
        venue_error = AnomalyResponse.VENUE_ERROR
        self.monitor.carry_venue_errors(
            e.ts_ms for e in errors if anomaly_response(str(e.payload.get("kind"))) is venue_error
        )

    def needs_service(self, engine: ExecutionEngine) -> bool:
        """Return True when :meth:`service` has work: a halt, new fills or new rejects (O(1))."""
        stats = engine.stats
        return (
            self._halt_pending
            or stats.fills != self._fills_seen
            or stats.rejected != self._rejects_seen
            or (self.halt_unconfirmed and monotonic_secs() >= self._halt_retry_due)
        )

    async def service(self, engine: ExecutionEngine, *, halt: bool = True) -> None:
        """Judge triggers after fills and rejects; on a pending HALT cancel all, confirm, flatten.

        ``halt`` False (a graceful stop past its cancel wait): trips are judged and latched,
        but a pending halt's venue calls are not made (the stop's own cancels did that work).
        """
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
        while halt and self._halt_pending:
            self._halt_pending = False
            await self.halt(engine)
        if halt and self.halt_unconfirmed and monotonic_secs() >= self._halt_retry_due:
            await self.retry_halt(engine)

    # ------------------------------------------------------------------ results
    @property
    def not_clean(self) -> bool:
        """Return True when a kill tripped or the session ran in a state other than ACTIVE (exit 3)."""
        return bool(self.trips) or self.kill.state is not TradingState.ACTIVE

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

    def _on_health(self, change: VenueHealthChanged) -> None:
        self._telemetry.emit(
            "anomaly",
            change.ts_ms,
            anomaly_kind=f"venue_{change.health.value}",
            detail=f"{change.venue}: {change.reason}",
        )
