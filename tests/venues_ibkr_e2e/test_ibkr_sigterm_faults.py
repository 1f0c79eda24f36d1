"""The operator stops an IBKR session (SIGTERM) while TWS is faulty: a submit unanswered, or TWS down.

A graceful stop cancels the working orders, confirms none is open at the venue, flushes
and summarizes (docs/risk.md, graceful stop). Here the ``livegate`` CLI trades the TWS
emulator through unmodified ib_async and gets SIGTERM

* while TWS has taken an order without answering (filled silently): the stop settles
  the order of unknown outcome by ``orderRef`` and must record TWS's own executions
  (``execId`` and commission), not a stand-in fill of the filled quantity;
* while TWS is down (every connection refused, a reconnect pending): nothing can be
  cancelled, so the process must still end within its ``[shutdown] cancel_timeout_ms``,
  say on stderr and in the ledger which orders may still be open and how to settle them,
  and ``livegate cancel-all RUN_DIR`` must settle them once TWS is back.

Afterwards TWS's own orders, executions, commissions and position are read against the ledger.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from tests.tws_emulator import TwsThread
from tests.venues_ibkr_e2e.helpers import (
    SYMBOL,
    arm,
    cli,
    explain,
    finish,
    ledger_events,
    ledger_fill_ids,
    session_refs,
    start_run,
    summary,
    wait_until,
    write_preflight,
)

SHUTDOWN = "[shutdown]\ncancel_timeout_ms = 2000"


def _check_ledger_equals_tws(tws: TwsThread, out: Path) -> None:
    """Assert the ledger's fills, fees and position are TWS's executions, commissions and position."""
    executions = tws.call(lambda t: list(t.fills))
    fills = [p for k, p in ledger_events(out) if k == "fill"]
    assert sorted(ledger_fill_ids(out)) == sorted(e.exec_id for e in executions)
    assert sum(Decimal(p["fee"]) for p in fills) == sum(e.commission for e in executions)
    held = summary(out)["positions"].get(SYMBOL, {"quantity": "0"})["quantity"]
    assert Decimal(held) == tws.call(lambda t: t.position(SYMBOL))
    assert tws.call(lambda t: t.duplicate_order_refs()) == []
    assert set(tws.call(lambda t: list(t.placements))) <= session_refs(out)


def _sigterm_after(
    proc: subprocess.Popen[str], fault: Callable[[], None]
) -> tuple[subprocess.CompletedProcess[str], float]:
    """Set up ``fault``, SIGTERM the session; return its result and the seconds from the signal to its exit.

    The session is killed when anything fails on the way, so no test leaves it running.
    """
    try:
        fault()
        proc.send_signal(signal.SIGTERM)
        stopped_at = time.monotonic()
        result = finish(proc, timeout=30)
    except BaseException:
        proc.kill()
        proc.communicate()
        raise
    return result, time.monotonic() - stopped_at


@pytest.mark.slow
def test_sigterm_when_a_submit_is_unanswered_then_stop_settles_it_with_tws_executions_and_exits_in_seconds(
    tmp_path: Path, tws_factory: Callable[..., TwsThread]
) -> None:
    tws = tws_factory(silence_order_number=2)  # the first take: TWS fills it without a word to the client
    armed = arm(tmp_path, tws.port, venue="ibkr:live", extra=SHUTDOWN)
    write_preflight(armed, "live")
    out = tmp_path / "run"
    proc = start_run(armed, "live", out, 100_000)
    # SIGTERM while the submit still waits for TWS's answer
    result, exit_secs = _sigterm_after(
        proc, lambda: wait_until(lambda: len(tws.call(lambda t: t.fills)) >= 1, what="the silent fill")
    )

    assert result.returncode == 3, explain(result, out)  # the ambiguous submit is an anomaly
    assert exit_secs < 5.0
    silent = tws.call(lambda t: t.fills[0])
    about = [(k, p) for k, p in ledger_events(out) if p.get("client_order_id") == silent.order_ref]
    assert [k for k, _ in about].count("submit_requested") == 1, about  # never resent
    assert [p["fill_id"] for k, p in about if k == "fill"] == [silent.exec_id], about  # TWS's execution, not adopted
    assert not any(k == "anomaly" and p["kind"] == "fills_adopted" for k, p in ledger_events(out))
    assert tws.call(lambda t: t.open_orders()) == []
    assert summary(out)["open_orders"] == 0
    _check_ledger_equals_tws(tws, out)


@pytest.mark.slow
def test_sigterm_when_tws_is_down_then_exits_in_bounded_time_names_open_orders_and_cancel_all_settles_them(
    tmp_path: Path, tws_factory: Callable[..., TwsThread]
) -> None:
    tws = tws_factory()
    armed = arm(tmp_path, tws.port, venue="ibkr:live", extra=SHUTDOWN)
    write_preflight(armed, "live")
    out = tmp_path / "run"
    proc = start_run(armed, "live", out, 100_000)

    def tws_down() -> None:
        wait_until(lambda: len(tws.call(lambda t: t.open_orders())) >= 1, what="a resting order at TWS")
        tws.call(lambda t: t.go_down())  # TWS shut down: the socket drops, reconnects are refused
        wait_until(lambda: tws.call(lambda t: t.connections) == 0, what="the dropped socket")

    result, exit_secs = _sigterm_after(proc, tws_down)
    resting = tws.call(lambda t: [o.order_ref for o in t.open_orders()])

    assert result.returncode == 3, explain(result, out)
    assert exit_secs < 2.0 + 3.0, result.stderr  # [shutdown] cancel_timeout_ms, then flush and summarize
    assert len(resting) == 1  # TWS still works it: nobody could cancel it
    assert f"may still be open at the venue: {resting[0]}" in result.stderr, result.stderr[-3000:]
    assert f"livegate cancel-all {out}" in result.stderr
    unconfirmed = [
        p["detail"] for k, p in ledger_events(out) if k == "anomaly" and p["kind"] == "cancel_all_unconfirmed"
    ]
    assert unconfirmed and resting[0] in unconfirmed[-1], unconfirmed
    assert summary(out)["open_orders"] == 1

    tws.call(lambda t: setattr(t, "accepting", True))  # TWS is back
    settled = cli(armed, "cancel-all", str(out))

    assert settled.returncode == 0, settled.stdout + settled.stderr[-3000:]
    assert tws.call(lambda t: t.open_orders()) == []
    final = [p for k, p in ledger_events(out) if k == "order_report" and p["client_order_id"] == resting[0]]
    assert final[-1]["status"] == "cancelled", final
    _check_ledger_equals_tws(tws, out)


@pytest.mark.slow
def test_sigterm_when_tws_dropped_the_socket_and_the_reconnect_is_pending_then_stop_reconnects_and_cancels(
    tmp_path: Path, tws_factory: Callable[..., TwsThread]
) -> None:
    tws = tws_factory()
    armed = arm(tmp_path, tws.port, venue="ibkr:live", extra="[shutdown]\ncancel_timeout_ms = 4000")
    write_preflight(armed, "live")
    out = tmp_path / "run"
    proc = start_run(armed, "live", out, 100_000)

    def socket_dropped() -> None:
        wait_until(lambda: len(tws.call(lambda t: t.open_orders())) >= 1, what="a resting order at TWS")
        tws.call(lambda t: t.drop_clients())  # the socket drops; livegate reconnects after 1 s
        wait_until(lambda: tws.call(lambda t: t.connections) == 0, what="the dropped socket")

    result, exit_secs = _sigterm_after(proc, socket_dropped)  # SIGTERM before the reconnect

    assert result.returncode in (3, 143), explain(result, out)  # 3: the cancels that failed before the reconnect
    assert exit_secs < 4.0 + 3.0
    assert "ibkr reconnected to" in result.stderr
    assert tws.call(lambda t: t.open_orders()) == []  # cancelled once TWS answered again
    assert "may still be open at the venue" not in result.stderr
    assert summary(out)["open_orders"] == 0
    reports = [p for k, p in ledger_events(out) if k == "order_report" and p["status"] == "cancelled"]
    cancelled = {o.order_ref for o in tws.call(lambda t: list(t.orders.values())) if o.status == "Cancelled"}
    assert cancelled and cancelled <= {p["client_order_id"] for p in reports}
    _check_ledger_equals_tws(tws, out)
