"""Property: the merged replay is ordered by (ts_event_ms, ts_recv_ns, source order)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from livegate.domain.market import Quote
from livegate.marketdata import load_replay

QUOTES_HEADER = "ts_recv_ns,ts_event_ms,symbol,bid_price,bid_size,ask_price,ask_size,update_id\n"
TRADES_HEADER = "ts_recv_ns,ts_event_ms,ts_trade_ms,symbol,trade_id,price,size,aggressor_side\n"

# small ranges so ties on event time and on receive time are common
stamps = st.tuples(st.integers(0, 5), st.integers(0, 3))


@settings(max_examples=60, deadline=None)
@given(quote_stamps=st.lists(stamps, max_size=25), trade_stamps=st.lists(stamps, max_size=25))
def test_load_replay_when_stamps_tie_or_disorder_then_order_is_stable_time_order(
    quote_stamps: list[tuple[int, int]], trade_stamps: list[tuple[int, int]]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        quotes_path, trades_path = Path(folder) / "q.csv", Path(folder) / "t.csv"
        quote_rows = [f"{recv},{event},Q{i},1.0,1,1.1,1,{i}\n" for i, (event, recv) in enumerate(quote_stamps)]
        trade_rows = [f"{recv},{event},{event},T,{i},1.0,1,buy\n" for i, (event, recv) in enumerate(trade_stamps)]
        quotes_path.write_text(QUOTES_HEADER + "".join(quote_rows), encoding="utf-8")
        trades_path.write_text(TRADES_HEADER + "".join(trade_rows), encoding="utf-8")
        data = load_replay(quotes_path, trades_path)

    # source order: every quote row (file 1) before every trade row (file 2), then line order
    source = [(event, recv, n, f"Q{n}") for n, (event, recv) in enumerate(quote_stamps)]
    source += [(event, recv, len(quote_stamps) + n, f"T#{n}") for n, (event, recv) in enumerate(trade_stamps)]
    expected = [label for *_, label in sorted(source)]
    got = [e.symbol if isinstance(e, Quote) else f"T#{e.trade_id}" for e in data.events]
    assert got == expected
    assert (data.quotes, data.trades) == (len(quote_stamps), len(trade_stamps))
