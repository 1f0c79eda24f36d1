"""Blocks cross from a reader process as columns: the decoder rebuilds exactly the events encoded."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livegate.domain.enums import Side
from livegate.domain.market import Quote, Trade
from livegate.marketdata.block_codec import BlockDecoder, BlockEncoder, SerialDecimal

# equal values written differently: the codec must not merge them (ledger text would change)
TEXTS = ["1", "1.0", "1.00", "0.001", "0.0010", "61800.2", "61800.20", "1E+3", "1000"]
SYMBOLS = ["BTCUSDT", "ETHUSDT"]
TIMES = st.one_of(st.integers(0, 2**62), st.integers(-(2**70), 2**70))  # beyond 64 bits: sent as values


class _SerialCache(dict[str, Decimal]):
    """What the reader process's parse cache does: one SerialDecimal per text, registered when made."""

    def __init__(self, encoder: BlockEncoder) -> None:
        super().__init__()
        self.encoder = encoder

    def __missing__(self, text: str) -> Decimal:
        value = self[text] = SerialDecimal(text)
        self.encoder.register(value)
        return value


def _same(decoded: object, original: object) -> bool:
    """Equal, same type (plain Decimal, never the subclass) and same text, field by field."""
    assert isinstance(decoded, tuple) and isinstance(original, tuple)
    for a, b in zip(decoded, original, strict=True):
        want = Decimal if isinstance(b, Decimal) else type(b)
        if type(a) is not want or str(a) != str(b) or a != b:
            return False
    return type(decoded) is type(original)


@st.composite
def _blocks(draw: st.DrawFn) -> list[list[tuple[str, ...]]]:
    """Blocks of rows: (kind, symbol, 4 texts, whether a text comes from the serial cache)."""
    row = st.tuples(
        st.sampled_from(["quote", "trade"]),
        st.sampled_from(SYMBOLS),
        *(st.sampled_from(TEXTS) for _ in range(4)),
        st.sampled_from(["cache", "plain"]),
    )
    mixed = draw(st.booleans())
    blocks = draw(st.lists(st.lists(row, min_size=1, max_size=30), min_size=1, max_size=12))
    if not mixed:  # one event type per block, as a CSV reader yields
        blocks = [[(block[0][0], *r[1:]) for r in block] for block in blocks]
    return blocks


@settings(max_examples=150, deadline=None)
@given(
    blocks=_blocks(), limit=st.integers(1, 12), times=st.lists(TIMES, min_size=2, max_size=2), constant=st.booleans()
)
def test_codec_when_blocks_cross_then_every_event_comes_back_with_same_types_and_texts(
    blocks: list[list[tuple[str, ...]]], limit: int, times: list[int], constant: bool
) -> None:
    # a small table limit starts the table afresh often: cached values then carry stale serials
    encoder, decoder = BlockEncoder(limit=limit), BlockDecoder()
    cache = _SerialCache(encoder)
    one = Decimal("2.50")  # the same object in every row: sent as one place
    for rows in blocks:
        block: list[Quote | Trade] = []
        for i, (kind, symbol, a, b, c, d, source) in enumerate(rows):
            value = cache.__getitem__ if source == "cache" else Decimal
            ts, recv = times[0] + i, times[1]
            if kind == "quote":
                size = one if constant else value(b)
                block.append(Quote(symbol, value(a), size, value(c), value(d), ts, recv, "binance"))
            else:
                side = Side.BUY if i % 2 else Side.SELL
                block.append(Trade(symbol, value(a), value(b), side, f"t{i}", ts, recv, "binance"))
        decoded = decoder.decode(encoder.encode(block))
        assert len(decoded) == len(block)
        assert all(_same(x, y) for x, y in zip(decoded, block, strict=True))


def test_codec_when_a_value_is_int_subclass_then_it_keeps_its_type() -> None:
    encoder, decoder = BlockEncoder(), BlockDecoder()
    block: list[Quote | Trade] = [
        Quote("BTCUSDT", Decimal(1), Decimal(1), Decimal(2), Decimal(1), True, 5, "binance"),  # type: ignore[arg-type]
        Quote("BTCUSDT", Decimal(1), Decimal(1), Decimal(2), Decimal(1), 7, 6, "binance"),
    ]
    decoded = decoder.decode(encoder.encode(block))
    assert [type(q.ts_event_ms) for q in decoded] == [bool, int]
    assert decoded == block


def test_codec_when_an_event_is_neither_quote_nor_trade_then_value_error() -> None:
    block = [Quote("BTCUSDT", Decimal(1), Decimal(1), Decimal(2), Decimal(1), 1, 1, "binance"), ("not", "an event")]
    with pytest.raises(ValueError, match="not in tuple"):
        BlockEncoder().encode(block)  # type: ignore[arg-type]
