"""One ledger fold: resume, export and reconciliation read a ledger the same way (issue 9 item 7)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livegate.control.resume import rebuild_from_ledger
from livegate.domain.enums import AnomalyKind, OrderStatus
from livegate.domain.orders import Order
from livegate.ledger import (
    CANCEL_REQUESTED,
    DECISION,
    FILL,
    INTENT,
    LEDGER_FILENAME,
    ORDER_REPORT,
    SESSION_STARTED,
    SUBMIT_REQUESTED,
    Ledger,
    export_rows,
)
from livegate.ledger.fold import fold_events
from livegate.ledger.fold_rules import FillOutcome, apply_fill
from livegate.portfolio import Portfolio
from livegate.reconcile.reconciler import LedgerFillIndex
from livegate.risk.triggers import ANOMALY_RESPONSES, AnomalyResponse, anomaly_response
from tests.ledger.helpers import make_fill, make_intent

CID = "lgs-a-0"


def _report(status: str, filled: str | None = None) -> dict[str, object]:
    return {
        "client_order_id": CID, "status": status, "venue_order_id": "v1", "code": "", "reason": "",
        "filled_quantity": filled,
    }  # fmt: skip


def _ledger(tmp_path: Path, *tail: tuple[str, int, dict[str, object]]) -> Path:
    path = tmp_path / LEDGER_FILENAME
    with Ledger.open(path, synchronous="OFF") as ledger:
        ledger.append(SESSION_STARTED, 1, {"session_id": "s", "mode": "paper", "config_hash": "c", "inputs": []})
        ledger.append(INTENT, 10, {"client_order_id": CID, **make_intent(0).to_record()})
        ledger.append(
            DECISION, 10, {"client_order_id": CID, "approved": True, "code": None, "detail": "", "venue": "paper"}
        )
        ledger.append(SUBMIT_REQUESTED, 11, {"client_order_id": CID, "venue": "paper"})
        for kind, ts_ms, payload in tail:
            ledger.append(kind, ts_ms, payload)
    return path


def _three_views(path: Path) -> tuple[tuple[str, str], tuple[str, str], set[str]]:
    with Ledger.open(path, synchronous="OFF") as ledger:
        rebuilt = rebuild_from_ledger(ledger)
        order = rebuilt.portfolio.order(CID)
        assert order is not None
        resumed = (order.status.value, str(rebuilt.portfolio.position("BTCUSDT").quantity))
        reconciled = LedgerFillIndex(ledger).ids("paper")
    _, rows = export_rows(path, "orders")
    (row,) = rows
    exported = (str(row["status"]), str(row["filled_quantity"]))
    return resumed, exported, reconciled


def test_fold_when_fill_then_late_accepted_echo_then_resume_export_and_reconcile_agree(tmp_path: Path) -> None:
    path = _ledger(
        tmp_path,
        (FILL, 12, make_fill(CID, "f1", "60000.10", "0.010", "0.06", 12).to_record()),
        (ORDER_REPORT, 13, _report("accepted")),  # the venue's ack arrives after the fill
    )
    resumed, exported, reconciled = _three_views(path)
    assert resumed == ("filled", "0.010")
    assert exported == ("filled", "0.010")
    assert reconciled == {"f1"}


def test_fold_when_fill_recorded_twice_then_counted_once_everywhere(tmp_path: Path) -> None:
    fill = make_fill(CID, "f1", "60000.10", "0.004", "0.02", 12).to_record()
    path = _ledger(tmp_path, (FILL, 12, fill), (FILL, 13, fill))
    resumed, exported, reconciled = _three_views(path)
    assert resumed == ("partially_filled", "0.004")
    assert exported == ("partially_filled", "0.004")
    assert reconciled == {"f1"}
    _, fills = export_rows(path, "fills")
    assert [f["fill_id"] for f in fills] == ["f1"]
    with Ledger.open(path, synchronous="OFF") as ledger:
        fold = fold_events(ledger.events())
    assert (fold.stats.fills, fold.stats.duplicate_fills, fold.anomalies) == (1, 1, 0)


def test_fold_when_fill_after_cancel_report_then_applied_and_order_stays_cancelled(tmp_path: Path) -> None:
    path = _ledger(
        tmp_path,
        (CANCEL_REQUESTED, 12, {"client_order_id": CID, "reason": "strategy"}),
        (ORDER_REPORT, 13, _report("cancelled", "0")),
        (FILL, 14, make_fill(CID, "f9", "60000.10", "0.003", "0.01", 12).to_record()),
    )
    resumed, exported, _ = _three_views(path)
    assert resumed == ("cancelled", "0.003")
    assert exported == ("cancelled", "0.003")


def test_fold_when_late_fill_completes_a_cancelled_order_then_filled(tmp_path: Path) -> None:
    path = _ledger(
        tmp_path,
        (ORDER_REPORT, 13, _report("cancelled", "0")),
        (FILL, 14, make_fill(CID, "f9", "60000.10", "0.010", "0.01", 12).to_record()),
    )
    with Ledger.open(path, synchronous="OFF") as ledger:
        fold = fold_events(ledger.events())
    order = fold.order(CID)
    assert order is not None and order.status is OrderStatus.FILLED
    assert fold.portfolio.position("BTCUSDT").quantity == Decimal("0.010")


def test_anomaly_responses_when_every_kind_then_one_row_each() -> None:
    assert set(ANOMALY_RESPONSES) == set(AnomalyKind)
    assert anomaly_response("ledger_write_failed") is AnomalyResponse.HALT
    assert anomaly_response(AnomalyKind.RECONCILE_DRIFT) is AnomalyResponse.RECORD


@pytest.mark.parametrize("kind", ["made_up_kind", "LEDGER_WRITE_FAILED"])
def test_anomaly_response_when_kind_unknown_then_halt(kind: str) -> None:
    assert anomaly_response(kind) is AnomalyResponse.HALT


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=3), min_size=4, max_size=12))
def test_apply_fill_when_reports_repeated_in_any_order_then_each_trade_counted_once(picks: list[int]) -> None:
    trades = [("t0", "0.001"), ("t1", "0.002"), ("t2", "0.003"), ("t3", "0.004")]
    reports = [trades[i] for i in picks] + trades  # every trade at least once, some many times
    portfolio = Portfolio()
    order = Order(CID, make_intent(0), "paper")
    portfolio.add_order(order)
    order.transition(OrderStatus.SUBMITTED, 11)
    outcomes = [apply_fill(portfolio, make_fill(CID, fid, "60000.10", qty, "0.01", 12))[0] for fid, qty in reports]
    assert outcomes.count(FillOutcome.APPLIED) == len(trades)
    assert portfolio.position("BTCUSDT").quantity == Decimal("0.010")
    found = portfolio.order(CID)
    assert found is not None and found.status is OrderStatus.FILLED
