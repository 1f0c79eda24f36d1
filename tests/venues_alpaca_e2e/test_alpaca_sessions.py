"""``alpaca:paper`` (testnet) and ``alpaca:live`` (live) sessions, armed, against the Alpaca emulator.

Each test runs ``livegate preflight`` and ``livegate run`` as subprocesses; livegate
talks to the emulator through unmodified alpaca-py (``[venue] rest_url``/``ws_url``), and
the emulator's own orders, fills and positions are compared with the run afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from tests.alpaca_emulator.fixtures import AlpacaThread
from tests.venues_alpaca_e2e.helpers import arm, ledger_fill_ids, preflight, run, summary, write_preflight

CASES = [("alpaca:paper", "testnet", False), ("alpaca:live", "live", True)]


@pytest.mark.parametrize(("venue", "mode", "apca_names"), CASES)
def test_alpaca_session_when_armed_then_trades_and_venue_state_matches_the_run(
    tmp_path: Path, alpaca_thread_factory: Callable[..., AlpacaThread], venue: str, mode: str, apca_names: bool
) -> None:
    venue_thread = alpaca_thread_factory(pace_ms=10)
    emu = venue_thread.emulator
    params = 'quantity = "2"\noffset = "0.50"\nmarket_first = true'
    armed = arm(tmp_path, emu, venue=venue, params=params, apca_names=apca_names)

    checked = preflight(armed, mode)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "PASS venue account" in checked.stdout and "status ACTIVE" in checked.stdout
    assert "PASS venue market clock" in checked.stdout

    out = tmp_path / "run"
    result = run(armed, mode, out, 300, "--ignore-market-hours")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert f"gate mode={mode} status=PASS" in result.stderr

    facts = summary(out)
    orders = venue_thread.call(lambda e: list(e.orders.values()))
    executions = venue_thread.call(lambda e: list(e.executions))
    # the market buy filled at the venue; the resting limit buy was cancelled at session end
    assert facts["orders_submitted"] == len(orders) >= 2
    assert venue_thread.call(lambda e: e.duplicate_client_order_ids()) == []
    assert venue_thread.call(lambda e: e.open_orders()) == []
    assert sorted(ledger_fill_ids(out)) == sorted(x.execution_id for x in executions)
    assert venue_thread.call(lambda e: e.position("SPY")) == Decimal(2)
    assert Decimal(facts["positions"]["SPY"]["quantity"]) == Decimal(2)
    assert facts["open_orders"] == 0


def test_alpaca_paper_mode_when_run_on_alpaca_quotes_then_simulated_fills_and_venue_untouched(
    tmp_path: Path, alpaca_thread_factory: Callable[..., AlpacaThread]
) -> None:
    venue_thread = alpaca_thread_factory(pace_ms=5)
    armed = arm(tmp_path, venue_thread.emulator, params='quantity = "2"\noffset = "0.50"\nmarket_first = true')
    out = tmp_path / "paper"
    result = run(armed, "paper", out, 200, "--ignore-market-hours")
    assert result.returncode == 0, result.stderr[-4000:]
    assert "gate mode=paper status=PASS" in result.stderr
    facts = summary(out)
    assert facts["fills"] >= 1 and Decimal(facts["positions"]["SPY"]["quantity"]) >= 2  # the paper venue filled
    assert venue_thread.call(lambda e: e.submits) == []  # nothing reached Alpaca
    assert [r for r in venue_thread.call(lambda e: e.requests) if r[1] != "/v2/iex"] == []


@pytest.mark.slow
def test_alpaca_canary_when_armed_and_venue_fills_in_parts_then_each_part_counted_once(
    tmp_path: Path, alpaca_thread_factory: Callable[..., AlpacaThread]
) -> None:
    venue_thread = alpaca_thread_factory(pace_ms=10, partial_fills=True)
    armed = arm(tmp_path, venue_thread.emulator, params='quantity = "4"\noffset = "0.50"\nmarket_first = true')
    write_preflight(armed, "canary")
    out = tmp_path / "canary"
    result = run(armed, "canary", out, 300, "--ignore-market-hours")
    assert result.returncode == 0, result.stderr[-4000:]
    assert "gate mode=canary status=PASS" in result.stderr
    executions = venue_thread.call(lambda e: list(e.executions))
    assert len(executions) >= 2 and {x.qty for x in executions[:2]} == {Decimal(2)}  # the market buy in two parts
    assert sorted(ledger_fill_ids(out)) == sorted(x.execution_id for x in executions)
    assert Decimal(summary(out)["positions"]["SPY"]["quantity"]) == venue_thread.call(lambda e: e.position("SPY"))
    assert venue_thread.call(lambda e: e.open_orders()) == []
