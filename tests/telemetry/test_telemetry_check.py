"""Specification of ``check_telemetry``: exit codes and line-numbered errors per violation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from livegate.telemetry import CHECK_OK, CHECK_UNREADABLE, CHECK_VIOLATION, check_telemetry

GOOD = [
    {"schema_version": 1, "t": 1, "kind": "session_started", "ts_ms": 1, "mode": "paper", "session_id": "s"},
    {"schema_version": 1, "t": 2, "kind": "heartbeat", "ts_ms": 2, "quotes_processed": 5, "trades_processed": 1},
    {"schema_version": 1, "t": 3, "kind": "session_ended", "ts_ms": 3, "quotes_processed": 5, "bad_rows": 0},
]


HB = '{"schema_version": 1, "t": 2, "kind": "heartbeat", "ts_ms": 2, '
V1 = '{"schema_version": 1, "t": 2, '
COUNTS = '"quotes_processed": 1, "trades_processed": 1}'


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "telemetry.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _good_lines() -> list[str]:
    return [json.dumps(line) for line in GOOD]


def test_check_when_valid_then_code_0(tmp_path: Path) -> None:
    result = check_telemetry(_write(tmp_path, _good_lines()))
    assert (result.code, result.errors, result.lines) == (CHECK_OK, [], 3)


def test_check_when_unknown_fields_then_still_valid(tmp_path: Path) -> None:
    lines = _good_lines()
    lines[1] = lines[1][:-1] + ', "new_field": [1, 2, {"x": null}]}'
    assert check_telemetry(_write(tmp_path, lines)).code == CHECK_OK


def test_check_when_missing_file_then_code_2(tmp_path: Path) -> None:
    result = check_telemetry(tmp_path / "absent.jsonl")
    assert result.code == CHECK_UNREADABLE and "absent.jsonl" in result.errors[0]


def test_check_when_path_is_directory_then_code_2(tmp_path: Path) -> None:
    assert check_telemetry(tmp_path).code == CHECK_UNREADABLE


@pytest.mark.parametrize(
    ("bad_line", "fragment"),
    [
        ("not json at all", "not valid JSON"),
        ("[1, 2, 3]", "not a JSON object"),
        ("", "empty line"),
        (HB + '"quotes_processed": NaN, "trades_processed": 1}', "NaN"),
        (HB + '"quotes_processed": 1, "trades_processed": -Infinity}', "Infinity"),
        (HB + '"quotes_processed": 1, "trades_processed": 1, "x": 1e999}', "finite"),
        (V1 + '"t": 3, "kind": "heartbeat", "ts_ms": 2, ' + COUNTS, "duplicate key"),
        ('{"schema_version": 2, "t": 2, "kind": "heartbeat", "ts_ms": 2, ' + COUNTS, "schema_version"),
        (V1 + '"kind": "nonsense", "ts_ms": 2}', "kind"),
        (V1 + '"kind": "heartbeat", "quotes_processed": 1, "trades_processed": 1}', "ts_ms"),
        (HB + '"quotes_processed": 1}', "trades_processed"),
        (V1 + '"kind": "decision", "ts_ms": 2, "client_order_id": "c", "approved": "yes", "code": null}', "approved"),
        (V1 + '"kind": "fill", "ts_ms": 2, "client_order_id": "c"}', "symbol"),
        ('{"schema_version": 1, "t": 1, "kind": "heartbeat", "ts_ms": 2, ' + COUNTS, "not greater"),
        ('{"schema_version": 1, "t": "2", "kind": "heartbeat", "ts_ms": 2, ' + COUNTS, "t: '2' is not of type"),
    ],
)  # fmt: skip
def test_check_when_line_violates_contract_then_code_1_naming_the_line(
    tmp_path: Path, bad_line: str, fragment: str
) -> None:
    lines = _good_lines()
    lines[1] = bad_line
    result = check_telemetry(_write(tmp_path, lines))
    assert result.code == CHECK_VIOLATION
    assert result.errors, "a violation must be reported"
    assert result.errors[0].startswith("line 2:")
    assert fragment in result.errors[0]


def test_check_when_bytes_not_utf8_then_code_1(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.jsonl"
    path.write_bytes(b'{"t": 1}\n\xff\xfe\n')
    result = check_telemetry(path)
    assert result.code == CHECK_VIOLATION
    assert any(error.startswith("line 2: not UTF-8") for error in result.errors)


def test_check_when_many_errors_then_first_ten_reported_and_all_lines_counted(tmp_path: Path) -> None:
    result = check_telemetry(_write(tmp_path, ["garbage"] * 50))
    assert result.code == CHECK_VIOLATION
    assert len(result.errors) == 10 and result.errors[-1].startswith("line 10:")
    assert result.lines == 50


def test_check_when_empty_file_then_valid_with_zero_lines(tmp_path: Path) -> None:
    result = check_telemetry(_write(tmp_path, []))
    assert (result.code, result.lines) == (CHECK_OK, 0)
