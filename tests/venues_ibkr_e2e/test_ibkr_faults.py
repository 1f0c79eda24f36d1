"""IBKR sessions meet TWS faults: kill, an order placed without an answer, a dropped API socket (issue 12).

Each test runs the ``livegate`` CLI as a subprocess against the TWS emulator through
unmodified ib_async, injects the fault from the venue side, and reads the emulator's own
orders, fills and positions afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from tests.tws_emulator import TwsThread
from tests.venues_ibkr_e2e.helpers import (
    SYMBOL,
    arm,
    cli,
    explain,
    finish,
    ledger_events,
    ledger_fill_ids,
    run,
    session_refs,
    start_run,
    summary,
    wait_until,
    write_preflight,
)


def test_kill_when_ibkr_session_has_resting_order_then_cancel_all_confirmed_at_tws(
    tmp_path: Path, tws_factory: Callable[..., TwsThread]
) -> None:
    tws = tws_factory()
    armed = arm(tmp_path, tws.port, venue="ibkr:live")
    write_preflight(armed, "live")
    out = tmp_path / "run"
    proc = start_run(armed, "live", out, 800)
    wait_until(lambda: len(tws.call(lambda t: t.open_orders())) >= 1, what="a resting order at TWS")

    killed = cli(armed, "kill", "--reason", "e2e: operator kill on ibkr")
    killed_at = time.monotonic()
    assert killed.returncode == 0, killed.stderr
    wait_until(lambda: tws.call(lambda t: t.open_orders()) == [], timeout=10, what="no open order at TWS")
    confirmed_secs = time.monotonic() - killed_at
    placed_after = tws.call(lambda t: len(t.placements))
    result = finish(proc)

    assert result.returncode == 3, explain(result, out)
    assert summary(out)["trading_state"]["state"] == "halted"
    assert summary(out)["open_orders"] == 0
    assert confirmed_secs < 5.0  # one timer interval plus the cancel round trip, with margin
    assert tws.call(lambda t: t.global_cancels + t.cancel_requests) >= 1
    assert tws.call(lambda t: len(t.placements)) == placed_after  # nothing new was sent while halted
    cancelled = {o.order_ref for o in tws.call(lambda t: list(t.orders.values())) if o.status == "Cancelled"}
    assert cancelled and cancelled <= session_refs(out)


def test_ambiguous_submit_when_tws_keeps_order_without_answer_then_resolved_by_lookup_never_resent(
    tmp_path: Path, tws_factory: Callable[..., TwsThread]
) -> None:
    tws = tws_factory(silence_order_number=1)  # the first order: placed, never acknowledged
    armed = arm(tmp_path, tws.port, venue="ibkr:live")
    write_preflight(armed, "live")
    out = tmp_path / "run"

    result = run(armed, "live", out, 1500)

    assert result.returncode == 3, explain(result, out)  # the ambiguous submit is an anomaly (exit 3)
    first = tws.call(lambda t: t.placements[0])
    anomalies = [p["kind"] for k, p in ledger_events(out) if k == "anomaly"]
    assert anomalies == ["ambiguous_submit"]
    assert summary(out)["trading_state"]["state"] == "active"
    assert tws.call(lambda t: t.duplicate_order_refs()) == []  # never resent
    reports = [p for k, p in ledger_events(out) if k == "order_report" and p["client_order_id"] == first]
    assert any(p["status"] == "accepted" for p in reports), reports  # venue truth found by orderRef
    assert reports[-1]["status"] == "cancelled"  # and cancelled at session end like any working order
    assert tws.call(lambda t: t.open_orders()) == []


def test_ambiguous_fill_when_session_sigkilled_then_resume_sees_completed_order_and_matches_tws(
    tmp_path: Path, tws_factory: Callable[..., TwsThread]
) -> None:
    # order 2 is the first marketable buy: TWS fills it without a word to the client
    tws = tws_factory(silence_order_number=2)
    armed = arm(tmp_path, tws.port, venue="ibkr:live")
    write_preflight(armed, "live")
    out = tmp_path / "run"
    proc = start_run(armed, "live", out, 3000)
    wait_until(lambda: len(tws.call(lambda t: t.fills)) >= 1, what="the silent fill")
    proc.kill()  # SIGKILL while the submit still waits for TWS's answer
    proc.communicate(timeout=30)
    silent = tws.call(lambda t: t.fills[0])
    assert silent.order_ref not in {str(p["client_order_id"]) for k, p in ledger_events(out) if k == "fill"}

    resume = ["run", "--resume", str(out), "--enable-live", "--no-progress", "--max-events", "300"]
    resumed = cli(armed, *resume)

    assert resumed.returncode == 0, explain(resumed, out)
    assert "gate mode=live status=PASS" in resumed.stderr
    assert tws.call(lambda t: t.duplicate_order_refs()) == []
    venue_fills = tws.call(lambda t: list(t.fills))
    recorded = ledger_fill_ids(out)
    assert sorted(recorded) == sorted(f.exec_id for f in venue_fills)  # the silent fill too, once
    about = [(k, p) for k, p in ledger_events(out) if p.get("client_order_id") == silent.order_ref]
    assert [k for k, _ in about].count("submit_requested") == 1, about
    assert about[-1][0] == "fill" or about[-1][1].get("status") == "filled", about
    assert Decimal(summary(out)["positions"][SYMBOL]["quantity"]) == tws.call(lambda t: t.position(SYMBOL))
    assert tws.call(lambda t: t.open_orders()) == []


def test_resume_when_tws_cancelled_order_silently_then_lookup_finds_it_among_completed_orders(
    tmp_path: Path, tws_factory: Callable[..., TwsThread]
) -> None:
    # order 2 (the first marketable buy) is taken and cancelled by TWS without a word
    tws = tws_factory(silence_order_number=2, silent_cancel=True)
    armed = arm(tmp_path, tws.port, venue="ibkr:live")
    write_preflight(armed, "live")
    out = tmp_path / "run"
    proc = start_run(armed, "live", out, 3000)
    wait_until(lambda: len(tws.call(lambda t: t.placements)) >= 2, what="the silently cancelled order")
    proc.kill()  # SIGKILL while its submit waits for an answer
    proc.communicate(timeout=30)
    silent = tws.call(lambda t: t.placements[1])
    assert tws.call(lambda t: t.orders[t.recorded_perm_ids[silent]].status) == "Cancelled"

    resumed = cli(armed, "run", "--resume", str(out), "--enable-live", "--no-progress", "--max-events", "300")

    assert resumed.returncode in (0, 3), explain(resumed, out)
    assert tws.call(lambda t: t.completed_order_requests) >= 1  # asked TWS for orders of earlier sessions
    reports = [p for k, p in ledger_events(out) if k == "order_report" and p["client_order_id"] == silent]
    assert reports and reports[-1]["status"] == "cancelled", reports  # venue truth, not "never reached TWS"
    assert reports[-1]["code"] != "LOST_BEFORE_VENUE"
    assert tws.call(lambda t: t.duplicate_order_refs()) == []
    assert tws.call(lambda t: t.open_orders()) == []
    assert Decimal(summary(out)["positions"].get(SYMBOL, {"quantity": "0"})["quantity"]) == tws.call(
        lambda t: t.position(SYMBOL)
    )


def test_reconnect_when_tws_drops_and_order_fills_in_the_gap_then_reconciled_and_fill_imported(
    tmp_path: Path, tws_factory: Callable[..., TwsThread]
) -> None:
    tws = tws_factory()
    armed = arm(tmp_path, tws.port, venue="ibkr:live")
    write_preflight(armed, "live")
    out = tmp_path / "run"
    proc = start_run(armed, "live", out, 800)
    wait_until(lambda: len(tws.call(lambda t: t.open_orders())) >= 1, what="a resting order at TWS")
    resting = tws.call(lambda t: t.open_orders()[0].order_ref)
    gap_fill = tws.call(lambda t: t.fill_while_dropped(resting))
    result = finish(proc)

    assert result.returncode == 0, explain(result, out)
    events = ledger_events(out)
    assert any(k == "reconciled" and p["trigger"] == "reconnect" for k, p in events), [k for k, _ in events][-40:]
    recorded = ledger_fill_ids(out)
    assert recorded.count(gap_fill.exec_id) == 1  # imported from reqExecutions after the reconnect
    assert sorted(recorded) == sorted(f.exec_id for f in tws.call(lambda t: list(t.fills)))
    assert Decimal(summary(out)["positions"][SYMBOL]["quantity"]) == tws.call(lambda t: t.position(SYMBOL))
    assert tws.call(lambda t: t.connections) == 0 and tws.call(lambda t: t.open_orders()) == []


def test_flatten_venue_when_ibkr_account_holds_shares_then_flat_at_tws(
    tmp_path: Path, tws_factory: Callable[..., TwsThread]
) -> None:
    tws = tws_factory()
    armed = arm(tmp_path, tws.port, venue="ibkr:paper")
    write_preflight(armed, "testnet")
    first = run(armed, "testnet", tmp_path / "run", 400)
    assert first.returncode == 0, explain(first, tmp_path / "run")
    held = tws.call(lambda t: t.position(SYMBOL))
    assert held > 0
    out = tmp_path / "flatten"

    done = cli(
        armed,
        "flatten",
        "--venue",
        "ibkr:paper",
        "--profile",
        str(armed.profile),
        "--mode",
        "testnet",
        "--out",
        str(out),
    )

    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert tws.call(lambda t: t.position(SYMBOL)) == 0
    assert tws.call(lambda t: t.open_orders()) == []
    sold = [f for f in tws.call(lambda t: list(t.fills)) if f.side == "SLD"]
    assert sum((f.shares for f in sold), Decimal(0)) == held
    assert sorted(ledger_fill_ids(out)) == sorted(f.exec_id for f in sold)
