"""Heartbeat USD figures: converted once per change (FloatOf), the line's text always that of ``emit``."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livegate.telemetry.writer import FloatOf, TelemetryWriter

_COUNTS = {"quotes_processed": 10, "trades_processed": 2, "intents": 1, "fills": 1, "open_orders": 0}
_DECIMALS = st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, allow_infinity=False, places=7)


def test_float_of_when_the_value_is_unchanged_then_the_same_float_object() -> None:
    float_of = FloatOf()
    first = float_of(Decimal("-6.2213116"))
    assert first == -6.2213116
    assert float_of(Decimal("-6.22131160")) is first  # equal value, other exponent: the same float
    changed = float_of(Decimal("-6.2213117"))
    assert changed == -6.2213117
    assert changed is not first


def test_float_of_when_a_zero_changes_sign_then_a_float_of_that_sign() -> None:
    float_of = FloatOf()
    assert repr(float_of(Decimal("0"))) == "0.0"
    assert repr(float_of(Decimal("-0"))) == "-0.0"  # -0 == 0, yet float() keeps the sign
    assert repr(float_of(Decimal("0.00"))) == "0.0"


@settings(max_examples=100, deadline=None)
@given(figures=st.lists(st.tuples(_DECIMALS | st.sampled_from([Decimal("0"), Decimal("-0")]), _DECIMALS), max_size=12))
def test_emit_heartbeat_when_figures_change_repeat_and_return_then_each_line_is_the_line_emit_writes(
    tmp_path_factory: pytest.TempPathFactory, figures: list[tuple[Decimal, Decimal]]
) -> None:
    folder = tmp_path_factory.mktemp("hb")
    pnl_of, drawdown_of = FloatOf(), FloatOf()
    with TelemetryWriter(folder / "a.jsonl") as general, TelemetryWriter(folder / "b.jsonl") as direct:
        for ts, (pnl, drawdown) in enumerate(figures + figures[::-1] + figures, start=1):
            general.emit("heartbeat", ts, **_COUNTS, pnl_total_usd=float(pnl), drawdown_usd=float(drawdown))
            direct.emit_heartbeat(ts, **_COUNTS, pnl_total_usd=pnl_of(pnl), drawdown_usd=drawdown_of(drawdown))
    assert (folder / "a.jsonl").read_text() == (folder / "b.jsonl").read_text()


def test_emit_heartbeat_when_equal_floats_are_other_objects_then_still_checked_and_written(tmp_path: Path) -> None:
    with TelemetryWriter(tmp_path / "t.jsonl") as writer:
        writer.emit_heartbeat(1, **_COUNTS, pnl_total_usd=0.0, drawdown_usd=0.0)
        writer.emit_heartbeat(2, **_COUNTS, pnl_total_usd=-0.0, drawdown_usd=0.0)  # equal to 0.0, another text
        with pytest.raises(ValueError, match="not finite"):
            writer.emit_heartbeat(3, **_COUNTS, pnl_total_usd=float("nan"), drawdown_usd=0.0)
    lines = (tmp_path / "t.jsonl").read_text().splitlines()
    assert len(lines) == 2
    assert '"pnl_total_usd":0.0,' in lines[0]
    assert '"pnl_total_usd":-0.0,' in lines[1]
