"""Rebuild a session from its ledger (``livegate run --resume RUN_DIR``, issue 6).

The ledger is the book of record (DESIGN.md §3.5): folding its events gives back the
orders with their states, the positions, the engine counters, the next intent sequence
number (so client order ids are never reused), the approved intents (for the gates'
daily counters and rate windows), the trading state and the balance baseline.

What the ledger cannot know (a submit whose answer was never written, fills made while
the engine was dead) is left as ``submitted`` / unfilled here and settled from the venue
by :func:`livegate.reconcile.resolve.resolve_after_restart`.
"""

from __future__ import annotations

import functools
import json
import mmap
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from livegate.config.loader import ResolvedConfig
from livegate.config.models import LivegateConfig
from livegate.domain.enums import Liquidity, OrderStatus, OrderType, Side, TimeInForce, TradingState
from livegate.domain.errors import ConfigError, DataError, InvalidTransition, InvariantViolation
from livegate.domain.orders import Fill, Order, OrderIntent
from livegate.execution.reports import EngineStats
from livegate.ledger import events as ev
from livegate.ledger.store import Ledger
from livegate.portfolio import Portfolio

#: Inputs of the original ``livegate run``, kept in the run directory for ``--resume``.
RUN_INPUTS_FILE = "run_inputs.json"
#: Index of the market event being processed, updated in place for every event.
CURSOR_FILE = "replay_cursor.bin"

_CURSOR_MAGIC = b"LGCURSR1"
_CURSOR_FORMAT = "<q"
_CURSOR_SIZE = 4096


@dataclass(slots=True)
class RebuiltSession:
    """What :func:`rebuild_from_ledger` recovers.

    Parameters
    ----------
    session_id, mode, config_hash, inputs:
        From ``session_started``.
    portfolio:
        Orders (states as far as the ledger knows) and positions.
    next_seq:
        First intent sequence number for the resumed run (max recorded + 1).
    stats:
        Engine counters so far.
    approved_intents:
        Approved intents in ledger order (to refill the gates' counters).
    fill_ids:
        Venue fill ids recorded in the ledger.
    trading_state, trading_reason:
        The last ``trading_state_changed``, or ACTIVE and ``""``.
    balance_baseline:
        Cash per currency at the first reconciliation, or None.
    anomalies:
        Number of ``anomaly`` events so far.
    last_ts_ms:
        Time of the last ledger event (ms since the epoch).
    resumes:
        How many times the run was resumed before.
    ended:
        True when the last incarnation wrote ``session_ended`` (nothing to resume).
    fill_notional_by_ts:
        ``(ts_ms, notional)`` of every fill, for daily turnover baselines.
    """

    session_id: str
    mode: str
    config_hash: str
    inputs: list[str]
    portfolio: Portfolio
    next_seq: int = 0
    stats: EngineStats = field(default_factory=EngineStats)
    approved_intents: list[OrderIntent] = field(default_factory=list)
    fill_ids: set[str] = field(default_factory=set)
    trading_state: TradingState = TradingState.ACTIVE
    trading_reason: str = ""
    balance_baseline: dict[str, Decimal] | None = None
    anomalies: int = 0
    last_ts_ms: int = 0
    resumes: int = 0
    ended: bool = False
    fill_notional_by_ts: list[tuple[int, Decimal]] = field(default_factory=list)


def rebuild_from_ledger(ledger: Ledger) -> RebuiltSession:
    """Fold every ledger event into a :class:`RebuiltSession`.

    Orders with ``submit_requested`` but no venue answer come back as ``submitted``
    (outcome unknown); a cancel request alone does not change the state (the venue says
    whether it happened).

    Raises
    ------
    DataError
        If the ledger has no ``session_started`` event or an event cannot be read back.
    """
    rebuilt: RebuiltSession | None = None
    intents: dict[str, OrderIntent] = {}
    for event in ledger.events():
        payload = event.payload
        if event.kind == ev.SESSION_STARTED:
            if rebuilt is None:
                rebuilt = RebuiltSession(
                    session_id=str(payload["session_id"]),
                    mode=str(payload["mode"]),
                    config_hash=str(payload["config_hash"]),
                    inputs=[str(i) for i in _list(payload.get("inputs"))],
                    portfolio=Portfolio(),
                )
            continue
        if rebuilt is None:
            raise DataError(f"ledger {ledger.path}: event seq {event.seq} comes before session_started")
        rebuilt.last_ts_ms = max(rebuilt.last_ts_ms, event.ts_ms)
        rebuilt.ended = event.kind == ev.SESSION_ENDED
        try:
            _apply(rebuilt, intents, event.kind, payload)
        except (KeyError, ValueError, ArithmeticError) as exc:
            raise DataError(f"ledger {ledger.path}: cannot rebuild from seq {event.seq} ({event.kind}): {exc}") from exc
    if rebuilt is None:
        raise DataError(f"ledger {ledger.path}: no session_started event; nothing to resume")
    return rebuilt


def _apply(rebuilt: RebuiltSession, intents: dict[str, OrderIntent], kind: str, payload: dict[str, Any]) -> None:
    stats = rebuilt.stats
    portfolio = rebuilt.portfolio
    if kind == ev.INTENT:
        intent = _intent(payload)
        intents[str(payload["client_order_id"])] = intent
        stats.intents += 1
        rebuilt.next_seq = max(rebuilt.next_seq, intent.seq + 1)
    elif kind == ev.DECISION:
        cid = str(payload["client_order_id"])
        if payload.get("approved") is True:
            intent = intents[cid]
            portfolio.add_order(Order(cid, intent, str(payload["venue"])))
            rebuilt.approved_intents.append(intent)
            stats.approved += 1
        else:
            stats.denied[str(payload.get("code"))] += 1
    elif kind == ev.SUBMIT_REQUESTED:
        order = portfolio.order(str(payload["client_order_id"]))
        if order is not None and order.status is OrderStatus.NEW:
            order.transition(OrderStatus.SUBMITTED, order.updated_ms)
            stats.orders_submitted += 1
            stats.orders_by_venue[order.venue] += 1
    elif kind == ev.ORDER_REPORT:
        _apply_report(rebuilt, payload)
    elif kind == ev.FILL:
        fill = _fill(payload)
        rebuilt.fill_ids.add(fill.fill_id)
        rebuilt.fill_notional_by_ts.append((fill.ts_ms, fill.notional))
        try:
            portfolio.apply_fill(fill)
        except InvariantViolation:
            rebuilt.anomalies += 1
            return
        stats.fills += 1
    elif kind == ev.CANCEL_REQUESTED:
        stats.cancels_requested += 1
    elif kind == ev.TRADING_STATE_CHANGED:
        rebuilt.trading_state = TradingState(str(payload["state"]))
        rebuilt.trading_reason = str(payload.get("reason") or "")
    elif kind == ev.ANOMALY:
        rebuilt.anomalies += 1
    elif kind == ev.RECONCILED:
        baseline = payload.get("balance_baseline")
        if rebuilt.balance_baseline is None and isinstance(baseline, dict):
            rebuilt.balance_baseline = {str(c): Decimal(str(v)) for c, v in baseline.items()}
    elif kind == ev.SESSION_RESUMED:
        rebuilt.resumes += 1


def _apply_report(rebuilt: RebuiltSession, payload: dict[str, Any]) -> None:
    """Mirror :meth:`ExecutionEngine._on_order_report` on a rebuilt order."""
    order = rebuilt.portfolio.order(str(payload["client_order_id"]))
    if order is None:
        return
    if payload.get("venue_order_id"):
        order.venue_order_id = str(payload["venue_order_id"])
    raw = str(payload["status"])
    if raw == "cancel_rejected":
        return
    status = OrderStatus(raw)
    if status in (OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED, OrderStatus.SUBMITTED):
        return
    if status is OrderStatus.ACCEPTED and order.status is not OrderStatus.SUBMITTED:
        return
    if order.status.is_terminal:
        return
    try:
        order.transition(status, order.updated_ms, str(payload.get("reason") or ""))
    except InvalidTransition:
        rebuilt.anomalies += 1
        return
    if status is OrderStatus.REJECTED:
        rebuilt.stats.rejected += 1
    rebuilt.portfolio.refresh(order)


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def _intent(payload: dict[str, Any]) -> OrderIntent:
    price = payload.get("price")
    return OrderIntent(
        symbol=str(payload["symbol"]),
        side=Side(str(payload["side"])),
        quantity=Decimal(str(payload["quantity"])),
        order_type=OrderType(str(payload["order_type"])),
        price=None if price is None else Decimal(str(price)),
        time_in_force=TimeInForce(str(payload["time_in_force"])),
        post_only=bool(payload["post_only"]),
        reduce_only=bool(payload["reduce_only"]),
        strategy_id=str(payload["strategy_id"]),
        seq=int(payload["seq"]),
        ts_ms=int(payload["ts_ms"]),
    )


def _fill(payload: dict[str, Any]) -> Fill:
    return Fill(
        client_order_id=str(payload["client_order_id"]),
        fill_id=str(payload["fill_id"]),
        symbol=str(payload["symbol"]),
        side=Side(str(payload["side"])),
        price=Decimal(str(payload["price"])),
        quantity=Decimal(str(payload["quantity"])),
        fee=Decimal(str(payload["fee"])),
        liquidity=Liquidity(str(payload["liquidity"])),
        ts_ms=int(payload["ts_ms"]),
        venue=str(payload.get("venue") or ""),
    )


# ---------------------------------------------------------------------- run directory
def write_run_inputs(run_dir: Path, record: dict[str, Any]) -> None:
    """Write the data inputs and CLI choices of the original run (``run_inputs.json``)."""
    tmp = run_dir / (RUN_INPUTS_FILE + ".tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(run_dir / RUN_INPUTS_FILE)


def read_run_inputs(run_dir: Path) -> dict[str, Any]:
    """Return ``run_inputs.json`` of a run directory.

    Raises
    ------
    ConfigError
        If the directory holds no such file (not a run directory of this build).
    """
    path = run_dir / RUN_INPUTS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot resume {run_dir}: {path.name} missing or unreadable ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"cannot resume {run_dir}: {path.name} is not a JSON object")
    return data


def resolved_from_run_dir(run_dir: Path) -> tuple[ResolvedConfig, str]:
    """Return the exact configuration of a run (from ``config_resolved.json``) and its mode.

    Raises
    ------
    ConfigError
        If the file is missing, unreadable or no longer validates.
    """
    path = run_dir / "config_resolved.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        config = LivegateConfig.model_validate(record["config"])
        mode = str(record["mode"]["value"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"cannot resume {run_dir}: {path.name} missing or invalid ({exc})") from exc
    resolved = ResolvedConfig(
        config=config,
        sources={str(k): str(v) for k, v in dict(record.get("sources", {})).items()},
        profile_path=str(record.get("profile", "")),
        config_hash=str(record["config_hash"]),
    )
    return resolved, mode


class ReplayCursor:
    """The index of the market event being processed, kept in a small memory-mapped file.

    :meth:`mark` is a single store into a shared mapping: no system call on the hot path,
    and the value survives a SIGKILL of the process (the page belongs to the kernel's
    page cache). A power loss may lose it; :func:`read_cursor` then returns None and the
    resume falls back to the ledger's last event time.
    """

    __slots__ = ("_fd", "_map")

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        os.ftruncate(self._fd, _CURSOR_SIZE)
        self._map = mmap.mmap(self._fd, _CURSOR_SIZE)
        self._map[0:8] = _CURSOR_MAGIC

    def mark(self, index: int) -> None:
        """Record that event ``index`` (0-based) is being processed."""
        struct.pack_into(_CURSOR_FORMAT, self._map, 8, index)

    def marker(self) -> Callable[[int], None]:
        """Return :meth:`mark` as one C-level call (``pack_into`` bound to the mapping), for the hot loop."""
        return functools.partial(struct.Struct(_CURSOR_FORMAT).pack_into, self._map, 8)

    def close(self) -> None:
        """Flush and release the mapping; harmless twice."""
        if not self._map.closed:
            self._map.flush()
            self._map.close()
            os.close(self._fd)


def read_cursor(path: Path) -> int | None:
    """Return the last marked event index, or None when the file is missing or not a cursor."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if len(data) < 16 or data[0:8] != _CURSOR_MAGIC:
        return None
    (index,) = struct.unpack_from(_CURSOR_FORMAT, data, 8)
    return int(index)
