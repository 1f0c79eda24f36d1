"""``ibkr:paper`` / ``ibkr:live`` sessions through the CLI against the TWS emulator (issue 12).

Each test runs ``livegate preflight`` and ``livegate run`` as subprocesses with unmodified
ib_async pointed at the TWS emulator through ``[venue] port``, then reads the emulator's
own state (orders, fills, positions, order-message times) and compares it with the run.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from tests.tws_emulator import TwsThread, lean_ticks, synthetic_ticks
from tests.venues_ibkr_e2e.helpers import SYMBOL, arm, explain, ledger_events, preflight, run, summary, write_preflight

CASES = [
    pytest.param("ibkr:paper", "testnet", id="paper-testnet"),
    pytest.param("ibkr:live", "live", id="live-armed"),
    pytest.param("ibkr:live", "canary", id="live-canary", marks=pytest.mark.slow),
]


@pytest.mark.parametrize(("venue", "mode"), CASES)
def test_ibkr_session_when_armed_against_tws_then_trades_and_venue_matches_the_run(
    tmp_path: Path, tws_factory: Callable[..., TwsThread], venue: str, mode: str
) -> None:
    tws = tws_factory()
    armed = arm(tmp_path, tws.port, venue=venue)
    checked = preflight(armed, mode)
    assert checked.returncode == 0, checked.stdout + checked.stderr[-2000:]
    for line in ("PASS venue reachable", "PASS ibkr api", "PASS ibkr read-only", "PASS ibkr market data"):
        assert line in checked.stdout, checked.stdout

    out = tmp_path / "run"
    result = run(armed, mode, out, 400)

    assert result.returncode == 0, explain(result, out)
    assert f"gate mode={mode} status=PASS" in result.stderr
    facts = summary(out)
    orders = tws.call(lambda t: list(t.orders.values()))
    fills = tws.call(lambda t: list(t.fills))
    assert facts["orders_submitted"] == len(orders) > 1
    assert tws.call(lambda t: t.duplicate_order_refs()) == []
    assert {o.order_ref for o in orders} == {
        p["client_order_id"] for k, p in ledger_events(out) if k == "submit_requested"
    }
    recorded = [p["fill_id"] for k, p in ledger_events(out) if k == "fill"]
    assert sorted(recorded) == sorted(f.exec_id for f in fills) and fills  # each venue fill, once
    assert Decimal(facts["positions"][SYMBOL]["quantity"]) == tws.call(lambda t: t.position(SYMBOL)) > 0
    assert Decimal(facts["fees_usd"]) == sum((f.commission for f in fills), Decimal(0))
    assert tws.call(lambda t: t.open_orders()) == []  # the resting order was cancelled at session end
    gap = tws.call(lambda t: t.min_gap_ms())
    assert gap is not None and gap >= 100, "order messages must be ≥ 100 ms apart"
    assert tws.call(lambda t: t.pacing_violations) == 0


def test_ibkr_session_when_shadow_on_live_account_then_market_data_only_and_nothing_sent(
    tmp_path: Path, tws_factory: Callable[..., TwsThread]
) -> None:
    tws = tws_factory()
    armed = arm(tmp_path, tws.port, venue="ibkr:live")
    out = tmp_path / "run"

    result = run(armed, "shadow", out, 200)

    assert result.returncode == 0, explain(result, out)
    facts = summary(out)
    assert facts["quotes_processed"] > 0 and facts["trades_processed"] > 0 and facts["intents"] > 0
    assert tws.call(lambda t: (t.submit_requests, t.orders, t.fills)) == (0, {}, [])


@pytest.mark.parametrize("mode", ["live", pytest.param("canary", marks=pytest.mark.slow)])
def test_ibkr_session_when_real_money_mode_on_paper_account_then_refused(
    tmp_path: Path, tws_factory: Callable[..., TwsThread], mode: str
) -> None:
    tws = tws_factory()
    armed = arm(tmp_path, tws.port, venue="ibkr:paper")
    checked = preflight(armed, mode)
    assert checked.returncode != 0
    assert "FAIL venue reachable: ibkr:paper is a paper-trading account" in checked.stdout, checked.stdout

    result = run(armed, mode, tmp_path / "run", 50)

    assert result.returncode == 2
    assert f"gate mode={mode} status=FAIL" in result.stderr
    assert tws.call(lambda t: t.submit_requests) == 0


@pytest.mark.slow
def test_ibkr_session_when_tick_by_tick_not_entitled_then_top_of_book_feeds_the_same_gates(
    tmp_path: Path, tws_factory: Callable[..., TwsThread]
) -> None:
    tws = tws_factory(tick_by_tick_entitled=False)
    armed = arm(tmp_path, tws.port, venue="ibkr:paper")
    checked = preflight(armed, "testnet")
    assert "PASS ibkr market data: AAPL top_of_book" in checked.stdout, checked.stdout
    out = tmp_path / "run"

    result = run(armed, "testnet", out, 300)

    assert result.returncode == 0, explain(result, out)
    facts = summary(out)
    assert facts["quotes_processed"] > 0 and facts["fills"] == len(tws.call(lambda t: t.fills)) > 0


@pytest.mark.slow
def test_ibkr_session_when_tws_replays_real_ibm_ticks_then_gates_see_them_and_tws_matches_the_run(
    tmp_path: Path, tws_factory: Callable[..., TwsThread], shared_data: Path
) -> None:
    # real IBM quotes and trades of 2013-10-08 from 09:30 New York (Lean / AlgoSeek; not copied into tests/data)
    ticks = lean_ticks(shared_data, "ibm", "20131008", 1500)
    assert len(ticks) == 1500 and ticks[0].symbol == "IBM"
    tws = tws_factory(ticks=ticks)
    armed = arm(tmp_path, tws.port, venue="ibkr:paper", symbol="IBM")
    write_preflight(armed, "testnet")
    out = tmp_path / "run"

    result = run(armed, "testnet", out, 600)

    assert result.returncode == 0, explain(result, out)
    facts = summary(out)
    assert facts["quotes_processed"] > 0 and facts["trades_processed"] > 0
    fills = tws.call(lambda t: list(t.fills))
    assert sorted(p["fill_id"] for k, p in ledger_events(out) if k == "fill") == sorted(f.exec_id for f in fills)
    assert Decimal(facts["positions"]["IBM"]["quantity"]) == tws.call(lambda t: t.position("IBM")) > 0
    assert tws.call(lambda t: t.open_orders()) == []


def test_ibkr_session_when_tws_quotes_a_wide_spread_then_spread_tripwire_denies_and_tws_gets_nothing(
    tmp_path: Path, tws_factory: Callable[..., TwsThread]
) -> None:
    # 1.50 USD on about 190 USD is about 79 bps, above the default [tripwires] max_spread_bps = 50
    tws = tws_factory(ticks=synthetic_ticks(SYMBOL, 2000, spread="1.50"))
    armed = arm(tmp_path, tws.port, venue="ibkr:live")
    write_preflight(armed, "live")
    out = tmp_path / "run"

    result = run(armed, "live", out, 200)

    assert result.returncode == 0, explain(result, out)
    facts = summary(out)
    assert facts["quotes_processed"] > 0 and facts["intents"] > 0
    assert set(facts["denied"]) == {"WIDE_SPREAD"} and facts["approved"] == 0
    assert tws.call(lambda t: t.submit_requests) == 0
