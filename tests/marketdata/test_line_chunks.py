"""Reading bytes in pieces of whole lines gives what text-mode reading gave: the same lines, ints and groups."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livegate.domain.market import Quote
from livegate.marketdata.line_chunks import Part, groups_of_lines, ints_of, line_chunks, split_header, text_lines

#: Bytes that end lines (or look as if they might) among plain ones, and a two-byte UTF-8 character.
LINE_BYTES = st.lists(st.sampled_from([b"a", b"1", b",", b"\n", b"\r", b"\r\n", b"\x0b", b"\xc3\xa9", b"\xe2\x80\xa8"]))
#: Text an integer field may hold: what int() takes and what JSON takes differ in many of these.
INT_TEXT = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(alphabet="0123456789 +-_.eE\t\x0b\x0c\x1c[]{}\"'x", max_size=6),
    st.builds(lambda a, b: f"{a}{b}", st.sampled_from(["", " ", "0", "+", "-", "\t", "00"]), st.integers(0, 10**20)),
)


def _text_mode_lines(data: bytes) -> list[str]:
    """The lines of ``data`` read the way the readers used to: a UTF-8 text file opened with ``newline=""``."""
    return list(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline=""))


@settings(max_examples=200, deadline=None)
@given(pieces=LINE_BYTES, rest=st.sampled_from([b"", b"x", b"x\r", b"\n"]), size=st.integers(1, 40))
def test_line_chunks_when_any_bytes_and_read_size_then_pieces_of_whole_lines_that_join_to_the_input(
    pieces: list[bytes], rest: bytes, size: int
) -> None:
    data = b"".join(pieces)
    chunks = list(line_chunks(io.BytesIO(data), rest, size))
    assert b"".join(chunks) == rest + data
    assert all(chunks)
    assert all(chunk.endswith(b"\n") for chunk in chunks[:-1])


@settings(max_examples=200, deadline=None)
@given(pieces=LINE_BYTES, size=st.integers(1, 40))
def test_text_lines_when_chunks_of_any_text_then_the_lines_of_a_text_mode_file(pieces: list[bytes], size: int) -> None:
    data = b"".join(pieces)
    lines = [line for chunk in line_chunks(io.BytesIO(data), b"", size) for line in text_lines(chunk)]
    assert lines == _text_mode_lines(data)


@settings(max_examples=200, deadline=None)
@given(pieces=LINE_BYTES, size=st.integers(1, 40))
def test_split_header_when_any_first_line_then_the_header_and_lines_of_a_text_mode_file(
    pieces: list[bytes], size: int
) -> None:
    data = b"".join(pieces)
    raw = io.BytesIO(data)
    header, rest = split_header(raw)
    lines = [line for chunk in line_chunks(raw, rest, size) for line in text_lines(chunk)]
    expected = _text_mode_lines(data)
    assert [header, *lines] == (expected or [""])


def test_text_lines_when_not_utf8_then_unicode_decode_error() -> None:
    with pytest.raises(UnicodeDecodeError):
        text_lines(b"1,2,BTC\xffUSDT\n")


@settings(max_examples=500, deadline=None)
@given(texts=st.lists(INT_TEXT, max_size=6))
def test_ints_of_when_any_field_texts_then_the_ints_or_the_value_error_of_int(texts: list[str]) -> None:
    fields = [text.encode() for text in texts]
    try:
        expected = [int(text) for text in texts]  # the row-by-row reader: int() of the text
    except ValueError:
        with pytest.raises(ValueError):
            ints_of(fields)
        return
    assert ints_of(fields) == expected


@pytest.mark.parametrize("text", ["007", "+5", "1_000", " 12 ", "-0", "\t3", "99999999999999999999999"])
def test_ints_of_when_text_json_reads_otherwise_then_what_int_reads(text: str) -> None:
    assert ints_of([b"1", text.encode()]) == [1, int(text)]


@pytest.mark.parametrize("text", ["1.0", "1e3", "", " ", "[1]", "1 2", "0x10", "\x1c5"])
def test_ints_of_when_text_is_no_integer_to_int_then_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        ints_of([b"1", text.encode()])


def _quote(i: int) -> Quote:
    return Quote("BTCUSDT", Decimal(1), Decimal(1), Decimal(2), Decimal(1), i, i)


@settings(max_examples=100, deadline=None)
@given(kinds=st.lists(st.tuples(st.booleans(), st.integers(0, 7))), size=st.integers(1, 9))
def test_groups_of_lines_when_any_parts_then_groups_of_exactly_size_lines_in_order(
    kinds: list[tuple[bool, int]], size: int
) -> None:
    parts, expected, n = [], [], 0
    for parsed, length in kinds:
        items = list(range(n, n + length))
        n += length
        expected += items
        parts.append(Part([_quote(i) for i in items], []) if parsed else Part([], [str(i) for i in items]))
    groups = list(groups_of_lines(parts, size))
    lengths = [sum(len(part.events) + len(part.lines) for part in group) for group in groups]
    assert lengths == [size] * (n // size) + ([n % size] if n % size else [])
    order = [
        item
        for group in groups
        for part in group
        for item in ([event.ts_event_ms for event in part.events] or [int(line) for line in part.lines])
    ]
    assert order == expected
