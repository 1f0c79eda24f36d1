"""Equity PnL of a run's positions in one pass: the rollup's daily figures and the charts' lines (issue 13).

A position's equity PnL (realized + unrealized - fees, USD) is rebuilt from the counted
fills in ledger order (average cost, as the session's book) and marked at every mid the
ledger knows (arrival quotes, markouts; the fill price until the first mid). A point is
made at each fill and each mid of its symbol, so a run has about one per order: they are
not kept (issue 14 item 2). One pass gives what the report draws from them:

* per symbol and trading day, the day's realized PnL, total PnL and max drawdown (exact);
* the lines of the equity, realized PnL, drawdown and position charts, thinned as they
  come to at most :data:`MAX_POINTS` evenly spaced points plus the last (:class:`Thinned`).

Symbols are merged in (time, symbol) order, each symbol's points in their own order, as
a stable sort of all points would give. When a symbol's fills are not in time order
(a venue reporting one late) its points are sorted with the others, as before.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter
from typing import Final, NamedTuple

from livegate.domain.orders import Fill
from livegate.domain.positions import Position
from livegate.ops.run_facts import RunFacts

__all__ = ["MAX_POINTS", "EquityDigest", "EquityPoint", "Thinned", "equity_digest"]

#: Most points drawn per line (longer series are thinned evenly, keeping the last point).
MAX_POINTS: Final = 2000
_ZERO: Final = Decimal(0)


class EquityPoint(NamedTuple):
    """Equity PnL of one symbol's position at a time: realized + unrealized - fees (USD); quantity in base units."""

    ts_ms: int
    equity: Decimal
    realized: Decimal
    quantity: Decimal


class Thinned:
    """Of ``count`` points added one by one, keep those at ``int(i * count / MAX_POINTS)`` and the last.

    All of them when ``count`` <= :data:`MAX_POINTS`: what thinning a whole list gives,
    without the list.

    Raises
    ------
    ValueError
        From :meth:`points`, when a number of points other than ``count`` was added.
    """

    __slots__ = ("_added", "_count", "_i", "_last", "_next", "_points", "_step")

    def __init__(self, count: int) -> None:
        self._count = count
        self._step = count / MAX_POINTS if count > MAX_POINTS else 0.0
        self._points: list[tuple[float, float]] = []
        self._added = self._i = self._next = 0
        self._last: tuple[float, float] | None = None

    def add(self, point: tuple[float, float]) -> None:
        """Take the next point."""
        if self._added == self._next or not self._step:
            self._points.append(point)
            if self._step:
                self._i += 1
                self._next = int(self._i * self._step) if self._i < MAX_POINTS else -1
        self._added += 1
        self._last = point

    def points(self) -> list[tuple[float, float]]:
        """Return the kept points (call once, after the last :meth:`add`)."""
        if self._added != self._count:
            raise ValueError(f"{self._added} points added, {self._count} announced")
        if self._step and self._last is not None:
            self._points.append(self._last)
        return self._points


@dataclass(slots=True)
class _DayPnl:
    """A symbol's running day: PnL since the day's opening equity and the deepest fall from its running peak."""

    days: dict[str, tuple[Decimal, Decimal, Decimal]] = field(default_factory=dict)
    current: str = ""
    start_equity: Decimal = _ZERO
    start_realized: Decimal = _ZERO
    peak: Decimal = _ZERO
    prev_equity: Decimal = _ZERO
    prev_realized: Decimal = _ZERO

    def add(self, day: str, equity: Decimal, realized: Decimal) -> None:
        if day != self.current:
            self.current, self.start_equity, self.start_realized = day, self.prev_equity, self.prev_realized
            self.peak = self.prev_equity
        self.peak = max(self.peak, equity)
        drawdown = max(self.days.get(day, (_ZERO, _ZERO, _ZERO))[2], self.peak - equity)
        self.days[day] = (realized - self.start_realized, equity - self.start_equity, drawdown)
        self.prev_equity, self.prev_realized = equity, realized


@dataclass(frozen=True, slots=True)
class EquityDigest:
    """What the report draws from the equity points of a run.

    Attributes
    ----------
    days : dict[str, dict[str, tuple[Decimal, Decimal, Decimal]]]
        Symbol -> trading day -> (realized PnL, total PnL, max drawdown) of the day, USD.
    equity, realized, drawdown : list of (ts_ms, USD)
        Summed over symbols, thinned.
    positions : dict[str, list of (ts_ms, base units)]
        Signed position per symbol, thinned.
    """

    days: dict[str, dict[str, tuple[Decimal, Decimal, Decimal]]]
    equity: list[tuple[float, float]]
    realized: list[tuple[float, float]]
    drawdown: list[tuple[float, float]]
    positions: dict[str, list[tuple[float, float]]]


def symbols_of(facts: RunFacts) -> list[str]:
    """Return the symbols a run filled or decided on, sorted."""
    seen = {f.fill.symbol for f in facts.fills} | {d.symbol for d in facts.decisions if d.symbol}
    return sorted(seen)


def equity_digest(facts: RunFacts) -> EquityDigest:
    """Return the run's :class:`EquityDigest`, computed once and kept in ``facts.equity_memo``."""
    memo = facts.equity_memo
    if memo is not None:
        return memo  # type: ignore[no-any-return]
    symbols = symbols_of(facts)
    fills = {s: [f.fill for f in facts.fills if f.fill.symbol == s] for s in symbols}
    sizes = {s: len(fills[s]) for s in symbols}
    for _, symbol, _ in facts.marks:
        if symbol in sizes:
            sizes[symbol] += 1
    days = {s: _DayPnl() for s in symbols}
    positions = {s: Thinned(sizes[s]) for s in symbols}
    total = sum(sizes.values())
    equity, realized, drawdown = Thinned(total), Thinned(total), Thinned(total)
    series = [_points(facts, s, fills[s], days[s], positions[s]) for s in symbols]
    merged: Iterable[tuple[int, str, EquityPoint]]
    if all(_in_time_order(fills[s]) for s in symbols):  # each series in time order: merged as they come
        merged = heapq.merge(*series, key=_KEY)
    else:  # a fill out of time order: every point sorted, as before
        merged = sorted(itertools.chain.from_iterable(series), key=_KEY)
    last_equity: dict[str, Decimal] = {}
    last_realized: dict[str, Decimal] = {}
    peak = _ZERO
    for ts, symbol, point in merged:
        last_equity[symbol], last_realized[symbol] = point.equity, point.realized
        summed = sum(last_equity.values(), _ZERO)
        if summed > peak:
            peak = summed
        equity.add((ts, float(summed)))
        realized.add((ts, float(sum(last_realized.values(), _ZERO))))
        drawdown.add((ts, float(peak - summed)))
    digest = EquityDigest(
        {s: days[s].days for s in symbols},
        equity.points(),
        realized.points(),
        drawdown.points(),
        {s: positions[s].points() for s in symbols},
    )
    facts.equity_memo = digest
    return digest


_KEY: Final = itemgetter(0, 1)


def _in_time_order(fills: list[Fill]) -> bool:
    return all(a.ts_ms <= b.ts_ms for a, b in itertools.pairwise(fills))


def _points(
    facts: RunFacts, symbol: str, fills: list[Fill], days: _DayPnl, line: Thinned
) -> Iterator[tuple[int, str, EquityPoint]]:
    """Yield ``(ts_ms, symbol, point)`` for ``symbol``'s fills and mids (a fill first at equal times).

    Each point also goes to the symbol's day PnL and position line, in the symbol's own order.
    """
    marks = ((ts, mid) for ts, sym, mid in facts.marks if sym == symbol)
    next_mark = next(marks, None)
    position = Position(symbol)
    mark: Decimal | None = None
    day = facts.day
    i = 0
    while i < len(fills) or next_mark is not None:
        if i < len(fills) and (next_mark is None or fills[i].ts_ms <= next_mark[0]):
            fill = fills[i]
            i += 1
            position.apply_fill(fill)
            ts, mark = fill.ts_ms, mark if mark is not None else fill.price
        else:
            assert next_mark is not None
            ts, mark = next_mark
            next_mark = next(marks, None)
        equity = position.realized_pnl + position.unrealized_pnl(mark) - position.fees
        point = EquityPoint(ts, equity, position.realized_pnl, position.quantity)
        days.add(day(ts), equity, point.realized)
        line.add((ts, float(point.quantity)))
        yield ts, symbol, point
