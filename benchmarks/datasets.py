"""Build the synthetic-but-realistic quote files the benchmarks replay, from the bundled real sample.

The bundled capture (Binance USD-M BTCUSDT, 2024-08-08 23:54-23:59 UTC, 66,089 quotes) is
repeated: quote ``i`` of the output is quote ``i mod 66,089`` of the sample (its prices and
sizes exactly as recorded, in the recorded order) re-timed to ``start + i * spacing_ms``
(exchange time, ms) and ``ts_recv_ns`` the same instant in ns. So the book moves as the real
one did, only the clock is stretched or squeezed: 4 ms is about the real density of the
capture (66,089 quotes in ~300 s is ~4.5 ms apart), 100 ms spreads 1,000,000 quotes over
27.8 hours of event time (many reconciliations and heartbeats per quote).

Usage::

    python benchmarks/datasets.py --quotes 1000000 --spacing-ms 100 --out /tmp/q100.csv
"""

from __future__ import annotations

import argparse
import csv
import gzip
from pathlib import Path

from livegate.runtime.session import bundled_sample

#: Exchange time of the first synthetic quote: 2024-08-09 00:00:00 UTC, right after the sample.
START_MS = 1_723_161_600_000


def sample_rows() -> list[list[str]]:
    """Return the bundled sample's quote rows (header dropped), as text."""
    quotes, _ = bundled_sample()
    with gzip.open(quotes, "rt", newline="") as stream:
        reader = csv.reader(stream)
        header = next(reader)
        pick = [header.index(c) for c in ("symbol", "bid_price", "bid_size", "ask_price", "ask_size")]
        return [[row[i] for i in pick] for row in reader]


def write_quotes(path: Path, count: int, spacing_ms: int, *, start_ms: int = START_MS) -> Path:
    """Write ``count`` quotes ``spacing_ms`` apart to ``path`` (normalized CSV, plain text); return ``path``."""
    rows = sample_rows()
    n = len(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as stream:
        write = stream.write
        write("ts_recv_ns,ts_event_ms,symbol,bid_price,bid_size,ask_price,ask_size\n")
        for i in range(count):
            ts = start_ms + i * spacing_ms
            symbol, bp, bs, ap, as_ = rows[i % n]
            write(f"{ts * 1_000_000},{ts},{symbol},{bp},{bs},{ap},{as_}\n")
    return path


def main() -> None:
    """Write one dataset file."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quotes", type=int, default=1_000_000)
    parser.add_argument("--spacing-ms", type=int, default=100)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    write_quotes(args.out, args.quotes, args.spacing_ms)
    print(f"wrote {args.quotes:,} quotes {args.spacing_ms} ms apart to {args.out}")


if __name__ == "__main__":
    main()
