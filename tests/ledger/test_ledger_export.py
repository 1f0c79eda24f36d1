"""Specification of ledger exports on a small session written through the public API."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from livegate.domain.enums import Side
from livegate.domain.errors import DataError
from livegate.ledger import (
    CANCEL_REQUESTED,
    DECISION,
    FILL,
    INTENT,
    LEDGER_FILENAME,
    ORDER_REPORT,
    SESSION_ENDED,
    SESSION_STARTED,
    SUBMIT_REQUESTED,
    Ledger,
    export_rows,
    write_export,
    write_rows,
)
from tests.ledger.helpers import make_fill, make_intent


@pytest.fixture
def session(tmp_path: Path) -> Path:
    path = tmp_path / LEDGER_FILENAME
    a, b, c = "lgs-a-0", "lgs-a-1", "lgs-a-2"
    with Ledger.open(path, synchronous="OFF") as ledger:
        ledger.append(SESSION_STARTED, 1, {"session_id": "s", "mode": "paper", "seed": 7})
        # a: approved, two fills, filled
        ledger.append(INTENT, 10, {"client_order_id": a, **make_intent(0).to_record()})
        ledger.append(
            DECISION, 10, {"client_order_id": a, "approved": True, "code": None, "detail": "", "venue": "paper"}
        )
        ledger.append(SUBMIT_REQUESTED, 11, {"client_order_id": a, "venue": "paper"})
        ledger.append(
            ORDER_REPORT,
            12,
            {
                "client_order_id": a,
                "status": "accepted",
                "venue_order_id": "v1",
                "code": "",
                "reason": "",
                "filled_quantity": None,
            },
        )
        with ledger.transaction():
            ledger.append(FILL, 13, make_fill(a, "f1", "60000.10", "0.004", "0.024", 13).to_record())
            ledger.append(FILL, 13, make_fill(a, "f2", "60000.20", "0.006", "0.036", 13).to_record())
        # b: denied
        ledger.append(INTENT, 20, {"client_order_id": b, **make_intent(1, side=Side.SELL, price=None).to_record()})
        ledger.append(
            DECISION,
            20,
            {
                "client_order_id": b,
                "approved": False,
                "code": "STALE_QUOTE",
                "detail": "age 2,500 ms > 1,000 ms",
                "venue": "paper",
            },
        )
        # c: approved, partial fill, then cancelled
        ledger.append(INTENT, 30, {"client_order_id": c, **make_intent(2, quantity="1").to_record()})
        ledger.append(
            DECISION, 30, {"client_order_id": c, "approved": True, "code": None, "detail": "", "venue": "paper"}
        )
        ledger.append(SUBMIT_REQUESTED, 31, {"client_order_id": c, "venue": "paper"})
        ledger.append(FILL, 32, make_fill(c, "f3", "59999.90", "0.3", "0.1", 32).to_record())
        ledger.append(CANCEL_REQUESTED, 33, {"client_order_id": c, "reason": "operator"})
        ledger.append(
            ORDER_REPORT,
            34,
            {
                "client_order_id": c,
                "status": "cancelled",
                "venue_order_id": "v3",
                "code": "",
                "reason": "",
                "filled_quantity": "0.3",
            },
        )
        ledger.append(SESSION_ENDED, 40, {"reason": "end of data"})
    return path


def test_export_fills_when_session_then_one_row_per_fill_with_exact_strings(session: Path) -> None:
    columns, rows = export_rows(session, "fills")
    assert columns[:8] == ["ts_ms", "client_order_id", "symbol", "side", "price", "quantity", "fee", "liquidity"]
    assert {"fill_id", "venue"} <= set(columns)
    assert [(r["fill_id"], r["price"], r["quantity"], r["fee"]) for r in rows] == [
        ("f1", "60000.10", "0.004", "0.024"),
        ("f2", "60000.20", "0.006", "0.036"),
        ("f3", "59999.90", "0.3", "0.1"),
    ]
    assert rows[0]["ts_ms"] == 13 and rows[0]["liquidity"] == "taker" and rows[0]["venue"] == "paper"


def test_export_orders_when_session_then_folds_each_client_order_id(session: Path) -> None:
    columns, rows = export_rows(session, "orders")
    for name in (
        "client_order_id", "ts_ms", "symbol", "side", "order_type", "quantity", "price", "time_in_force",
        "post_only", "reduce_only", "venue", "decision", "denial_code", "denial_detail", "status",
        "filled_quantity", "average_fill_price", "fees",
    ):  # fmt: skip
        assert name in columns
    a, b, c = rows
    assert a["client_order_id"] == "lgs-a-0"
    assert (a["ts_ms"], a["symbol"], a["side"], a["order_type"], a["quantity"], a["price"]) == (
        1_723_100_000_000, "BTCUSDT", "buy", "limit", "0.010", "60000.10"
    )  # fmt: skip
    assert (a["decision"], a["status"], a["filled_quantity"], a["average_fill_price"], a["fees"]) == (
        "approved", "filled", "0.010", "60000.16", "0.060"
    )  # fmt: skip
    assert (a["venue"], a["venue_order_id"], a["post_only"], a["time_in_force"]) == ("paper", "v1", False, "gtc")
    assert (b["decision"], b["denial_code"], b["denial_detail"], b["status"]) == (
        "denied", "STALE_QUOTE", "age 2,500 ms > 1,000 ms", ""
    )  # fmt: skip
    assert (b["order_type"], b["price"], b["filled_quantity"], b["average_fill_price"]) == ("market", None, "0", None)
    assert (c["status"], c["filled_quantity"], c["average_fill_price"], c["fees"]) == (
        "cancelled",
        "0.3",
        "59999.90",
        "0.1",
    )


def test_export_events_when_session_then_every_event_in_seq_order(session: Path) -> None:
    columns, rows = export_rows(session, "events")
    assert columns == ["seq", "ts_ms", "kind", "payload", "hash"]
    assert [r["seq"] for r in rows] == list(range(1, 17))
    assert rows[0]["kind"] == SESSION_STARTED and rows[0]["payload"] == {"session_id": "s", "mode": "paper", "seed": 7}


def test_write_export_when_csv_then_header_empty_none_and_lowercase_bools(session: Path) -> None:
    stream = io.StringIO()
    assert write_export(session, "orders", "csv", stream) == 3
    parsed = list(csv.DictReader(io.StringIO(stream.getvalue())))
    assert parsed[1]["price"] == "" and parsed[1]["status"] == ""
    assert parsed[0]["post_only"] == "false" and parsed[0]["average_fill_price"] == "60000.16"


def test_write_export_when_csv_events_then_payload_is_canonical_json(session: Path) -> None:
    stream = io.StringIO()
    write_export(session, "events", "csv", stream)
    first = next(csv.DictReader(io.StringIO(stream.getvalue())))
    assert first["payload"] == '{"mode":"paper","seed":7,"session_id":"s"}'


def test_write_rows_when_jsonl_then_one_object_per_row_with_columns_in_order(session: Path) -> None:
    columns, rows = export_rows(session, "fills")
    stream = io.StringIO()
    write_rows(stream, columns, rows, "jsonl")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    first = json.loads(lines[0])
    assert list(first) == columns and first["price"] == "60000.10"


def test_export_when_kind_or_format_unknown_then_value_error(session: Path) -> None:
    with pytest.raises(ValueError, match="export kind"):
        export_rows(session, "positions")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="export format"):
        write_rows(io.StringIO(), [], [], "xml")  # type: ignore[arg-type]


def test_export_when_file_missing_then_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError):
        export_rows(tmp_path / "missing.sqlite", "fills")
