"""A session's report facts kept on disk give back every record, in order, each decimal with its text (issue 14 item 2).

The session's report reader keeps its decisions, marks, fill facts and the fold's applied
fills in a scratch SQLite database (:mod:`livegate.ops.run_facts_scratch`,
:mod:`livegate.ledger.scratch_fills`). Read back they must be what the in-memory logs
give: the same records in the same order, and every decimal with the same digits and
exponent (``1.0`` is not ``1.00`` in a report's text), which ``==`` on decimals does not check.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livegate.domain.enums import Liquidity, Side
from livegate.domain.orders import Fill
from livegate.ledger.scratch import ScratchRows, scratch_db
from livegate.ledger.scratch_fills import ScratchFills
from livegate.ops.report import TABLE_LIMIT
from livegate.ops.rollup_read import read_run
from livegate.ops.run_facts import DecisionLog, FillFact, MarkLog
from livegate.ops.run_facts_scratch import ScratchDecisionLog, ScratchFillLog, ScratchMarkLog

#: Decimal texts whose digits or exponent differ while their values are equal, and a few others.
_TEXTS = [
    "1.0",
    "1.00",
    "1",
    "-0",
    "0",
    "0E-12",
    "0.000",
    "1E+3",
    "1000",
    "-61805.95",
    "61805.950",
    "1.2345678901234567890",
]
_DECIMALS = st.one_of(
    st.sampled_from(_TEXTS).map(Decimal),
    st.decimals(allow_nan=False, allow_infinity=False),
)


def _text(value: object) -> object:
    """Return ``value`` with every decimal as its text and every float as its repr, recursively."""
    if isinstance(value, Decimal):
        return ("D", str(value))
    if isinstance(value, float):
        return ("F", repr(value))
    if isinstance(value, Fill):
        return ("Fill", *(_text(getattr(value, name)) for name in Fill.__dataclass_fields__))
    if isinstance(value, tuple):
        return tuple(_text(v) for v in value)
    return value


def _texts(records: object) -> list[object]:
    return [_text(r) for r in records]  # type: ignore[attr-defined]


def test_read_run_when_facts_are_kept_on_disk_then_records_order_and_decimal_text_are_the_in_memory_ones(
    bundled_paper_run: Path,
) -> None:
    in_memory = read_run(bundled_paper_run)  # every order kept: the facts in memory
    on_disk = read_run(bundled_paper_run, table_rows=TABLE_LIMIT)  # the session reader's way: on disk
    assert isinstance(in_memory.decisions, DecisionLog) and isinstance(on_disk.decisions, ScratchDecisionLog)
    assert isinstance(on_disk.marks, ScratchMarkLog) and isinstance(on_disk.fills, ScratchFillLog)
    assert isinstance(on_disk.fold.fills, ScratchFills)
    assert len(in_memory.decisions) > 500 and len(in_memory.fills) > 5  # a real run: orders and fills
    assert _texts(on_disk.decisions) == _texts(in_memory.decisions)
    assert _texts(on_disk.marks) == _texts(in_memory.marks)
    assert _texts(on_disk.fills) == _texts(in_memory.fills)
    assert _texts(on_disk.fold.fills) == _texts(in_memory.fold.fills)
    assert on_disk.fold.fill_ids_since(3, "paper") == in_memory.fold.fill_ids_since(3, "paper")
    assert sorted(on_disk.fold.portfolio.fill_keys()) == sorted(in_memory.fold.portfolio.fill_keys())


_FILLS = st.builds(
    Fill,
    client_order_id=st.text(max_size=12),
    fill_id=st.text(max_size=12),
    symbol=st.sampled_from(["BTCUSDT", "ETHUSDT", ""]),
    side=st.sampled_from(list(Side)),
    price=_DECIMALS,
    quantity=_DECIMALS,
    fee=_DECIMALS,
    liquidity=st.sampled_from(list(Liquidity)),
    ts_ms=st.integers(0, 2**53),
    venue=st.sampled_from(["paper", "binance", ""]),
    fee_asset=st.sampled_from(["", "BNB"]),
    fee_in_asset=_DECIMALS,
)
_MAYBE = st.none() | _DECIMALS


@settings(max_examples=60, deadline=None)
@given(
    decisions=st.lists(
        st.tuples(
            st.integers(0, 2**53),
            st.sampled_from(["paper", "binance"]),
            st.sampled_from(["BTCUSDT", ""]),
            st.booleans(),
            st.sampled_from(["", "max_notional"]),
            st.none() | st.tuples(_DECIMALS, _DECIMALS),
        ),
        max_size=40,
    ),
    marks=st.lists(st.tuples(st.integers(0, 50), st.sampled_from(["BTCUSDT", "ETHUSDT"]), _DECIMALS), max_size=40),
    sort=st.booleans(),
    facts=st.lists(st.tuples(_FILLS, st.sampled_from(["paper", ""]), _MAYBE, _MAYBE), max_size=12),
)
def test_scratch_logs_when_records_appended_then_read_back_as_the_in_memory_logs_with_decimal_text(
    decisions: list[tuple[int, str, str, bool, str, tuple[Decimal, Decimal] | None]],
    marks: list[tuple[int, str, Decimal]],
    sort: bool,
    facts: list[tuple[Fill, str, Decimal | None, Decimal | None]],
) -> None:
    conn = scratch_db()
    kept, stored = DecisionLog(), ScratchDecisionLog(conn)
    for ts, venue, symbol, approved, code, quote in decisions:
        bid, ask = quote if quote is not None else (None, None)
        kept.append(ts, venue, symbol, approved, code, bid, ask)
        stored.append(ts, venue, symbol, approved, code, bid, ask)
    assert len(stored) == len(kept) and stored == kept
    assert _texts(stored) == _texts(kept)
    kept_marks, stored_marks = MarkLog(), ScratchMarkLog(conn)
    for ts, symbol, mid in marks:
        kept_marks.append(ts, symbol, mid)
        stored_marks.append(ts, symbol, mid)
    if sort:
        kept_marks.sort()
        stored_marks.sort()
    assert stored_marks == kept_marks
    # the text as appended (the in-memory log shares one of equal mids with one exponent: ``0`` may read ``-0``)
    expected = sorted(marks, key=lambda mark: mark[0]) if sort else marks  # stable: ties in append order
    assert _texts(stored_marks) == _texts(expected)
    kept_fills, stored_fills = [FillFact(*f) for f in facts], ScratchFillLog(conn)
    for n, fact in enumerate(kept_fills, 1):
        stored_fills.append(fact)
        assert _texts(stored_fills) == _texts(kept_fills[:n])  # a read between appends: the next one still shows
    assert len(stored_fills) == len(kept_fills)
    assert _texts(stored_fills) == _texts(kept_fills) == _texts(stored_fills)  # read again: the same


@settings(max_examples=40, deadline=None)
@given(fills=st.lists(_FILLS, max_size=14), cuts=st.tuples(st.integers(0, 16), st.integers(0, 16)))
def test_scratch_fills_when_appended_then_items_slices_and_ids_are_a_lists(
    fills: list[Fill], cuts: tuple[int, int]
) -> None:
    stored = ScratchFills(scratch_db())
    for i, fill in enumerate(fills):
        stored.append(fill)
        assert stored[-1] is fill and _text(stored[i]) == _text(fill)
    start, stop = cuts
    assert _texts(stored) == _texts(fills)
    assert _texts(stored[start:stop]) == _texts(fills[start:stop])
    if fills:
        assert _text(stored[0]) == _text(fills[0])
    for venue in (None, "paper"):
        expected = [f.fill_id for f in fills[start:stop] if venue is None or f.venue in (venue, "")]
        assert stored.ids(start, venue, stop) == expected
    assert _texts(stored[-2:]) == _texts(fills[-2:])
    with pytest.raises(IndexError):
        stored[len(fills)]
    with pytest.raises(IndexError):
        stored.insert(
            len(fills) + 1, Fill("c", "f", "X", Side.BUY, Decimal(1), Decimal(1), Decimal(0), Liquidity.MAKER, 0)
        )


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.integers(-5, 5), max_size=30), batch=st.integers(1, 5), reads=st.lists(st.integers(0, 30)))
def test_scratch_rows_when_appended_in_batches_and_read_between_then_every_row_in_order(
    rows: list[int], batch: int, reads: list[int]
) -> None:
    table = ScratchRows(scratch_db(), "t", ("ts", "v"), batch=batch)
    for i, value in enumerate(rows):
        table.append((value, f"row {i}"))
        if i in reads:  # a read between appends sees the rows not written yet too
            assert [v for _, v in table.rows()] == [f"row {k}" for k in range(i + 1)]
    assert len(table) == len(rows)
    assert list(table.rows()) == [(value, f"row {i}") for i, value in enumerate(rows)]
    by_ts = sorted(range(len(rows)), key=rows.__getitem__)  # stable: append order among equal values
    assert list(table.rows(by="ts")) == [(rows[i], f"row {i}") for i in by_ts]
    assert list(table.rows(2, 5)) == [(value, f"row {i}") for i, value in enumerate(rows)][2:5]


def test_scratch_rows_when_names_are_not_plain_then_refused() -> None:
    conn = scratch_db()
    with pytest.raises(ValueError, match="not a table"):
        ScratchRows(conn, "t; DROP", ("a",))
    with pytest.raises(ValueError, match="not a table"):
        ScratchRows(conn, "t", ("a b",))
    with pytest.raises(ValueError, match="batch"):
        ScratchRows(conn, "t", ("a",), batch=0)
    with pytest.raises(ValueError, match="not a column"):
        next(ScratchRows(conn, "u", ("a",)).rows(by="a, n"))
