"""End-to-end API test inputs: a replay with a quote-less start and a quote gap; a strategy holding a position."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

from livegate.runtime.session import bundled_sample

#: Event-time layout of the crafted replay (ms after the first trade): trades throughout,
#: quotes only from QUOTES_FROM_MS, none between GAP_FROM_MS and GAP_TO_MS, to END_MS.
QUOTES_FROM_MS = 3_000
GAP_FROM_MS = 18_000
GAP_TO_MS = 32_000
END_MS = 40_000

BUY_AND_REST = '''
from decimal import Decimal

from livegate import Strategy


class BuyAndRest(Strategy):
    """Buys 0.002 at market once, then keeps one post-only bid 50 USD under the market."""

    name = "buy_and_rest"

    def __init__(self, **params):
        self.bought = False

    def on_quote(self, ctx, quote):
        if not self.bought:
            decision = ctx.submit_order(symbol=quote.symbol, side="buy", quantity=Decimal("0.002"), order_type="market")
            self.bought = decision.approved
            return
        if not ctx.open_orders(quote.symbol):
            ctx.submit_order(
                symbol=quote.symbol, side="buy", quantity=Decimal("0.002"), order_type="limit",
                price=quote.bid_price - Decimal("50"), post_only=True,
            )
'''

PROFILE = """
[strategy]
spec = "{strategy}:BuyAndRest"

[risk]
max_gross_notional_usd = 5000
max_open_orders = 4
max_orders_per_day = 10000
"""


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, list(reader)


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def crafted_replay(root: Path) -> tuple[Path, Path]:
    """Write quotes and trades cut from the bundled sample to the layout above; return their paths."""
    quotes_src, trades_src = bundled_sample()
    q_header, quotes = _rows(quotes_src)
    t_header, trades = _rows(trades_src)
    q_ts, t_ts = q_header.index("ts_event_ms"), t_header.index("ts_event_ms")
    start = int(trades[0][t_ts])

    def quote_kept(row: list[str]) -> bool:
        offset = int(row[q_ts]) - start
        return QUOTES_FROM_MS <= offset < END_MS and not GAP_FROM_MS <= offset < GAP_TO_MS

    quotes_out, trades_out = root / "quotes.csv.gz", root / "trades.csv.gz"
    _write(quotes_out, q_header, [r for r in quotes if quote_kept(r)])
    _write(trades_out, t_header, [r for r in trades if int(r[t_ts]) - start < END_MS])
    return quotes_out, trades_out


def buy_and_rest_profile(root: Path) -> Path:
    """Write the BuyAndRest strategy and a profile running it with a few caps; return the profile."""
    strategy = root / "buy_and_rest.py"
    strategy.write_text(BUY_AND_REST, encoding="utf-8")
    profile = root / "profile.toml"
    profile.write_text(PROFILE.format(strategy=strategy), encoding="utf-8")
    return profile


def tiny_replay(root: Path, rows: int = 50) -> list[str]:
    """Write the first ``rows`` quotes and trades of the bundled sample; return their ``livegate run`` options."""
    quotes_src, trades_src = bundled_sample()
    q_header, quotes = _rows(quotes_src)
    t_header, trades = _rows(trades_src)
    quotes_out, trades_out = root / "tiny_quotes.csv.gz", root / "tiny_trades.csv.gz"
    _write(quotes_out, q_header, quotes[:rows])
    _write(trades_out, t_header, trades[:rows])
    return ["--quotes", str(quotes_out), "--trades", str(trades_out)]
