"""Kill → cancel-all confirmed; SIGKILL + ``--resume`` matching the venue; flatten; market closed → skip.

Each runs the ``livegate`` CLI as a subprocess against the Alpaca emulator through
unmodified alpaca-py and checks the emulator's own orders, fills and positions afterwards.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from tests.alpaca_emulator.fixtures import AlpacaThread
from tests.venues_alpaca_e2e.helpers import (
    arm,
    cli,
    finish,
    ledger_fill_ids,
    run,
    start_run,
    summary,
    wait_until,
    write_preflight,
)

HOLD = 'quantity = "2"\noffset = "0.50"\nmarket_first = true'


def test_alpaca_kill_when_orders_rest_at_venue_then_cancel_all_confirmed_and_nothing_new_sent(
    tmp_path: Path, alpaca_thread_factory: Callable[..., AlpacaThread]
) -> None:
    venue_thread = alpaca_thread_factory(pace_ms=10)
    armed = arm(tmp_path, venue_thread.emulator)
    write_preflight(armed, "live")
    out = tmp_path / "run"
    proc = start_run(armed, "live", out, 100_000, "--ignore-market-hours")
    try:
        wait_until(lambda: len(venue_thread.call(lambda e: e.open_orders())) == 1, what="a resting order at the venue")
        killed = cli(armed, "kill", "--reason", "e2e: operator stops trading")
        assert killed.returncode == 0, killed.stdout + killed.stderr
        wait_until(
            lambda: venue_thread.call(lambda e: e.open_orders()) == [], timeout=5, what="cancel-all at the venue"
        )
        sent = venue_thread.call(lambda e: len(e.submits))
        wait_until(lambda: (out / "kill_events.jsonl").exists(), timeout=5, what="the kill recorded")
    finally:
        proc.send_signal(signal.SIGTERM)
        result = finish(proc)
    assert venue_thread.call(lambda e: len(e.submits)) == sent  # halted: no order after the kill
    assert venue_thread.call(lambda e: e.open_orders()) == []
    assert summary(out)["trading_state"]["state"] == "halted", result.stderr[-3000:]


@pytest.mark.slow
def test_alpaca_resume_when_session_sigkilled_then_resumed_run_matches_the_venue(
    tmp_path: Path, alpaca_thread_factory: Callable[..., AlpacaThread]
) -> None:
    venue_thread = alpaca_thread_factory(pace_ms=10)
    armed = arm(tmp_path, venue_thread.emulator, params=HOLD)
    write_preflight(armed, "live")
    out = tmp_path / "run"
    proc = start_run(armed, "live", out, 100_000, "--ignore-market-hours")
    wait_until(
        lambda: venue_thread.call(lambda e: len(e.executions) == 1 and len(e.open_orders()) == 1),
        what="a fill and a resting order at the venue",
    )
    proc.send_signal(signal.SIGKILL)
    finish(proc)
    assert not (out / "summary.json").exists()  # died without its clean end

    resumed = cli(
        armed, "run", "--resume", str(out), "--enable-live", "--no-progress", "--max-events", "200",
        "--ignore-market-hours",
    )  # fmt: skip
    assert resumed.returncode in (0, 3), resumed.stdout[-2000:] + resumed.stderr[-4000:]
    executions = venue_thread.call(lambda e: list(e.executions))
    assert sorted(set(ledger_fill_ids(out))) == sorted(x.execution_id for x in executions)
    assert len(ledger_fill_ids(out)) == len(executions)  # each fill once
    assert venue_thread.call(lambda e: e.open_orders()) == []
    assert venue_thread.call(lambda e: e.duplicate_client_order_ids()) == []
    position = venue_thread.call(lambda e: e.position("SPY"))
    assert position == sum((x.qty for x in executions), Decimal(0)) >= 2  # the held fill, plus any the resumed run made
    assert Decimal(summary(out)["positions"]["SPY"]["quantity"]) == position


@pytest.mark.slow
def test_alpaca_flatten_when_position_held_then_venue_position_is_zero(
    tmp_path: Path, alpaca_thread_factory: Callable[..., AlpacaThread]
) -> None:
    venue_thread = alpaca_thread_factory(pace_ms=10)
    armed = arm(tmp_path, venue_thread.emulator, params=HOLD)
    write_preflight(armed, "live")
    result = run(armed, "live", tmp_path / "run", 100, "--ignore-market-hours")
    assert result.returncode == 0, result.stderr[-3000:]
    assert venue_thread.call(lambda e: e.position("SPY")) == Decimal(2)

    flat = cli(armed, "flatten", "--venue", "alpaca:live", "--profile", str(armed.profile), "--mode", "live",
               "--symbol", "SPY", "--out", str(tmp_path / "flatten"))  # fmt: skip
    assert flat.returncode == 0, flat.stdout[-2000:] + flat.stderr[-3000:]
    assert venue_thread.call(lambda e: e.position("SPY")) == Decimal(0)
    assert venue_thread.call(lambda e: e.open_orders()) == []


def test_alpaca_session_when_market_closed_then_skips_cycles_with_the_documented_line_and_sends_nothing(
    tmp_path: Path, alpaca_thread_factory: Callable[..., AlpacaThread]
) -> None:
    venue_thread = alpaca_thread_factory(pace_ms=5, market_open=False)
    armed = arm(tmp_path, venue_thread.emulator)
    write_preflight(armed, "live")
    result = run(armed, "live", tmp_path / "run", 100)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "market closed; skipping cycle" in result.stderr
    assert venue_thread.call(lambda e: e.submits) == []
    assert summary(tmp_path / "run")["intents"] == 0
