"""IBKR sessions meet an execution correction: a new ``execId`` that replaces an earlier execution.

TWS API ``Execution.ExecId``: "A correction is indicated by an ExecId which differs from a
previous ExecId in only the digits after the final period, e.g. an ExecId ending in ".02"
would be a correction of a previous execution with an ExecId ending in ".01"." ib_async
passes a correction on as one more fill (a new ``execId``), and livegate counted it as a
new fill: the order's partial fill doubled, and so did the position in the ledger
(tests/tws_emulator/corrections.py models the correction as replacing the original).

livegate's book cannot replace a fill it has applied (average-cost positions, realized
PnL, fees and the day's budgets are folded fill by fill), so the adapter reports the
correction as such and the session fails closed: the anomaly ``fill_corrected`` records
both executions in exact decimals and halts trading; the corrected execution is never
counted as a fill. Here the ``livegate`` CLI trades the TWS emulator through unmodified
ib_async, TWS corrects the price of a partial fill, and afterwards TWS's own orders,
executions and position are read against the ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from tests.tws_emulator import TwsThread
from tests.tws_emulator.corrections import correct_execution
from tests.venues_ibkr_e2e.helpers import (
    SYMBOL,
    arm,
    explain,
    finish,
    ledger_events,
    ledger_fill_ids,
    start_run,
    summary,
    wait_until,
    write_preflight,
)

TAKE_TWO = 'quantity = "2"\ntake_every = 40\nmax_position = "4"'


@pytest.mark.slow
def test_execution_correction_when_tws_corrects_a_partial_fill_then_not_counted_twice_and_session_halts(
    tmp_path: Path, tws_factory: Callable[..., TwsThread]
) -> None:
    tws = tws_factory()
    armed = arm(tmp_path, tws.port, venue="ibkr:live", params=TAKE_TWO)
    write_preflight(armed, "live")
    out = tmp_path / "run"
    proc = start_run(armed, "live", out, 600)
    try:
        wait_until(lambda: len(tws.call(lambda t: t.placements)) >= 1, what="the resting order at TWS")
        tws.call(lambda t: setattr(t, "partial_fill_next", True))  # the first take fills 1 of 2 (IOC: rest cancelled)
        wait_until(lambda: len(tws.call(lambda t: t.fills)) >= 1, what="the partial fill")
        original = tws.call(lambda t: t.fills[0])
        wait_until(lambda: original.exec_id in ledger_fill_ids(out), what="the partial fill in the ledger")
        corrected = tws.call(lambda t: correct_execution(t, original.exec_id, price=original.price + Decimal("0.03")))
        result = finish(proc)
    except BaseException:
        proc.kill()
        proc.communicate()
        raise

    assert original.shares == 1 and corrected.exec_id == original.exec_id[:-2] + "02"
    assert result.returncode == 3, explain(result, out)
    recorded = ledger_fill_ids(out)
    assert corrected.exec_id not in recorded  # never counted as one more fill
    assert sorted(recorded) == sorted(f.exec_id for f in tws.call(lambda t: list(t.fills)) if f != corrected)
    held = Decimal(summary(out)["positions"][SYMBOL]["quantity"])
    assert held == tws.call(lambda t: t.position(SYMBOL))  # a price correction: the same shares held
    anomalies = [p for k, p in ledger_events(out) if k == "anomaly" and p["kind"] == "fill_corrected"]
    assert len(anomalies) == 1, explain(result, out)
    detail = anomalies[0]["detail"]
    assert f"{corrected.exec_id} corrects {original.exec_id}" in detail
    now, was = float(corrected.price), float(original.price)  # the wire's doubles, as ib_async reads them
    assert f"@ {now!r} fee 1.0 (was buy 1.0 @ {was!r} fee 1.0)" in detail  # exact decimals of what TWS sent
    assert summary(out)["trading_state"]["state"] == "halted"
    assert tws.call(lambda t: t.open_orders()) == []  # the halt cancelled the resting order
    placed = tws.call(lambda t: list(t.placements))
    submitted = [p["client_order_id"] for k, p in ledger_events(out) if k == "submit_requested"]
    assert sorted(placed) == sorted(submitted)  # nothing resent, nothing lost
