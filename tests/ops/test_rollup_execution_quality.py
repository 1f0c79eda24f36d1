"""Execution-quality facts at the source (issue 13 item 1): arrival quotes, slippage, markouts in the ledger."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from livegate.domain.enums import Liquidity, Side
from livegate.domain.market import Quote
from livegate.domain.orders import Fill
from livegate.execution.quality import MARKOUT_HORIZONS_MS, ArrivalBook, MarkoutTracker, arrival_record, signed_bps
from tests.ops.rollup_helpers import cli, paper_run


def _fill(side: Side, price: str, ts_ms: int = 1_000, cid: str = "c1") -> Fill:
    quantity, fee = Decimal("0.001"), Decimal(0)
    return Fill(cid, f"f-{ts_ms}", "BTCUSDT", side, Decimal(price), quantity, fee, Liquidity.TAKER, ts_ms)


def _quote(bid: str, ask: str, ts_ms: int) -> Quote:
    return Quote("BTCUSDT", Decimal(bid), Decimal(1), Decimal(ask), Decimal(1), ts_ms)


def test_signed_bps_when_buy_above_or_sell_below_mid_then_positive_cost() -> None:
    assert signed_bps(Side.BUY.sign, Decimal("100.01"), Decimal("100")) == Decimal("1.0000")
    assert signed_bps(Side.SELL.sign, Decimal("99.99"), Decimal("100")) == Decimal("1.0000")
    assert signed_bps(Side.BUY.sign, Decimal("99.99"), Decimal("100")) == Decimal("-1.0000")
    assert signed_bps(Side.SELL.sign, Decimal("100.02"), Decimal("100")) == Decimal("-2.0000")


def test_arrival_record_when_quote_then_exact_strings_and_age() -> None:
    record = arrival_record(_quote("100.0", "100.2", 1_000), 1_250)
    assert record == {"bid": "100.0", "ask": "100.2", "mid": "100.1", "age_ms": 250}
    assert arrival_record(None, 1_250) is None


def test_arrival_book_when_order_has_no_arrival_then_slippage_is_null() -> None:
    book = ArrivalBook()
    book.remember("c1", {"bid": "99", "ask": "101", "mid": "100", "age_ms": 0})
    assert book.fill_facts(_fill(Side.BUY, "100.5")) == {"arrival_mid": "100", "slippage_bps": "50.0000"}
    assert book.fill_facts(_fill(Side.BUY, "100.5", cid="other")) == {"arrival_mid": None, "slippage_bps": None}


def test_markout_tracker_when_quotes_pass_each_horizon_then_one_record_each_signed_for_the_side() -> None:
    records: list[tuple[int, dict[str, object]]] = []
    tracker = MarkoutTracker(lambda ts, payload: records.append((ts, payload)))
    tracker.add(_fill(Side.SELL, "100", ts_ms=10_000), Decimal("100"))
    assert tracker.next_due_ms == 11_000
    tracker.on_quote(_quote("100.9", "101.1", 10_999))  # before the first horizon: nothing
    assert records == []
    tracker.on_quote(_quote("100.9", "101.1", 11_000))  # mid 101: the market rose against the sell
    tracker.on_quote(_quote("98.9", "99.1", 15_500))  # mid 99: in the sell's favour
    assert [(ts, p["horizon_ms"], p["markout_bps"]) for ts, p in records] == [
        (11_000, 1_000, "-100.0000"),
        (15_500, 5_000, "100.0000"),
    ]
    assert tracker.pending == 1  # the 60 s horizon waits; a session that ends first never records it
    assert tracker.next_due_ms == 10_000 + MARKOUT_HORIZONS_MS[-1]


@pytest.fixture
def paper(ops_runs: Path) -> Path:
    return ops_runs / "runs" / "paper"


def _events(run_dir: Path, home: Path) -> list[dict[str, Any]]:
    done = cli(["ledger", "export", str(run_dir), "--kind", "events", "--format", "jsonl"])
    assert done.exit_code == 0, done.output
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_paper_run_when_replayed_then_every_decision_has_its_arrival_quote_and_every_fill_its_slippage(
    paper: Path,
) -> None:
    events = _events(paper, paper.parent.parent)
    decisions = [e["payload"] for e in events if e["kind"] == "decision"]
    fills = [e["payload"] for e in events if e["kind"] == "fill"]
    assert decisions and fills
    arrival_mid: dict[str, Decimal] = {}
    for d in decisions:
        arrival = d["arrival"]
        bid, ask, mid = (Decimal(arrival[k]) for k in ("bid", "ask", "mid"))
        assert bid < ask and mid == (bid + ask) / 2 and arrival["age_ms"] >= 0
        arrival_mid[d["client_order_id"]] = mid
    for f in fills:
        mid = arrival_mid[f["client_order_id"]]
        sign = 1 if f["side"] == "buy" else -1
        expected = (sign * (Decimal(f["price"]) - mid) * 10_000 / mid).quantize(Decimal("0.0001"))
        assert Decimal(f["slippage_bps"]) == expected
        assert Decimal(f["arrival_mid"]) == mid


def test_paper_run_when_replayed_then_markouts_follow_each_fill_at_1_5_and_60_s(paper: Path) -> None:
    events = _events(paper, paper.parent.parent)
    fills = {(e["payload"]["client_order_id"], e["payload"]["fill_id"]): e for e in events if e["kind"] == "fill"}
    markouts = [e for e in events if e["kind"] == "markout"]
    assert {m["payload"]["horizon_ms"] for m in markouts} == {1_000, 5_000, 60_000}
    for m in markouts:
        p = m["payload"]
        fill = fills[(p["client_order_id"], p["fill_id"])]
        assert m["ts_ms"] >= p["fill_ts_ms"] + p["horizon_ms"]
        assert m["seq"] > fill["seq"]
        sign = 1 if p["side"] == "buy" else -1
        at, after = Decimal(p["mid_at_fill"]), Decimal(p["mid_after"])
        assert Decimal(p["markout_bps"]) == (sign * (after - at) * 10_000 / at).quantize(Decimal("0.0001"))


def test_paper_run_when_repeated_with_the_same_data_config_and_seed_then_same_ledger_hash(
    paper: Path, tmp_path: Path
) -> None:
    again = paper_run(tmp_path, "again")
    first = json.loads((paper / "summary.json").read_text())["ledger_hash"]
    assert json.loads((again / "summary.json").read_text())["ledger_hash"] == first
