"""Real US equity quotes and trades for the emulator's market-data stream, from ``../shared/data``.

Source: QuantConnect Lean's SPY second bars (``equities_us/lean/second/spy``) and AAPL
minute bars (``equities_us/lean/minute/aapl``); see ``../shared/data/README.md`` §7. The
data carries an AlgoSeek "all rights reserved" notice, so no copy is kept in
``tests/data``: tests that replay it use the ``shared_data`` fixture (marked extended).

Lean layout: times are ms after midnight New York time, prices integer deci-cents
(divide by 10,000 for USD), sizes shares. A quote row is ``time, bid o/h/l/c, bid size,
ask o/h/l/c, ask size``; a trade row ``time, o, h, l, c, volume``. The emulator replays
the regular session (09:30 onward) as top-of-book quotes (the bar's close) and one trade
per bar (close price, volume).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

__all__ = ["MarketRow", "load_rows"]

_DECI_CENTS = Decimal(10_000)
_OPEN_MS = (9 * 60 + 30) * 60_000

#: Symbol -> (path under the data root, quote file, trade file).
SOURCES: dict[str, tuple[str, str, str]] = {
    "SPY": ("equities_us/lean/second/spy", "20131008_quote.zip", "20131008_trade.zip"),
    "AAPL": ("equities_us/lean/minute/aapl", "20140606_quote.zip", "20140606_trade.zip"),
}


@dataclass(frozen=True, slots=True)
class MarketRow:
    """One replayed event: a quote (``kind="q"``) or a trade (``kind="t"``), prices in USD."""

    kind: str
    time_ms: int
    bid: Decimal = Decimal(0)
    bid_size: int = 0
    ask: Decimal = Decimal(0)
    ask_size: int = 0
    price: Decimal = Decimal(0)
    size: int = 0


def _read(path: Path) -> list[list[str]]:
    with zipfile.ZipFile(path) as archive:
        text = archive.read(archive.namelist()[0]).decode("ascii")
    return [line.split(",") for line in text.splitlines() if line]


def load_rows(data_root: Path, symbol: str, limit: int = 5000) -> list[MarketRow]:
    """Return up to ``limit`` quotes and trades of ``symbol`` from the open, merged in time order.

    Raises
    ------
    KeyError
        If the emulator has no recording of ``symbol`` (see :data:`SOURCES`).
    """
    folder, quote_file, trade_file = SOURCES[symbol]
    rows: list[MarketRow] = []
    for cols in _read(data_root / folder / quote_file):
        time_ms = int(cols[0])
        bid, ask = Decimal(cols[4]) / _DECI_CENTS, Decimal(cols[9]) / _DECI_CENTS
        if time_ms < _OPEN_MS or not 0 < bid < ask:
            continue
        rows.append(MarketRow("q", time_ms, bid, max(1, int(cols[5])), ask, max(1, int(cols[10]))))
    for cols in _read(data_root / folder / trade_file):
        time_ms = int(cols[0])
        if time_ms < _OPEN_MS or int(cols[5]) <= 0:
            continue
        rows.append(MarketRow("t", time_ms, price=Decimal(cols[4]) / _DECI_CENTS, size=int(cols[5])))
    rows.sort(key=lambda r: (r.time_ms, r.kind != "q"))
    return rows[:limit]
