"""``compare_facts`` aligns intents by content, so one extra intent is one difference, not a cascade."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from livegate.ops.compare import compare_facts, run_stats
from livegate.ops.compare_load import IntentFacts, RunFacts

D = Decimal


def _intent(seq: int, price: str, *, side: str = "buy", approved: bool = True, code: str = "") -> IntentFacts:
    return IntentFacts(
        seq=seq,
        ts_ms=1_000 + seq,
        strategy_id="mm",
        symbol="BTCUSDT",
        side=side,
        order_type="limit",
        quantity=D("0.002"),
        price=D(price),
        time_in_force="gtc",
        post_only=True,
        reduce_only=False,
        approved=approved,
        denial_code=code,
        client_order_id=f"s-{seq}",
        filled_quantity=D(0),
        average_fill_price=None,
        fees=D(0),
        slippage_bps=None,
    )


def _run(name: str, intents: list[IntentFacts], **money: str) -> RunFacts:
    return RunFacts(Path(name), "paper", intents, 0, {k: D(v) for k, v in money.items()}, {})


def test_compare_when_both_runs_decided_the_same_then_clean_with_time_offsets() -> None:
    a = _run("a", [_intent(0, "100"), _intent(1, "101")])
    b = _run("b", [replace(i, ts_ms=i.ts_ms + 3, client_order_id="other") for i in a.intents])

    result = compare_facts(a, b)

    assert result.clean and result.matched == 2
    assert result.time_offsets_ms == [3, 3]


def test_compare_when_b_has_one_extra_intent_then_exactly_one_only_in_b_difference() -> None:
    common = [_intent(i, str(100 + i)) for i in range(6)]
    extra = _intent(99, "50")
    a = _run("a", common)
    b = _run("b", [*common[:2], extra, *common[2:]])

    result = compare_facts(a, b)

    assert [(d.kind, d.b) for d in result.decisions] == [("only_in_b", extra)]
    assert result.matched == 6


def test_compare_when_a_price_differs_then_changed_and_when_a_denial_code_differs_then_decision() -> None:
    a = _run("a", [_intent(0, "100"), _intent(1, "101", approved=False, code="MAX_OPEN_ORDERS"), _intent(2, "102")])
    b = _run("b", [_intent(0, "100.5"), _intent(1, "101", approved=False, code="ORDER_RATE"), _intent(2, "102")])

    result = compare_facts(a, b)

    assert [d.kind for d in result.decisions] == ["changed", "decision"]
    assert "denied MAX_OPEN_ORDERS (A) vs denied ORDER_RATE (B)" in result.decisions[1].describe()
    assert not result.clean


def test_compare_when_b_sold_lower_then_the_price_difference_is_a_positive_cost() -> None:
    sold_a = replace(_intent(0, "100", side="sell"), filled_quantity=D("0.002"), average_fill_price=D("100"))
    sold_b = replace(sold_a, average_fill_price=D("99.9"))
    filled = replace(_intent(1, "101"), filled_quantity=D("0.002"), average_fill_price=D("101"))
    unfilled = replace(filled, filled_quantity=D(0), average_fill_price=None)

    result = compare_facts(_run("a", [sold_a, filled]), _run("b", [sold_b, unfilled]))

    assert result.clean  # the same decisions; only execution differs
    assert [e.price_diff_bps for e in result.executions] == [D("10"), None]


def test_run_stats_when_half_the_approved_intents_filled_then_fill_rate_is_one_half() -> None:
    filled = replace(_intent(0, "100"), filled_quantity=D("0.002"), average_fill_price=D("100"), slippage_bps=D("1.5"))
    denied = _intent(2, "102", approved=False, code="PRICE_BAND")
    run = _run("a", [filled, _intent(1, "101"), denied], pnl_total_usd="-1.25")

    stats = run_stats(run)

    assert (stats["intents"], stats["approved"], stats["intents_filled"]) == (3, 2, 1)
    assert stats["fill_rate"] == "0.5000"
    assert stats["denied_by_code"] == {"PRICE_BAND": 1}
    assert stats["slippage_median_bps"] == "1.5"
    assert stats["pnl_total_usd"] == "-1.25"
