"""The quick payload encoding (msgspec) writes the very bytes canonical JSON writes; floats keep the json text."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livegate.domain.enums import Side
from livegate.ledger import events as ev
from tests.ledger.helpers import make_fill, make_intent


def _canonical(payload: dict[str, object]) -> bytes:
    return ev.canonical_json(payload).encode("utf-8")


def test_encode_payload_plain_when_text_holds_any_code_point_then_bytes_are_canonical_json() -> None:
    points = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    for start in range(0, len(points), 4096):  # each character escaped (or not) on its own: chunks test each
        chunk = "".join(points[start : start + 4096])
        payload: dict[str, object] = {chunk: chunk, "k" + chunk[:7]: [chunk[::-1], {chunk[3:9]: chunk[:5]}]}
        assert ev.encode_payload_plain(payload) == (_canonical(payload), True)


def test_encode_payload_plain_when_keys_sort_across_scripts_then_canonical_key_order() -> None:
    payload: dict[str, object] = {"é": 1, "e": 2, "Z": 3, "\U0001f600": 4, "\uffff": 5, "": 6, "a\x00": 7, "a": 8}
    encoded, plain = ev.encode_payload_plain(payload)
    assert plain and encoded == _canonical(payload)
    assert encoded.startswith(b'{"":6,"Z":3,"a":8,"a\\u0000":7,"e":2,')


def test_encode_payload_plain_when_payloads_of_orders_and_fills_then_bytes_are_canonical_json() -> None:
    for seq in range(50):
        intent = make_intent(seq, side=Side.SELL if seq % 2 else Side.BUY, price=None if seq % 5 == 0 else "60000.1")
        fill = make_fill(f"c{seq}", f"f{seq}", "60000.10", "0.010", "0.06", 1_723_100_000_000 + seq)
        for record in (intent.to_record(), fill.to_record(), {"arrival": {"bid": "1", "ask": "2", "age_ms": 0}}):
            assert ev.encode_payload_plain(record) == (_canonical(record), True)


@pytest.mark.parametrize("value", [1e16, 1e-7, 0.1, -0.0, 2.5, 123456789.123])
def test_encode_payload_plain_when_payload_holds_a_float_then_json_text_of_the_float(value: float) -> None:
    payload: dict[str, object] = {"x": value, "nested": [{"y": value}]}
    assert ev.encode_payload_plain(payload) == (_canonical(payload), True)
    assert ev.encode_payload_plain({"x": 1e16})[0] == b'{"x":1e+16}'


def test_encode_payload_plain_when_text_holds_a_lone_surrogate_then_value_error_as_before() -> None:
    with pytest.raises(ValueError, match="not valid UTF-8"):
        ev.encode_payload_plain({"detail": "bad \ud800"})
    with pytest.raises(ValueError, match="not valid UTF-8"):
        ev.encode_payload_plain({"bad \udc00": 1})


def test_encode_payload_plain_when_values_are_subclasses_or_tuples_then_canonical_json_and_not_plain() -> None:
    payload: dict[str, object] = {"side": Side.BUY, "pair": (1, 2), "flag": True, "big": 2**80, "neg": -(2**70)}
    assert ev.encode_payload_plain(payload) == (_canonical(payload), False)


_scalars = st.none() | st.booleans() | st.integers(-(2**80), 2**80) | st.text(max_size=12)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _values, max_size=6))
def test_encode_payload_plain_when_any_json_payload_without_floats_then_bytes_are_canonical_json(
    payload: dict[str, object],
) -> None:
    try:
        expected = _canonical(payload)
    except UnicodeEncodeError:
        with pytest.raises(ValueError, match="not valid UTF-8"):
            ev.encode_payload_plain(payload)
        return
    assert ev.encode_payload_plain(payload) == (expected, True)
