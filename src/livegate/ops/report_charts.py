"""The six charts of a run report, from a run's ledger facts (inline SVG, :mod:`livegate.ops.report_svg`).

1. ``equity``: total PnL (realized + unrealized - fees) and realized PnL, USD, summed over symbols;
2. ``position``: signed position per symbol, base units;
3. ``drawdown``: fall of total PnL from its running peak, USD;
4. ``fills``: bid and ask at each decision (arrival quotes) with fills as markers (buy ▲, sell ▼);
5. ``slippage``: histogram of fill slippage against the arrival mid, bps (positive = cost);
6. ``denials``: denied intents per time bucket.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from operator import itemgetter
from typing import Final

from livegate.domain.enums import Side
from livegate.ops.report_svg import PALETTE, Bars, Line, Marker, bar_chart, histogram, line_chart, time_label
from livegate.ops.rollup import equity_series
from livegate.ops.run_facts import RunFacts

__all__ = ["CHART_NAMES", "run_charts"]

CHART_NAMES: Final = ("equity", "position", "drawdown", "fills", "slippage", "denials")
#: Time buckets of the denials chart.
_DENIAL_BUCKETS: Final = 24
_ZERO: Final = Decimal(0)
#: Most points drawn per line (longer series are thinned evenly, keeping the last point).
_MAX_POINTS: Final = 2000


def _thin(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if len(points) <= _MAX_POINTS:
        return points
    step = len(points) / _MAX_POINTS
    kept = [points[int(i * step)] for i in range(_MAX_POINTS)]
    return [*kept, points[-1]]


def _symbols(facts: RunFacts) -> list[str]:
    seen = {f.fill.symbol for f in facts.fills} | {d.symbol for d in facts.decisions if d.symbol}
    return sorted(seen)


def run_charts(facts: RunFacts) -> list[str]:
    """Return the SVG of each chart in :data:`CHART_NAMES` order."""
    symbols = _symbols(facts)
    series = {symbol: equity_series(facts, symbol) for symbol in symbols}
    equity: list[tuple[float, float]] = []
    realized: list[tuple[float, float]] = []
    drawdown: list[tuple[float, float]] = []
    peak = zero = _ZERO
    only = next(iter(series.values())) if len(series) == 1 else None
    if only is not None and all(a.ts_ms <= b.ts_ms for a, b in itertools.pairwise(only)):
        # one symbol, its points in time order: the merge below gives them in this order and sums one value
        for point in only:
            ts, total = point.ts_ms, zero + point.equity  # sum([equity], 0): the same Decimal
            if total > peak:  # max(peak, total): the peak stays when they are equal
                peak = total
            equity.append((ts, float(total)))
            realized.append((ts, float(zero + point.realized)))
            drawdown.append((ts, float(peak - total)))
    else:
        merged = sorted(
            ((p.ts_ms, symbol, p) for symbol, points in series.items() for p in points), key=itemgetter(0, 1)
        )
        last_equity: dict[str, Decimal] = {}
        last_realized: dict[str, Decimal] = {}
        for ts, symbol, point in merged:
            last_equity[symbol], last_realized[symbol] = point.equity, point.realized
            total = sum(last_equity.values(), zero)
            if total > peak:
                peak = total
            equity.append((ts, float(total)))
            realized.append((ts, float(sum(last_realized.values(), zero))))
            drawdown.append((ts, float(peak - total)))
    charts = [
        line_chart(
            "equity",
            "Equity and PnL (USD)",
            [
                Line("total PnL", _thin(equity), PALETTE[0], step=True),
                Line("realized PnL", _thin(realized), PALETTE[1], step=True),
            ],
            y_label="USD",
        ),
        line_chart(
            "position",
            "Position (base units)",
            [
                Line(symbol, _thin([(p.ts_ms, float(p.quantity)) for p in points]), PALETTE[i % 7], step=True)
                for i, (symbol, points) in enumerate(series.items())
            ],
            y_label="base units",
        ),
        line_chart(
            "drawdown",
            "Drawdown from peak (USD)",
            [Line("drawdown", _thin(drawdown), PALETTE[1], step=True)],
            y_label="USD",
        ),
        _fills_chart(facts, symbols),
        histogram(
            "slippage",
            "Slippage vs arrival mid (bps, positive = cost)",
            [float(f.slippage_bps) for f in facts.fills if f.slippage_bps is not None],
            unit="bps",
        ),
        _denials_chart(facts),
    ]
    return charts


def _fills_chart(facts: RunFacts, symbols: list[str]) -> str:
    """Draw the fills of the most-filled symbol over its bid and ask."""
    counts = {s: sum(1 for f in facts.fills if f.fill.symbol == s) for s in symbols}
    symbol = max(symbols, key=lambda s: (counts[s], s)) if symbols else ""
    quotes = [d for d in facts.decisions if d.symbol == symbol and d.bid is not None and d.ask is not None]
    bids = [(float(d.ts_ms), float(d.bid)) for d in quotes if d.bid is not None]
    asks = [(float(d.ts_ms), float(d.ask)) for d in quotes if d.ask is not None]
    markers = []
    for fact in facts.fills:
        fill = fact.fill
        if fill.symbol != symbol:
            continue
        buy = fill.side is Side.BUY
        markers.append(
            Marker(
                float(fill.ts_ms),
                float(fill.price),
                "up" if buy else "down",
                PALETTE[2] if buy else PALETTE[1],
                # a StrEnum formats as its value: the text of ``side.value`` and ``liquidity.value``
                f"{fill.side} {fill.quantity} @ {fill.price} ({fill.liquidity})",
            )
        )
    return line_chart(
        "fills",
        f"Fills over bid/ask at decisions: {symbol}" if symbol else "Fills over bid/ask",
        [Line("bid", _thin(bids), PALETTE[5], step=True), Line("ask", _thin(asks), PALETTE[4], step=True)],
        y_label="price",
        markers=markers,
    )


def _denials_chart(facts: RunFacts) -> str:
    """Count denied intents per time bucket over the run (the codes in the title)."""
    denied = [d for d in facts.decisions if not d.approved]
    if not denied:
        return bar_chart("denials", "Denials over time", Bars(), y_label="denials")
    start, end = facts.first_ts_ms, max(facts.last_ts_ms, facts.first_ts_ms + 1)
    width = (end - start) / _DENIAL_BUCKETS
    counts = [0.0] * _DENIAL_BUCKETS
    for d in denied:
        counts[min(int((d.ts_ms - start) / width), _DENIAL_BUCKETS - 1)] += 1
    labels = [time_label(start + width * i) for i in range(_DENIAL_BUCKETS)]
    codes = sorted({d.code for d in denied})
    title = f"Denials over time ({', '.join(codes)})"
    return bar_chart("denials", title, Bars(labels, counts, PALETTE[1]), y_label="denials")
