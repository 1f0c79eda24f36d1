"""Market-data sources of the TWS emulator: a synthetic stream (CI) and real Lean ticks (extended).

The US-equity recordings in ``../shared/data/equities_us/lean`` carry an AlgoSeek "all
rights reserved" notice (its README, section 7), so none is copied into ``tests/data``:
tests that replay them use the ``shared_data`` fixture (marked ``extended``), and the
default stream is synthetic, generated here from a seed.
"""

from __future__ import annotations

import csv
import io
import random
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

__all__ = ["Tick", "lean_ticks", "synthetic_ticks"]

_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Tick:
    """One market update of one symbol: best bid/ask (shares), and a trade print when ``last`` is set."""

    symbol: str
    bid: Decimal
    bid_size: Decimal
    ask: Decimal
    ask_size: Decimal
    last: Decimal | None = None
    last_size: Decimal = Decimal(0)


def synthetic_ticks(
    symbol: str, count: int, *, start: str = "190.00", seed: int = 7, spread: str = "0.01"
) -> list[Tick]:
    """Return ``count`` ticks of a random walk with a fixed ``spread`` (USD), a trade every second tick.

    Trades alternate in runs of buyer- and seller-initiated prints (at the ask / the bid)
    so flow-following strategies trade both ways.
    """
    rng = random.Random(seed)
    bid = Decimal(start)
    ticks: list[Tick] = []
    for i in range(count):
        bid += _CENT * rng.choice((-1, 0, 0, 1))
        ask = bid + Decimal(spread)
        sizes = Decimal(rng.randint(1, 9) * 100), Decimal(rng.randint(1, 9) * 100)
        if i % 2:
            buyer = (i // 40) % 2 == 0
            last = ask if buyer else bid
            ticks.append(Tick(symbol, bid, sizes[0], ask, sizes[1], last, Decimal(rng.randint(1, 5) * 100)))
        else:
            ticks.append(Tick(symbol, bid, sizes[0], ask, sizes[1]))
    return ticks


def _rows(path: Path) -> list[list[str]]:
    with zipfile.ZipFile(path) as archive:
        name = archive.namelist()[0]
        return list(csv.reader(io.TextIOWrapper(archive.open(name), encoding="utf-8")))


def lean_ticks(shared_data: Path, symbol: str, date: str, count: int, *, from_ms: int = 34_200_000) -> list[Tick]:
    """Return ``count`` ticks of ``symbol`` on ``date`` from Lean's tick quote and trade files.

    Lean tick quotes update one side at a time (the other side is 0); the book is carried
    forward, trades are merged in time order. Prices are deci-cents (÷ 10,000 = USD).
    ``from_ms`` is ms after midnight New York time (default 09:30, the regular open).
    """
    base = shared_data / "equities_us" / "lean" / "tick" / symbol.lower()
    events: list[tuple[int, int, list[str]]] = [(int(r[0]), 0, r) for r in _rows(base / f"{date}_quote.zip")]
    events += [(int(r[0]), 1, r) for r in _rows(base / f"{date}_trade.zip")]
    events.sort(key=lambda e: (e[0], e[1]))
    scale = Decimal(10_000)
    bid = ask = Decimal(0)
    bid_size = ask_size = Decimal(0)
    ticks: list[Tick] = []
    for at, kind, row in events:
        if kind == 0:
            if Decimal(row[1]) > 0:
                bid, bid_size = Decimal(row[1]) / scale, Decimal(row[2])
            if Decimal(row[3]) > 0:
                ask, ask_size = Decimal(row[3]) / scale, Decimal(row[4])
            if bid > 0 and ask > bid:
                ticks.append(Tick(symbol.upper(), bid, bid_size, ask, ask_size))
        elif bid > 0 and ask > bid:
            ticks.append(Tick(symbol.upper(), bid, bid_size, ask, ask_size, Decimal(row[1]) / scale, Decimal(row[2])))
        if at < from_ms:
            ticks.clear()
        elif len(ticks) >= count:
            break
    return ticks
