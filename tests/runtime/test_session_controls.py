"""Specifications of the session's controls: the state store as one truth, the watchdog, storage checks."""

from __future__ import annotations

import os
import time
from decimal import Decimal
from pathlib import Path

import pytest

from livegate.config.models import LivegateConfig
from livegate.control.session_risk import VENUE_STALE_FEED_SECS, _kill_config
from livegate.domain.clock import ReplayClock
from livegate.domain.enums import TradingState
from livegate.domain.errors import ConfigError
from livegate.risk.killswitch import KillSwitch, TradingStateChanged, kill_switch_env_on
from livegate.risk.manual_state import RearmRefused, blocking_conditions, manual_kill, rearm
from livegate.risk.state_store import TradingStateStore
from livegate.runtime.storage import StorageGuard
from livegate.runtime.watchdog import CallbackTimeout, NamedCallback, StrategyWatchdog
from livegate.telemetry.writer import TelemetryWriter
from livegate.venues.fake_faults import FakeFaults


def _switch(state_dir: Path) -> tuple[KillSwitch, list[TradingStateChanged]]:
    heard: list[TradingStateChanged] = []
    kill = KillSwitch(TradingStateStore(state_dir), ReplayClock(1_000), actor="session s1")
    kill.add_listener(heard.append)
    return kill, heard


def test_killswitch_when_operator_halted_then_session_reducing_trip_keeps_halted_on_disk_and_in_memory(
    tmp_path: Path,
) -> None:
    kill, heard = _switch(tmp_path)
    manual_kill(TradingStateStore(tmp_path), TradingState.HALTED, "operator stop", "alice")
    kill.trip(TradingState.REDUCING, "stale_feed: quote 6 s old", "trigger:stale_feed")
    stored = TradingStateStore(tmp_path).load().current
    assert (stored.state, stored.source, stored.reason) == (TradingState.HALTED, "cli:kill", "operator stop")
    assert kill.state is TradingState.HALTED and kill.record.source == "cli:kill"
    assert [c.state for c in heard] == [TradingState.HALTED]


def test_killswitch_sync_when_other_process_kills_then_adopted_once_with_its_source(tmp_path: Path) -> None:
    kill, heard = _switch(tmp_path)
    assert kill.sync() is None
    manual_kill(TradingStateStore(tmp_path), TradingState.HALTED, "stop now", "bob")
    change = kill.sync()
    assert change is not None and change.state is TradingState.HALTED and change.source == "cli:kill"
    assert kill.state is TradingState.HALTED
    assert kill.sync() is None  # unchanged file: nothing more
    assert len(heard) == 1


def test_killswitch_sync_when_rearmed_then_active_but_manual_reducing_never_lowers_halted(tmp_path: Path) -> None:
    kill, _ = _switch(tmp_path)
    store = TradingStateStore(tmp_path)
    kill.trip(TradingState.HALTED, "ledger write failed", "trigger:ledger_write_failed")
    manual_kill(store, TradingState.REDUCING, "only reduce", "carol")
    assert kill.sync() is None and kill.state is TradingState.HALTED
    rearm(store, "checked", "carol", {})
    change = kill.sync()
    assert change is not None and change.state is TradingState.ACTIVE and change.source == "cli:rearm"
    assert kill.state is TradingState.ACTIVE


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", "On", " on "])
def test_kill_switch_env_when_truthy_spelling_then_on_and_rearm_refused(value: str, tmp_path: Path) -> None:
    env = {"LIVEGATE_KILL_SWITCH": value}
    assert kill_switch_env_on(env)
    assert any("LIVEGATE_KILL_SWITCH" in r for r in blocking_conditions(TradingStateStore(tmp_path), env, 0))
    with pytest.raises(RearmRefused):
        rearm(TradingStateStore(tmp_path), "go", "dave", env)


@pytest.mark.parametrize("value", ["", "0", "false", "no", "off", "2"])
def test_kill_switch_env_when_not_truthy_then_off(value: str) -> None:
    assert not kill_switch_env_on({"LIVEGATE_KILL_SWITCH": value})


def test_watchdog_when_callback_loops_forever_then_interrupted_after_timeout_naming_it() -> None:
    watch = StrategyWatchdog(100)
    assert watch.start()
    started = time.monotonic()
    try:
        with pytest.raises(CallbackTimeout) as caught:
            watch.current = NamedCallback("on_start")
            while True:
                pass
    finally:
        watch.stop()
    elapsed = time.monotonic() - started
    assert caught.value.callback == "on_start" and "callback_timeout_ms=100" in str(caught.value)
    assert 0.1 <= elapsed < 2.0


def test_watchdog_when_callbacks_return_in_time_then_nothing_raised() -> None:
    watch = StrategyWatchdog(100)
    assert watch.start()
    try:
        for _ in range(20):
            watch.current = NamedCallback("on_quote")  # one object per call
            time.sleep(0.01)
            watch.current = None
    finally:
        watch.stop()
    assert watch.timed_out is None


def test_storage_guard_when_file_deleted_or_replaced_then_failure_named_once(tmp_path: Path) -> None:
    ledger, other = tmp_path / "ledger.sqlite", tmp_path / "other"
    ledger.write_text("x")
    guard = StorageGuard()
    guard.watch_file("ledger", ledger)
    assert guard.check() == ""
    other.write_text("y")
    os.replace(other, ledger)
    assert "was replaced" in guard.check()
    assert guard.check() == ""  # latched: reported once
    ledger.unlink()
    assert "was deleted" in guard.problem()


def test_telemetry_writer_when_disk_full_then_error_kept_and_emit_does_not_raise(tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("needs /dev/full")
    writer = TelemetryWriter(Path("/dev/full"), flush_every_lines=1)
    writer.emit("heartbeat", 1, quotes_processed=1, trades_processed=0, intents=0, fills=0, open_orders=0,
                pnl_total_usd=0, drawdown_usd=0)  # fmt: skip
    assert "No space left" in writer.error
    writer.close()


def test_venue_kill_config_when_stale_feed_unset_then_on_for_streams_only() -> None:
    cfg = LivegateConfig()
    assert _kill_config(cfg, wall_clock=True).stale_feed_secs == VENUE_STALE_FEED_SECS
    assert _kill_config(cfg, wall_clock=False).stale_feed_secs is None
    explicit = LivegateConfig.model_validate({"kill": {"stale_feed_secs": "2"}})
    assert _kill_config(explicit, wall_clock=True).stale_feed_secs == Decimal(2)


def test_fake_faults_when_silent_pace_and_book_file_then_parsed() -> None:
    faults = FakeFaults.parse("pace:100,silent:150,book_file:/tmp/a,b.json")
    assert (faults.events_per_sec, faults.silent_after, faults.book_file) == (100.0, 150, Path("/tmp/a,b.json"))
    with pytest.raises(ConfigError, match="silent:<n>"):
        FakeFaults.parse("silent:soon")
