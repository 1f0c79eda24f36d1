"""The one-pass equity digest equals the points built whole, then summed, sorted and thinned (issue 14 item 2).

The reference below is the rule stated plainly (every point kept): a position per symbol
rebuilt from its fills in ledger order and marked at each mid (the fill price until the
first), points merged over symbols by (time, symbol), each day's PnL and drawdown, lines
thinned to MAX_POINTS evenly spaced points plus the last.
"""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from livegate.domain.enums import Liquidity, Side
from livegate.domain.orders import Fill
from livegate.domain.positions import Position
from livegate.ops.equity import MAX_POINTS, Thinned, equity_digest
from livegate.ops.run_facts import FillFact, RunFacts

DAY_MS = 86_400_000
T0 = 1_723_161_600_000  # 2024-08-09 00:00 UTC


def _facts(seed: int, symbols: tuple[str, ...], points: int, *, shuffle_fills: bool) -> RunFacts:
    rng = random.Random(seed)
    facts = RunFacts(run_dir=Path("run"), day_zone=ZoneInfo("America/New_York"))
    fills = []
    for n in range(points):
        symbol = rng.choice(symbols)
        ts = T0 + n * 97_000 + rng.randrange(3) * 1_000  # crosses a few trading days, equal times happen
        mid = (
            Decimal(60_000 + rng.randrange(-500, 500)) / 10
            if symbol == "BTCUSDT"
            else Decimal(rng.randrange(2900, 3100))
        )
        if rng.random() < 0.2:
            side = rng.choice((Side.BUY, Side.SELL))
            fill = Fill(
                f"c{n}", f"t{n}", symbol, side, mid, Decimal("0.003"), Decimal("0.02"), Liquidity.MAKER, ts, "paper"
            )
            fills.append(FillFact(fill, "paper", None, None))
        else:
            facts.marks.append(ts, symbol, mid)
        facts.decisions.append(ts, "paper", symbol, True, "", None, None)
    if shuffle_fills:  # a venue reporting fills late: ledger order is not time order
        rng.shuffle(fills)
    facts.fills = fills
    facts.marks.sort()
    return facts


def _reference(facts: RunFacts, symbols: list[str]) -> tuple[object, ...]:
    series: dict[str, list[tuple[int, Decimal, Decimal, Decimal]]] = {}
    for symbol in symbols:
        fills = [f.fill for f in facts.fills if f.fill.symbol == symbol]
        marks = [(ts, mid) for ts, sym, mid in facts.marks if sym == symbol]
        position, mark, points, i, j = Position(symbol), None, [], 0, 0
        while i < len(fills) or j < len(marks):
            if i < len(fills) and (j >= len(marks) or fills[i].ts_ms <= marks[j][0]):
                position.apply_fill(fills[i])
                ts, mark = fills[i].ts_ms, mark if mark is not None else fills[i].price
                i += 1
            else:
                ts, mark = marks[j]
                j += 1
            equity = position.realized_pnl + position.unrealized_pnl(mark) - position.fees
            points.append((ts, equity, position.realized_pnl, position.quantity))
        series[symbol] = points
    days: dict[str, dict[str, tuple[Decimal, Decimal, Decimal]]] = {}
    zero = Decimal(0)
    for symbol, points in series.items():
        per_day: dict[str, tuple[Decimal, Decimal, Decimal]] = {}
        prev_e = prev_r = start_e = start_r = peak = zero
        current = ""
        for ts, equity, realized, _ in points:
            day = facts.day(ts)
            if day != current:
                current, start_e, start_r, peak = day, prev_e, prev_r, prev_e
            peak = max(peak, equity)
            drawdown = max(per_day.get(day, (zero, zero, zero))[2], peak - equity)
            per_day[day] = (realized - start_r, equity - start_e, drawdown)
            prev_e, prev_r = equity, realized
        days[symbol] = per_day
    merged = sorted(((p[0], s, p) for s, ps in series.items() for p in ps), key=lambda m: (m[0], m[1]))
    last_e: dict[str, Decimal] = {}
    last_r: dict[str, Decimal] = {}
    equity_line, realized_line, drawdown_line, peak = [], [], [], zero
    for ts, symbol, p in merged:
        last_e[symbol], last_r[symbol] = p[1], p[2]
        total = sum(last_e.values(), zero)
        peak = max(peak, total) if total > peak else peak
        equity_line.append((ts, float(total)))
        realized_line.append((ts, float(sum(last_r.values(), zero))))
        drawdown_line.append((ts, float(peak - total)))

    def thin(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        if len(points) <= MAX_POINTS:
            return points
        step = len(points) / MAX_POINTS
        return [*[points[int(i * step)] for i in range(MAX_POINTS)], points[-1]]

    positions = {s: thin([(p[0], float(p[3])) for p in ps]) for s, ps in series.items()}
    return days, thin(equity_line), thin(realized_line), thin(drawdown_line), positions


@pytest.mark.parametrize(
    ("symbols", "points", "shuffle_fills"),
    [
        (("BTCUSDT",), 300, False),
        (("BTCUSDT",), 7_000, False),
        (("BTCUSDT", "ETHUSDT"), 9_000, False),
        (("BTCUSDT", "ETHUSDT"), 5_000, True),
    ],
)
def test_equity_digest_when_computed_in_one_pass_then_equals_the_whole_points_rule(
    symbols: tuple[str, ...], points: int, *, shuffle_fills: bool
) -> None:
    facts = _facts(len(symbols) * points, symbols, points, shuffle_fills=shuffle_fills)
    digest = equity_digest(facts)
    days, equity, realized, drawdown, positions = _reference(facts, sorted(symbols))
    assert digest.days == days and len(next(iter(days.values()))) >= 2  # several trading days
    assert (digest.equity, digest.realized, digest.drawdown) == (equity, realized, drawdown)
    assert digest.positions == positions
    assert equity_digest(facts) is digest  # computed once


def test_thinned_when_told_a_wrong_count_then_refuses() -> None:
    line = Thinned(3)
    line.add((1.0, 1.0))
    with pytest.raises(ValueError, match="1 points added, 3 announced"):
        line.points()
