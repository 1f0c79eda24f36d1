"""The latched kill switch: trading state ACTIVE / REDUCING / HALTED (docs/architecture.md §3.7).

The state file in the state dir is the one truth of the trading state (docs/architecture.md §3.10).
The state only escalates inside a process (ACTIVE → REDUCING → HALTED); every change is
persisted to the state file (write, fsync, rename, fsync of the dir) before listeners
(ledger, telemetry, cancel-all) hear of it, and no restart clears it. A trip reads,
merges and writes the file under the state dir's lock: it never lowers what another
process (``livegate kill``, another session) stored there, it adopts it instead.
:meth:`KillSwitch.sync` — called by the session timer — adopts a change another process
made: an escalation always, a lowering only when it is a ``livegate rearm``. With
``defer_halt_log`` the log line of a move to HALTED waits for :meth:`KillSwitch.flush_log`,
which the halt routine calls once the cancels went out (docs/risk.md, kill ordering).
:func:`~livegate.risk.manual_state.rearm` — the ``livegate rearm`` command — is the only way
back to ACTIVE, and it refuses while a manual trigger is present or an automatic trigger's
condition still holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from livegate.domain.clock import Clock, wall_time_ms
from livegate.domain.enums import DenialCode, Side, TradingState
from livegate.domain.orders import OrderIntent
from livegate.risk.gate import Deny, RiskContext
from livegate.risk.state_store import StoredState, TradingStateRecord, TradingStateStore

_RANK = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}
_ZERO = Decimal(0)
KILL_SWITCH_ENV = "LIVEGATE_KILL_SWITCH"
#: Values of :data:`KILL_SWITCH_ENV` that engage the kill switch (compared case-insensitively).
KILL_SWITCH_ON = frozenset({"1", "true", "yes", "on"})


def kill_switch_env_on(env: Mapping[str, str]) -> bool:
    """Return True when ``LIVEGATE_KILL_SWITCH`` is 1, true, yes or on (any case, surrounding blanks ignored)."""
    return env.get(KILL_SWITCH_ENV, "").strip().lower() in KILL_SWITCH_ON


@dataclass(frozen=True, slots=True)
class TradingStateChanged:
    """A move of the trading state (event, past tense).

    ``ts_ms`` is the session clock (replay time in replays); ``persist_error`` is set when
    the state dir could not be written (the in-memory state still changed: fail closed).
    """

    state: TradingState
    previous: TradingState
    reason: str
    source: str
    ts_ms: int
    trigger_value: str | None = None
    threshold: str | None = None
    persist_error: str = ""

    def to_record(self) -> dict[str, object]:
        """Return the ledger payload of ``trading_state_changed``."""
        return {
            "state": self.state.value,
            "previous": self.previous.value,
            "reason": self.reason,
            "source": self.source,
            "trigger_value": self.trigger_value,
            "threshold": self.threshold,
        }


Listener = Callable[[TradingStateChanged], None]


class KillSwitch:
    """Hold the trading state in memory (O(1) reads on the hot path) and persist its changes.

    Parameters
    ----------
    store:
        The state dir store, or None for a purely in-memory switch (tests, benchmarks).
    clock:
        Session clock stamped on change events.
    actor:
        Who trips from this process (the session id), written to the state file.
    defer_halt_log:
        Leave the log line of a move to HALTED pending until :meth:`flush_log` (the state
        file itself is always durable before :meth:`trip` returns). The owner must flush.
    """

    __slots__ = (
        "_actor",
        "_clock",
        "_defer_halt_log",
        "_flattening",
        "_listeners",
        "_record",
        "_seen_signature",
        "_store",
        "_unlogged",
        "conditions",
        "state",
    )

    def __init__(
        self, store: TradingStateStore | None, clock: Clock, *, actor: str = "", defer_halt_log: bool = False
    ) -> None:
        self._store = store
        self._clock = clock
        self._actor = actor
        self._defer_halt_log = defer_halt_log
        self._unlogged: list[dict[str, Any]] = []
        self._listeners: list[Listener] = []
        self._flattening = False
        self.conditions: dict[str, dict[str, Any]] = {}
        stored = store.load() if store is not None else None
        self._seen_signature = store.signature() if store is not None else None
        self._record = stored.current if stored is not None else TradingStateRecord(TradingState.ACTIVE, "", "default")
        if stored is not None:
            self.conditions = dict(stored.conditions)
        self.state: TradingState = self._record.state

    @property
    def record(self) -> TradingStateRecord:
        """Return the current state with its reason and provenance."""
        return self._record

    @property
    def flattening(self) -> bool:
        """Return True while the halt routine submits its reduce-only flatten orders."""
        return self._flattening

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener`` after every persisted change."""
        self._listeners.append(listener)

    def trip(
        self,
        state: TradingState,
        reason: str,
        source: str,
        *,
        trigger_value: Decimal | str | None = None,
        threshold: Decimal | str | None = None,
    ) -> TradingStateChanged | None:
        """Escalate to ``state``; return the change, or None when already there or beyond.

        The in-memory state changes first (every gate denies from here on), then the state
        file is made durable, then listeners hear of it. If the state dir cannot be written
        the in-memory state still changes and the change carries ``persist_error``. The
        log line is appended before listeners hear of the change too, except for a HALT
        with ``defer_halt_log``: that one waits for :meth:`flush_log`.
        """
        if _RANK[state] <= _RANK[self.state]:
            return None
        previous = self.state
        value = None if trigger_value is None else str(trigger_value)
        limit = None if threshold is None else str(threshold)
        record = TradingStateRecord(state, reason, source, self._actor, wall_time_ms(), value, limit)
        self._record = record
        self.state = state
        persist_error = ""
        defer = self._defer_halt_log and state is TradingState.HALTED
        if self._store is not None:
            try:
                entry = self._merge_write(self._store, record)
                if entry is None:  # the store already holds this state or a worse one: adopt it
                    adopted = self._store.load().current
                    if _RANK[adopted.state] >= _RANK[state]:
                        self._record, self.state = adopted, adopted.state
                        record, value, limit = adopted, adopted.trigger_value, adopted.threshold
                elif defer:
                    self._unlogged.append(entry)
                else:
                    entries, self._unlogged = [*self._unlogged, entry], []
                    self._store.append_log(*entries)
            except OSError as exc:
                persist_error = f"could not persist trading state: {exc}"
        change = TradingStateChanged(
            record.state, previous, record.reason, record.source, self._clock.now_ms(), value, limit, persist_error
        )
        for listener in self._listeners:
            listener(change)
        return change

    def _merge_write(self, store: TradingStateStore, record: TradingStateRecord) -> dict[str, Any] | None:
        """Write ``record`` unless the store already holds its state or a worse one (read-merge-write)."""
        conditions = self.conditions

        def merge(stored: StoredState) -> dict[str, Any] | None:
            if _RANK[stored.current.state] >= _RANK[record.state]:
                return None  # never lower an operator's (or another session's) state; corrupt reads HALTED
            entry = {"action": "trip", **record.to_record()}
            stored.current = record
            stored.conditions = conditions
            stored.history.append(entry)
            return entry

        entry = store.update(merge)
        self._seen_signature = store.last_signature
        return entry

    def sync(self) -> TradingStateChanged | None:
        """Adopt a change another process made to the state file; return it, or None (one ``stat`` when unchanged).

        An escalation (``livegate kill``, the API, another session, an unreadable file
        reading HALTED) is always adopted; a lower state only when the file's last history
        entry is a ``rearm`` (:func:`~livegate.risk.manual_state.rearm`, the one way down). Listeners hear of an
        adopted change as of a trip.
        """
        store = self._store
        if store is None:
            return None
        signature = store.signature()
        if signature == self._seen_signature:
            return None
        self._seen_signature = signature
        stored = store.load()
        current = stored.current
        if _RANK[current.state] == _RANK[self.state]:
            return None
        if _RANK[current.state] < _RANK[self.state]:
            last = stored.history[-1] if stored.history else {}
            if last.get("action") != "rearm":
                return None
        previous = self.state
        self._record, self.state = current, current.state
        self.conditions = dict(stored.conditions)
        change = TradingStateChanged(
            current.state,
            previous,
            current.reason,
            current.source,
            self._clock.now_ms(),
            current.trigger_value,
            current.threshold,
        )
        for listener in self._listeners:
            listener(change)
        return change

    def flush_log(self) -> str:
        """Append pending state-change log lines with one fsync; return an error text or ``""``."""
        if not self._unlogged or self._store is None:
            return ""
        entries, self._unlogged = self._unlogged, []
        try:
            self._store.append_log(*entries)
        except OSError as exc:
            return f"could not append the trading state log: {exc}"
        return ""

    def set_conditions(self, conditions: dict[str, dict[str, Any]]) -> str:
        """Store the automatic-trigger conditions that hold now; return an error text or ``""``."""
        if conditions == self.conditions:
            return ""
        self.conditions = conditions
        if self._store is None:
            return ""
        try:
            self._store.save_conditions(conditions)
        except OSError as exc:
            return f"could not persist trigger conditions: {exc}"
        return ""

    @contextmanager
    def flatten_window(self) -> Iterator[None]:
        """Allow reduce-only orders that reduce while HALTED, for the duration of the block."""
        self._flattening = True
        try:
            yield
        finally:
            self._flattening = False


def reduces_position(intent: OrderIntent, ctx: RiskContext) -> bool:
    """Return True when ``intent`` can only shrink the position, never open, grow or flip it.

    Working orders on the intent's side count as if they filled first (quantity-aware,
    docs/architecture.md §3.7): a sell of 0.6 against a long 1.0 with 0.5 already working to sell
    would flip, so it does not reduce.
    """
    position = ctx.portfolio.position_quantity(intent.symbol)
    if position == _ZERO or (position > _ZERO) == (intent.side is Side.BUY):
        return False
    working = ctx.portfolio.signed_working_quantity(intent.symbol, intent.side)
    return intent.quantity + working <= abs(position)


class TradingStateGate:
    """Gate 2: deny by trading state (docs/architecture.md §1).

    ACTIVE allows. REDUCING allows only orders that reduce (:func:`reduces_position`).
    HALTED allows only the halt routine's reduce-only flatten orders (docs/architecture.md §3.1).
    """

    name = "trading_state"
    __slots__ = ("_kill",)

    def __init__(self, kill: KillSwitch) -> None:
        self._kill = kill

    def check(self, intent: OrderIntent, ctx: RiskContext) -> Deny | None:
        """Return None when the state allows ``intent``, else a HALTED or REDUCING denial."""
        kill = self._kill
        state = kill.state
        if state is TradingState.ACTIVE:
            return None
        record = kill.record
        if state is TradingState.HALTED:
            if kill.flattening and intent.reduce_only and reduces_position(intent, ctx):
                return None
            return Deny(DenialCode.HALTED, f"trading halted by {record.source}: {record.reason}")
        if reduces_position(intent, ctx):
            return None
        position = ctx.portfolio.position_quantity(intent.symbol)
        return Deny(
            DenialCode.REDUCING,
            f"trading reducing ({record.reason}): {intent.side.value} {intent.quantity} would open, grow or flip "
            f"position {position}",
        )
