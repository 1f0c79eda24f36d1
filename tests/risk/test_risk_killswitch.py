"""The latched trading state: persistence, escalation, rearm refusals, REDUCING and HALTED gating."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from livegate.domain.clock import ReplayClock
from livegate.domain.enums import DenialCode, TradingState
from livegate.risk.killswitch import KillSwitch, TradingStateGate
from livegate.risk.manual_state import RearmRefused, manual_kill, rearm
from livegate.risk.state_store import KILL_FILE, STATE_FILE, TradingStateStore
from tests.risk.helpers import add_position, add_working, context, intent, quote


def _switch(tmp_path: Path) -> KillSwitch:
    return KillSwitch(TradingStateStore(tmp_path / "state"), ReplayClock(0), actor="test")


def test_kill_switch_when_tripped_then_state_file_is_0600_and_survives_a_new_instance(tmp_path: Path) -> None:
    kill = _switch(tmp_path)
    change = kill.trip(TradingState.HALTED, "daily loss", "trigger:daily_loss", trigger_value="120", threshold="100")
    assert change is not None and change.previous is TradingState.ACTIVE
    path = tmp_path / "state" / STATE_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = _switch(tmp_path)
    assert again.state is TradingState.HALTED
    assert again.record.reason == "daily loss" and again.record.threshold == "100"


def test_kill_switch_when_tripped_lower_or_same_then_never_deescalates(tmp_path: Path) -> None:
    kill = _switch(tmp_path)
    assert kill.trip(TradingState.REDUCING, "a", "test") is not None
    assert kill.trip(TradingState.REDUCING, "b", "test") is None
    assert kill.trip(TradingState.HALTED, "c", "test") is not None
    assert kill.trip(TradingState.REDUCING, "d", "test") is None
    assert kill.state is TradingState.HALTED


def test_state_store_when_file_corrupt_then_reads_halted(tmp_path: Path) -> None:
    store = TradingStateStore(tmp_path)
    (tmp_path / STATE_FILE).write_text("{not json")
    assert store.load().current.state is TradingState.HALTED
    with pytest.raises(RearmRefused):
        rearm(store, "try", "op", {})


def test_rearm_when_kill_file_env_or_condition_holds_then_refused_else_recorded(tmp_path: Path) -> None:
    store = TradingStateStore(tmp_path)
    manual_kill(store, TradingState.HALTED, "x", "op")
    (tmp_path / KILL_FILE).touch()
    with pytest.raises(RearmRefused, match="KILL file"):
        rearm(store, "y", "op", {})
    (tmp_path / KILL_FILE).unlink()
    with pytest.raises(RearmRefused, match="LIVEGATE_KILL_SWITCH"):
        rearm(store, "y", "op", {"LIVEGATE_KILL_SWITCH": "1"})
    store.save_conditions({"stale_feed": {"value": "12", "threshold": "10", "detail": "BTCUSDT"}})
    with pytest.raises(RearmRefused, match="stale_feed still holds"):
        rearm(store, "y", "op", {})
    store.save_conditions({"daily_loss": {"value": "120", "threshold": "100", "holds_until_ms": 1}})
    record = rearm(store, "y", "op", {})  # a daily loss lapses at the next trading day
    assert record.state is TradingState.ACTIVE
    actions = [json.loads(line)["action"] for line in (tmp_path / "trading_state.log.jsonl").read_text().splitlines()]
    assert actions == ["kill", "rearm"]
    assert [h["action"] for h in store.load().history] == ["kill", "rearm"]


def test_trading_state_gate_when_reducing_then_flip_grow_and_open_denied_reduce_allowed(tmp_path: Path) -> None:
    kill = _switch(tmp_path)
    kill.trip(TradingState.REDUCING, "stale feed", "test")
    gate = TradingStateGate(kill)
    ctx = context(quote())
    add_position(ctx, "buy", "0.010", "60000.0")
    assert gate.check(intent("sell", "0.010"), ctx) is None
    for denied in (intent("sell", "0.011"), intent("buy", "0.001"), intent("buy", "0.001", symbol="ETHUSDT")):
        deny = gate.check(denied, ctx)
        assert deny is not None and deny.code is DenialCode.REDUCING
    add_working(ctx, "sell", "0.006", "60100.0")
    flip = gate.check(intent("sell", "0.005"), ctx)  # 0.006 working + 0.005 > 0.010 held: a flip
    assert flip is not None and flip.code is DenialCode.REDUCING


def test_trading_state_gate_when_halted_then_only_flatten_reduce_only_passes(tmp_path: Path) -> None:
    kill = _switch(tmp_path)
    kill.trip(TradingState.HALTED, "x", "test")
    gate = TradingStateGate(kill)
    ctx = context(quote())
    add_position(ctx, "buy", "0.010", "60000.0")
    reduce = intent("sell", "0.010", reduce_only=True)
    deny = gate.check(reduce, ctx)
    assert deny is not None and deny.code is DenialCode.HALTED
    with kill.flatten_window():
        assert gate.check(reduce, ctx) is None
        grow = gate.check(intent("buy", "0.010", reduce_only=True), ctx)
        assert grow is not None and grow.code is DenialCode.HALTED
    assert gate.check(reduce, ctx) is not None
