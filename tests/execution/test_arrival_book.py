"""Arrival mids kept per approved order: equal mids share one text, each fill's slippage stays its own."""

from __future__ import annotations

from decimal import Decimal

from livegate.domain.enums import Liquidity, Side
from livegate.domain.orders import Fill
from livegate.execution.quality import _RECENT_MIDS, ArrivalBook


def _fill(cid: str, price: str) -> Fill:
    return Fill(cid, f"t-{cid}", "BTCUSDT", Side.BUY, Decimal(price), Decimal("0.001"), Decimal(0), Liquidity.TAKER, 1)


def test_arrival_book_when_orders_share_a_mid_then_one_text_and_each_fill_keeps_its_slippage() -> None:
    book = ArrivalBook()
    book.remember("a", {"mid": "61800.25"})
    book.remember("b", {"mid": "61800.250"})  # equal value, its own text: kept as written
    book.remember("c", {"mid": "61800.25"})
    book.remember("d", None)
    assert book._mids["a"] is book._mids["c"] and book._mids["b"] == "61800.250"
    assert book.fill_facts(_fill("a", "61806.43")) == {"arrival_mid": "61800.25", "slippage_bps": "1.0000"}
    assert book.fill_facts(_fill("b", "61806.43"))["arrival_mid"] == "61800.250"
    assert book.fill_facts(_fill("d", "61806.43")) == {"arrival_mid": None, "slippage_bps": None}


def test_arrival_book_when_more_distinct_mids_than_it_shares_then_every_order_keeps_its_own() -> None:
    book = ArrivalBook()
    count = _RECENT_MIDS * 2 + 7
    for n in range(count):
        book.remember(f"o{n}", {"mid": f"{60000 + n}.5"})
    assert all(book.fill_facts(_fill(f"o{n}", "1"))["arrival_mid"] == f"{60000 + n}.5" for n in range(count))


def test_arrival_book_when_a_mid_is_forgotten_then_a_fill_reads_it_back_and_gets_the_same_slippage() -> None:
    book = ArrivalBook()
    book.remember("a", {"mid": "61800.25"})
    kept = book.fill_facts(_fill("a", "61806.43"))
    book.forget("a")
    book.forget("never")  # nothing held: nothing to do
    asked: list[str] = []

    def look_up(cid: str) -> str | None:
        asked.append(cid)
        return "61800.25" if cid == "a" else None

    assert book.fill_facts(_fill("a", "61806.43"), look_up) == kept
    assert book.fill_facts(_fill("z", "61806.43"), look_up) == {"arrival_mid": None, "slippage_bps": None}
    assert book.fill_facts(_fill("a", "61806.43")) == {"arrival_mid": None, "slippage_bps": None}  # no look-up
    assert asked == ["a", "z"]
