"""A run's per-decision, per-mark and per-fill facts on disk, in a scratch SQLite database (issue 14 item 2).

A session's report reader (:class:`livegate.ops.rollup_read.RunReader`) keeps one
decision per order, one mark per decision and markout, and one fact per fill until the
run ends and its report is drawn. Kept in memory (:class:`~livegate.ops.run_facts.DecisionLog`,
:class:`~livegate.ops.run_facts.MarkLog`, a list of :class:`~livegate.ops.run_facts.FillFact`)
they grow the session by about 60 bytes an order, without bound. These keep them in
tables of the reader's scratch database (:class:`~livegate.ledger.scratch.ScratchRows`:
written in batches, read back in the order they came) and give the same rows when
iterated, so every consumer (rollups, charts, equity) reads them unchanged:

* :class:`ScratchDecisionLog`: the (venue, symbol, approved, code) of a decision is a
  number into a small table kept in memory; the arrival bid and ask are floats, as the
  in-memory log keeps them.
* :class:`ScratchMarkLog`: a mid is stored as its text; ``Decimal(str(d))`` has ``d``'s
  digits and exponent, so the marks read back equal the ones appended, exponent included.
* :class:`ScratchFillLog`: the fill as :func:`~livegate.ledger.scratch_fills.fill_to_row`
  stores it, its venue, arrival mid and slippage (bps) as text (NULL: unknown).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from typing import Final, Generic, TypeVar

from livegate.ledger.scratch import ScratchRows
from livegate.ledger.scratch_fills import FILL_ROW_COLUMNS, fill_from_row, fill_to_row
from livegate.ops.run_facts import DecisionFact, DecisionLog, FillFact, MarkLog

__all__ = ["ScratchDecisionLog", "ScratchFillLog", "ScratchMarkLog"]

_NAN: Final = float("nan")
_FILL_WIDTH: Final = len(FILL_ROW_COLUMNS)
K = TypeVar("K")
#: Distinct mid texts one read of a :class:`ScratchMarkLog` keeps built (forgotten all at once past this).
_MIDS_BUILT: Final = 4096


class _Numbered(Generic[K]):
    """The few distinct values of a column, each stored as its number (first seen: 0)."""

    __slots__ = ("index", "table")

    def __init__(self) -> None:
        self.table: list[K] = []
        self.index: dict[K, int] = {}

    def number(self, value: K) -> int:
        number = self.index.get(value)
        if number is None:
            number = self.index[value] = len(self.table)
            self.table.append(value)
        return number


class ScratchDecisionLog:
    """Every decision of a run in ledger order, on disk; iterating gives :class:`DecisionFact` rows.

    The same rows as :class:`~livegate.ops.run_facts.DecisionLog` (bid and ask as floats;
    both None when the decision saw no quote).

    Parameters
    ----------
    conn:
        A scratch database (:func:`livegate.ledger.scratch.scratch_db`); the table
        ``decision_facts`` is made in it.
    """

    __slots__ = ("_keys", "_rows")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._rows = ScratchRows(conn, "decision_facts", ("ts_ms", "k", "bid", "ask"))
        self._keys: _Numbered[tuple[str, str, bool, str]] = _Numbered()

    def append(
        self, ts_ms: int, venue: str, symbol: str, approved: bool, code: str, bid: Decimal | None, ask: Decimal | None
    ) -> None:
        """Add one decision (``bid`` and ``ask`` in quote currency; None when it saw no quote)."""
        number = self._keys.number((venue, symbol, approved, code))
        # NaN as the in-memory log keeps a missing quote; SQLite stores a NaN as NULL
        self._rows.append((ts_ms, number, _NAN if bid is None else float(bid), _NAN if ask is None else float(ask)))

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[DecisionFact]:
        table = self._keys.table
        for ts, number, bid, ask in self._rows.rows():
            venue, symbol, approved, code = table[number]
            if bid is None:  # no quote (NULL: a NaN, as the in-memory log's test ``bid == bid``)
                yield DecisionFact(ts, venue, symbol, approved, code, None, None)
            else:
                yield DecisionFact(ts, venue, symbol, approved, code, bid, _NAN if ask is None else ask)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ScratchDecisionLog | DecisionLog):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


class ScratchMarkLog:
    """Every mid the ledger knows, on disk: time (ms since the epoch), symbol, mid (exact, quote currency).

    Iterating gives ``(ts_ms, symbol, mid)`` in append order, or in time order (append
    order among equal times) once :meth:`sort` was called, as
    :class:`~livegate.ops.run_facts.MarkLog`.

    Parameters
    ----------
    conn:
        A scratch database (:func:`livegate.ledger.scratch.scratch_db`); the table
        ``mark_facts`` is made in it.
    """

    __slots__ = ("_in_order", "_last_ts", "_rows", "_sorted", "_symbols")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._rows = ScratchRows(conn, "mark_facts", ("ts_ms", "s", "mid"))
        self._symbols: _Numbered[str] = _Numbered()
        #: Whether the marks came in time order (then time order is append order: no sort to read them).
        self._in_order = True
        self._last_ts = 0
        self._sorted = False

    def append(self, ts_ms: int, symbol: str, mid: Decimal) -> None:
        """Add one mid."""
        if ts_ms < self._last_ts:
            self._in_order = False
        self._last_ts = ts_ms
        self._rows.append((ts_ms, self._symbols.number(symbol), str(mid)))

    def sort(self) -> None:
        """Give the marks in time order from now on, keeping append order among equal times."""
        self._sorted = True

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[tuple[int, str, Decimal]]:
        table = self._symbols.table
        by = "ts_ms" if self._sorted and not self._in_order else ""
        #: Recent mids by their text: a mid repeats at many decisions and markouts, one object serves.
        built: dict[str, Decimal] = {}
        for ts, s, text in self._rows.rows(by=by):
            mid = built.get(text)
            if mid is None:
                if len(built) >= _MIDS_BUILT:
                    built.clear()
                mid = built[text] = Decimal(text)
            yield ts, table[s], mid

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ScratchMarkLog | MarkLog):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


class ScratchFillLog:
    """Every fill the fold counted, with its venue, arrival mid and slippage (bps), on disk, in ledger order.

    Iterating gives :class:`FillFact` rows equal to those appended (decimals with their own digits).
    The facts read back are kept until the next append: the end-of-run report reads them
    several times (equity, charts, rollup; 7 passes), and rebuilding each fact from its row
    every time cost ~1 s per 10,000 fills. During a run an append drops them again.

    Parameters
    ----------
    conn:
        A scratch database (:func:`livegate.ledger.scratch.scratch_db`); the table
        ``fill_facts`` is made in it.
    """

    __slots__ = ("_read", "_rows")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._rows = ScratchRows(conn, "fill_facts", (*FILL_ROW_COLUMNS, "fact_venue", "arrival_mid", "slippage_bps"))
        self._read: list[FillFact] | None = None

    def append(self, fact: FillFact, /) -> None:
        """Add one fill's fact."""
        self._read = None
        arrival, slippage = fact.arrival_mid, fact.slippage_bps
        self._rows.append(
            (*fill_to_row(fact.fill), fact.venue, None if arrival is None else str(arrival),
             None if slippage is None else str(slippage))
        )  # fmt: skip

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[FillFact]:
        if self._read is None:
            self._read = list(self._build())
        return iter(self._read)

    def _build(self) -> Iterator[FillFact]:
        width = _FILL_WIDTH
        for row in self._rows.rows():
            venue, arrival, slippage = row[width:]
            yield FillFact(
                fill_from_row(row[:width]),
                str(venue),
                None if arrival is None else Decimal(arrival),
                None if slippage is None else Decimal(slippage),
            )

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ScratchFillLog | list):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]
