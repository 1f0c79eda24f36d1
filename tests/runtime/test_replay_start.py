"""skip_processed: where a resumed replay continues (cursor first, else the ledger's last event time)."""

from __future__ import annotations

from decimal import Decimal

from livegate.domain.enums import Side
from livegate.domain.market import Quote, Trade
from livegate.runtime.replay_start import skip_processed

D = Decimal


def _replay() -> list[list[Quote | Trade]]:
    """Three blocks: quotes of two symbols and a trade, times 100..900 ms."""

    def q(symbol: str, ts: int) -> Quote:
        return Quote(symbol, D("100"), D("1"), D("101"), D("1"), ts)

    trade = Trade("BTCUSDT", D("100.5"), D("0.1"), Side.BUY, "t1", 400)
    return [
        [q("BTCUSDT", 100), q("ETHUSDT", 200), q("BTCUSDT", 300)],
        [trade, q("ETHUSDT", 500), q("BTCUSDT", 600)],
        [q("BTCUSDT", 700), q("ETHUSDT", 800), q("BTCUSDT", 900)],
    ]


def _rest(start_blocks: object) -> list[int]:
    return [e.ts_event_ms for block in start_blocks for e in block]  # type: ignore[attr-defined]


def test_skip_processed_when_new_run_then_starts_at_zero_with_every_event() -> None:
    begin = skip_processed(iter(_replay()), None, None)
    assert (begin.start, begin.first_ts_ms, begin.last_skipped_ts_ms) == (0, 100, None)
    assert _rest(begin.blocks) == [100, 200, 300, 400, 500, 600, 700, 800, 900]


def test_skip_processed_when_cursor_marks_event_4_then_continues_at_event_5_with_marks() -> None:
    begin = skip_processed(iter(_replay()), 4, 300)
    assert begin.start == 5
    assert _rest(begin.blocks) == [600, 700, 800, 900]
    assert (begin.quotes, begin.trades) == (4, 1)
    assert begin.last_skipped_ts_ms == 500
    assert {s: q.ts_event_ms for s, q in begin.last_quotes.items()} == {"BTCUSDT": 300, "ETHUSDT": 500}
    assert begin.first_ts_ms == 100


def test_skip_processed_when_no_cursor_then_continues_after_the_ledger_last_event_time() -> None:
    begin = skip_processed(iter(_replay()), None, 650)
    assert begin.start == 6
    assert _rest(begin.blocks) == [700, 800, 900]


def test_skip_processed_when_cursor_beyond_the_end_then_nothing_left() -> None:
    begin = skip_processed(iter(_replay()), 50, 900)
    assert begin.start == 9
    assert _rest(begin.blocks) == []
    assert begin.last_skipped_ts_ms == 900


def test_skip_processed_when_replay_empty_then_start_zero() -> None:
    begin = skip_processed(iter([]), 3, 100)
    assert (begin.start, begin.first_ts_ms, _rest(begin.blocks)) == (0, 0, [])
