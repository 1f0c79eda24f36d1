"""The six charts of a run report, from a run's ledger facts (inline SVG, :mod:`livegate.ops.report_svg`).

1. ``equity``: total PnL (realized + unrealized - fees) and realized PnL, USD, summed over symbols;
2. ``position``: signed position per symbol, base units;
3. ``drawdown``: fall of total PnL from its running peak, USD;
4. ``fills``: bid and ask at each decision (arrival quotes) with fills as markers (buy ▲, sell ▼);
5. ``slippage``: histogram of fill slippage against the arrival mid, bps (positive = cost);
6. ``denials``: denied intents per time bucket.
"""

from __future__ import annotations

from typing import Final

from livegate.domain.enums import Side
from livegate.ops.equity import Thinned, equity_digest, symbols_of
from livegate.ops.report_svg import PALETTE, Bars, Line, Marker, bar_chart, histogram, line_chart, time_label
from livegate.ops.run_facts import RunFacts

__all__ = ["CHART_NAMES", "run_charts"]

CHART_NAMES: Final = ("equity", "position", "drawdown", "fills", "slippage", "denials")
#: Time buckets of the denials chart.
_DENIAL_BUCKETS: Final = 24


def run_charts(facts: RunFacts) -> list[str]:
    """Return the SVG of each chart in :data:`CHART_NAMES` order."""
    symbols = symbols_of(facts)
    digest = equity_digest(facts)
    charts = [
        line_chart(
            "equity",
            "Equity and PnL (USD)",
            [
                Line("total PnL", digest.equity, PALETTE[0], step=True),
                Line("realized PnL", digest.realized, PALETTE[1], step=True),
            ],
            y_label="USD",
        ),
        line_chart(
            "position",
            "Position (base units)",
            [Line(symbol, digest.positions[symbol], PALETTE[i % 7], step=True) for i, symbol in enumerate(symbols)],
            y_label="base units",
        ),
        line_chart(
            "drawdown",
            "Drawdown from peak (USD)",
            [Line("drawdown", digest.drawdown, PALETTE[1], step=True)],
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
    quoted = sum(1 for d in facts.decisions if d.symbol == symbol and d.bid is not None)
    bids, asks = Thinned(quoted), Thinned(quoted)  # one decision per order: thinned as they come
    for d in facts.decisions:
        if d.symbol == symbol and d.bid is not None and d.ask is not None:
            bids.add((float(d.ts_ms), d.bid))
            asks.add((float(d.ts_ms), d.ask))
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
        [Line("bid", bids.points(), PALETTE[5], step=True), Line("ask", asks.points(), PALETTE[4], step=True)],
        y_label="price",
        markers=markers,
    )


def _denials_chart(facts: RunFacts) -> str:
    """Count denied intents per time bucket over the run (the codes in the title)."""
    start, end = facts.first_ts_ms, max(facts.last_ts_ms, facts.first_ts_ms + 1)
    width = (end - start) / _DENIAL_BUCKETS
    counts = [0.0] * _DENIAL_BUCKETS
    seen: set[str] = set()
    for d in facts.decisions:
        if not d.approved:
            counts[min(int((d.ts_ms - start) / width), _DENIAL_BUCKETS - 1)] += 1
            seen.add(d.code)
    if not seen:
        return bar_chart("denials", "Denials over time", Bars(), y_label="denials")
    labels = [time_label(start + width * i) for i in range(_DENIAL_BUCKETS)]
    codes = sorted(seen)
    title = f"Denials over time ({', '.join(codes)})"
    return bar_chart("denials", title, Bars(labels, counts, PALETTE[1]), y_label="denials")
