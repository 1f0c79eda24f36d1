"""The operator's moves of the trading state: ``livegate kill`` and ``livegate rearm``.

:func:`manual_kill` sets REDUCING or HALTED in the state dir; :func:`rearm` — the only
way back to ACTIVE — refuses while :func:`blocking_conditions` names a blocker (a manual
trigger present, an automatic trigger's condition still holding). The running session's
:class:`~livegate.risk.killswitch.KillSwitch` adopts either from the state file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from livegate.domain.clock import wall_time_ms
from livegate.domain.enums import TradingState
from livegate.risk.killswitch import KILL_SWITCH_ENV, kill_switch_env_on
from livegate.risk.state_store import StoredState, TradingStateRecord, TradingStateStore


class RearmRefused(Exception):
    """``rearm`` was refused; ``reasons`` lists every blocker."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def blocking_conditions(store: TradingStateStore, env: Mapping[str, str], now_wall_ms: int) -> list[str]:
    """Return why trading may not re-arm now (empty when it may).

    Blockers: the ``KILL`` file, ``LIVEGATE_KILL_SWITCH`` on (:func:`kill_switch_env_on`), an unreadable state file, and
    each stored automatic-trigger condition that still holds (a condition with
    ``holds_until_ms`` lapses at that wall time, e.g. the next trading day).
    """
    reasons: list[str] = []
    if store.kill_file_present():
        reasons.append(f"the KILL file exists in {store.directory}; remove it first")
    if kill_switch_env_on(env):
        reasons.append(f"{KILL_SWITCH_ENV}={env.get(KILL_SWITCH_ENV, '').strip()} is set")
    stored = store.load()
    if stored.corrupt:
        reasons.append(stored.corrupt)
    for name, cond in sorted(stored.conditions.items()):
        until = cond.get("holds_until_ms")
        if isinstance(until, int) and until <= now_wall_ms:
            continue
        reasons.append(
            f"trigger {name} still holds: value {cond.get('value')} vs threshold {cond.get('threshold')}"
            + (f" ({cond['detail']})" if cond.get("detail") else "")
        )
    return reasons


def rearm(
    store: TradingStateStore, reason: str, actor: str, env: Mapping[str, str], source: str = "cli:rearm"
) -> TradingStateRecord:
    """Return to ACTIVE, recorded in the state file history and log (``source``: who asked, e.g. ``http:rearm``).

    Raises
    ------
    RearmRefused
        If :func:`blocking_conditions` names any blocker, or ``reason`` is empty.
    OSError
        If the state dir cannot be written.
    """
    if not reason.strip():
        raise RearmRefused(["a reason is required"])
    now = wall_time_ms()
    blockers = blocking_conditions(store, env, now)
    if blockers:
        raise RearmRefused(blockers)
    record = TradingStateRecord(TradingState.ACTIVE, reason, source, actor, now)
    store.record_change(record, "rearm", {})
    return record


def manual_kill(
    store: TradingStateStore, state: TradingState, reason: str, actor: str, source: str = "cli:kill"
) -> TradingStateRecord:
    """Set ``state`` (REDUCING or HALTED) by operator action, even if it de-escalates HALTED to REDUCING.

    Raises
    ------
    ValueError
        If ``state`` is ACTIVE (use :func:`rearm`) or ``reason`` is empty.
    OSError
        If the state dir cannot be written.
    """
    if state is TradingState.ACTIVE:
        raise ValueError("kill sets REDUCING or HALTED; use rearm to return to ACTIVE")
    if not reason.strip():
        raise ValueError("a reason is required")
    record = TradingStateRecord(state, reason, source, actor, wall_time_ms())
    entry = {"action": "kill", **record.to_record()}

    def apply(stored: StoredState) -> dict[str, Any]:
        stored.current = record  # the stored trigger conditions stay (read under the lock)
        stored.history.append(entry)
        return entry

    store.update(apply)
    store.append_log(entry)
    return record
