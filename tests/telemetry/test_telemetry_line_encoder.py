"""Telemetry lines go through one C encoder made once: the text ``json.JSONEncoder`` writes, line after line."""

from __future__ import annotations

import json
import math
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livegate.domain.enums import Liquidity, Side
from livegate.telemetry import TelemetryWriter


def _expected(line: dict[str, object]) -> str:
    """The text of a line as the writer wrote it before: a new ``JSONEncoder`` per line, Decimals as floats."""

    def default(value: object) -> object:
        if isinstance(value, Decimal):
            return float(value)
        raise TypeError(type(value).__name__)

    encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=default)
    return encoder.encode(line) + "\n"


_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(), _TEXT, st.sampled_from([Side.BUY, Side.SELL, Liquidity.MAKER]),
    st.decimals(allow_nan=False, allow_infinity=False, places=6), st.floats(allow_nan=False, allow_infinity=False),
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.tuples(_TEXT, _VALUE, _VALUE), min_size=1, max_size=8))
def test_writer_when_many_lines_then_each_is_the_text_a_fresh_encoder_writes(
    rows: list[tuple[str, object, object]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.jsonl"
        expected = []
        with TelemetryWriter(path) as writer:
            for t, (text, first, second) in enumerate(rows, start=1):
                fields = {"client_order_id": text, "detail": first, "code": second}
                writer.emit("order_report", 1_000 + t, status="accepted", **fields)
                line = {"schema_version": 1, "t": t, "kind": "order_report", "ts_ms": 1_000 + t}
                expected.append(_expected({**line, "status": "accepted", **fields}))
        assert path.read_text(encoding="utf-8") == "".join(expected)


def test_writer_when_a_line_fails_to_encode_then_the_next_lines_are_still_right(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    expected = []
    with TelemetryWriter(path) as writer:
        for ts_ms in range(1, 4):  # a failed pass may leave the failed line's containers in the encoder's markers
            with pytest.raises(ValueError, match="not finite"):
                writer.emit("order_report", ts_ms, client_order_id="c1", status="accepted", detail=[{"x": math.nan}])
            with pytest.raises(TypeError, match="detail"):
                writer.emit("order_report", ts_ms, client_order_id="c1", status="accepted", detail=[object()])
            nested = [{"a": [1, 2]}, {"a": [1, 2]}]  # the same shape twice is not a cycle
            price = Decimal("1.5")
            writer.emit("order_report", ts_ms, client_order_id="c1", status="accepted", detail=nested, price=price)
            line = {"schema_version": 1, "t": ts_ms, "kind": "order_report", "ts_ms": ts_ms, "client_order_id": "c1"}
            expected.append(_expected({**line, "status": "accepted", "detail": nested, "price": Decimal("1.5")}))
    assert path.read_text(encoding="utf-8") == "".join(expected)


def test_writer_when_the_json_module_takes_other_encoder_arguments_then_lines_are_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = json.encoder.c_make_encoder
    calls: list[int] = []

    def other_signature(*args: object) -> object:
        # the writer's own call (made when it opens) is refused, as by a Python whose internal
        # encoder maker takes other arguments; the json module's own calls still work
        calls.append(len(args))
        if len(calls) == 1:
            raise TypeError(f"takes other arguments than {len(args)}")
        return real(*args)  # type: ignore[misc]

    monkeypatch.setattr(json.encoder, "c_make_encoder", other_signature)
    path = tmp_path / "t.jsonl"
    with TelemetryWriter(path) as writer:
        writer.emit("order_report", 7, client_order_id="c1", status="accepted", price=Decimal("2.25"))
    line = {"schema_version": 1, "t": 1, "kind": "order_report", "ts_ms": 7, "client_order_id": "c1"}
    assert path.read_text(encoding="utf-8") == _expected({**line, "status": "accepted", "price": Decimal("2.25")})
    assert len(calls) >= 2  # the line went through the json module's encoder
