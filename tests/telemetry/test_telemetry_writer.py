"""Specification of the telemetry writer and the shipped schema."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from livegate.domain.enums import Liquidity, Side
from livegate.telemetry import CHECK_OK, TELEMETRY_SCHEMA_VERSION, TelemetryWriter, check_telemetry, load_schema


def _session(writer: TelemetryWriter) -> None:
    writer.emit("session_started", 1, mode="paper", session_id="abc", seed=7)
    writer.emit("bad_row", 2, file="quotes.csv.gz", line=17, reason="crossed quote")
    writer.emit("decision", 3, client_order_id="c1", approved=False, code="STALE_QUOTE", detail="age 2,500 ms")
    writer.emit("decision", 3, client_order_id="c2", approved=True, code=None, detail="")
    writer.emit("order_report", 4, client_order_id="c2", status="accepted")
    writer.emit(
        "fill", 5, client_order_id="c2", symbol="BTCUSDT", side=Side.BUY, price=Decimal("60000.10"),
        quantity=Decimal("0.010"), fee=Decimal("0.024"), liquidity=Liquidity.TAKER,
    )  # fmt: skip
    writer.emit("heartbeat", 6, quotes_processed=1000, trades_processed=400, latency_ms={"p50": 0.2, "p99": 1.5})
    writer.emit("trading_state", 7, state="halted", reason="daily loss")
    writer.emit("kill", 7, state="halted", reason="daily loss")
    writer.emit("anomaly", 8, anomaly_kind="clock_skew", detail="venue 2 s ahead")
    writer.emit("session_ended", 9, quotes_processed=1000, bad_rows=1)


def test_schema_when_loaded_then_valid_draft_2020_12() -> None:
    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_writer_when_session_written_then_checker_passes(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.jsonl"
    with TelemetryWriter(path) as writer:
        _session(writer)
    result = check_telemetry(path)
    assert (result.code, result.errors, result.lines) == (CHECK_OK, [], 11)


def test_writer_when_emitting_then_common_keys_first_and_t_counts_from_one(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.jsonl"
    with TelemetryWriter(path) as writer:
        _session(writer)
        assert writer.last_t == 11
    lines = [json.loads(text) for text in path.read_text().splitlines()]
    assert [line["t"] for line in lines] == list(range(1, 12))
    assert all(list(line)[:4] == ["schema_version", "t", "kind", "ts_ms"] for line in lines)
    assert {line["schema_version"] for line in lines} == {TELEMETRY_SCHEMA_VERSION}
    fill = lines[5]
    assert (fill["price"], fill["quantity"], fill["side"], fill["liquidity"]) == (60000.1, 0.01, "buy", "taker")


def test_writer_when_fewer_lines_than_flush_interval_then_buffered_until_flush(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.jsonl"
    writer = TelemetryWriter(path, flush_every_lines=3)
    writer.emit("heartbeat", 1, quotes_processed=1, trades_processed=0)
    writer.emit("heartbeat", 2, quotes_processed=2, trades_processed=0)
    assert path.read_text() == ""
    writer.emit("heartbeat", 3, quotes_processed=3, trades_processed=0)
    assert len(path.read_text().splitlines()) == 3
    writer.emit("heartbeat", 4, quotes_processed=4, trades_processed=0)
    writer.flush()
    assert len(path.read_text().splitlines()) == 4
    writer.close()
    writer.close()


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), float("nan"), float("-inf")])
def test_writer_when_number_not_finite_then_value_error_and_nothing_written(tmp_path: Path, value: object) -> None:
    with TelemetryWriter(tmp_path / "t.jsonl") as writer:
        with pytest.raises(ValueError, match="not finite"):
            writer.emit("heartbeat", 1, quotes_processed=1, trades_processed=0, spread_bps={"last": value})
        assert writer.last_t == 0


def test_writer_when_kind_unknown_or_required_field_missing_then_value_error(tmp_path: Path) -> None:
    with TelemetryWriter(tmp_path / "t.jsonl") as writer:
        with pytest.raises(ValueError, match="unknown telemetry kind"):
            writer.emit("typo", 1)
        with pytest.raises(ValueError, match=r"lacks required fields \['trades_processed'\]"):
            writer.emit("heartbeat", 1, quotes_processed=1)


def test_writer_when_reserved_field_passed_then_value_error(tmp_path: Path) -> None:
    with TelemetryWriter(tmp_path / "t.jsonl") as writer:
        with pytest.raises(ValueError, match=r"reserved.*anomaly_kind"):
            writer.emit("anomaly", 1, kind="clock_skew", detail="x")
        with pytest.raises(ValueError, match="reserved"):
            writer.emit("anomaly", 1, anomaly_kind="clock_skew", detail="x", t=5)


def test_writer_when_value_not_json_ready_or_ts_not_int_then_type_error(tmp_path: Path) -> None:
    with TelemetryWriter(tmp_path / "t.jsonl") as writer:
        with pytest.raises(TypeError, match="bytes"):
            writer.emit("anomaly", 1, anomaly_kind="a", detail=b"x")
        with pytest.raises(TypeError, match="ts_ms"):
            writer.emit("anomaly", 1.5, anomaly_kind="a", detail="x")  # type: ignore[arg-type]


def test_writer_when_closed_then_emit_refused(tmp_path: Path) -> None:
    writer = TelemetryWriter(tmp_path / "t.jsonl")
    writer.close()
    with pytest.raises(ValueError, match="closed"):
        writer.emit("kill", 1, state="halted", reason="x")


def test_writer_when_appending_then_t_continues_and_file_still_valid(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.jsonl"
    with TelemetryWriter(path) as writer:
        _session(writer)
    with TelemetryWriter(path, append=True) as writer:
        writer.emit("session_started", 10, mode="paper", session_id="abc")
        assert writer.last_t == 12
    assert check_telemetry(path).code == CHECK_OK


def test_writer_when_flush_interval_below_one_then_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="flush_every_lines"):
        TelemetryWriter(tmp_path / "t.jsonl", flush_every_lines=0)


def test_writer_when_a_line_passed_before_then_later_lines_are_still_checked_by_their_own_fields(
    tmp_path: Path,
) -> None:
    with TelemetryWriter(tmp_path / "t.jsonl") as writer:
        writer.emit("heartbeat", 1, quotes_processed=1, trades_processed=0)
        writer.emit("heartbeat", 2, trades_processed=0, quotes_processed=2)  # same names, another order: fine
        with pytest.raises(ValueError, match=r"lacks required fields \['trades_processed'\]"):
            writer.emit("heartbeat", 3, quotes_processed=3)
        with pytest.raises(ValueError, match="reserved"):
            writer.emit("heartbeat", 4, quotes_processed=4, trades_processed=0, t=9)
        with pytest.raises(ValueError, match="unknown telemetry kind"):
            writer.emit("heartbeats", 5, quotes_processed=5, trades_processed=0)
        writer.emit("heartbeat", 6, quotes_processed=6, trades_processed=0)
        assert writer.last_t == 3
    lines = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert [line["quotes_processed"] for line in lines] == [1, 2, 6]


_COUNTS = st.integers(min_value=0, max_value=2**53)
_USD = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(ts=_COUNTS, counts=st.tuples(_COUNTS, _COUNTS, _COUNTS, _COUNTS, _COUNTS), pnl=_USD, drawdown=_USD)
def test_emit_heartbeat_when_any_counts_and_finite_figures_then_the_same_line_as_emit(
    tmp_path_factory: pytest.TempPathFactory, ts: int, counts: tuple[int, ...], pnl: float, drawdown: float
) -> None:
    folder = tmp_path_factory.mktemp("hb")
    fields = dict(zip(("quotes_processed", "trades_processed", "intents", "fills", "open_orders"), counts, strict=True))
    with TelemetryWriter(folder / "a.jsonl") as general, TelemetryWriter(folder / "b.jsonl") as direct:
        general.emit("heartbeat", ts, **fields, pnl_total_usd=pnl, drawdown_usd=drawdown)
        direct.emit_heartbeat(ts, **fields, pnl_total_usd=pnl, drawdown_usd=drawdown)
        general.emit("heartbeat", ts + 1, **fields, pnl_total_usd=Decimal(repr(pnl)), drawdown_usd=drawdown)
        direct.emit_heartbeat(ts + 1, **fields, pnl_total_usd=pnl, drawdown_usd=drawdown)
    assert (folder / "a.jsonl").read_text() == (folder / "b.jsonl").read_text()


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_emit_heartbeat_when_a_figure_is_not_finite_then_value_error_and_nothing_written(
    tmp_path: Path, bad: float
) -> None:
    with TelemetryWriter(tmp_path / "t.jsonl") as writer:
        with pytest.raises(ValueError, match="not finite"):
            writer.emit_heartbeat(1, quotes_processed=1, trades_processed=0, intents=0, fills=0, open_orders=0,
                                  pnl_total_usd=bad, drawdown_usd=0.0)  # fmt: skip
        with pytest.raises(TypeError):
            writer.emit_heartbeat(True, quotes_processed=1, trades_processed=0, intents=0, fills=0, open_orders=0,
                                  pnl_total_usd=0.0, drawdown_usd=0.0)  # fmt: skip
        assert writer.last_t == 0
