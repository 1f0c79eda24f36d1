"""Issue 11 item 4: `--log-format console|json` in the CLI; ISO-8601 UTC timestamps, levels, the exact gate line."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from livegate.runtime.session import bundled_sample
from livegate.testing.crash_harness import livegate_exe, write_slice
from tests.integration.helpers import base_env

GATE = "gate mode=paper status=PASS reason=replay source=default"


@pytest.fixture(scope="module")
def small_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Return 3 s of the bundled sample (quotes, trades)."""
    return write_slice(*bundled_sample(), tmp_path_factory.mktemp("log-data"), 3)


def _run(
    data: tuple[Path, Path], tmp_path: Path, *, before: tuple[str, ...] = (), after: tuple[str, ...] = (), **env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``livegate BEFORE run AFTER`` on ``data`` (BEFORE: global options)."""
    quotes, trades = data
    clean = base_env()
    clean.update(LIVEGATE_STATE_DIR=str(tmp_path / "state"), **env)
    argv = [*livegate_exe(), *before, "run", *after, "--no-progress", "--quotes", str(quotes)]
    argv += ["--trades", str(trades), "--out", str(tmp_path / "run")]
    return subprocess.run(argv, env=clean, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)


def _utc_now_close(stamp: str) -> None:
    assert stamp.endswith("Z"), stamp
    when = datetime.fromisoformat(stamp)
    assert when.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - when) < timedelta(minutes=5)


def test_cli_log_format_when_console_then_gate_line_starts_with_its_exact_text_then_level_and_utc_time(
    small_data: tuple[Path, Path], tmp_path: Path
) -> None:
    done = _run(small_data, tmp_path)
    assert done.returncode == 0, done.stderr
    (line,) = [ln for ln in done.stderr.splitlines() if ln.startswith("gate ")]
    message, _, rest = line.partition("  ")
    assert message == GATE
    level, stamp = rest.split(" ")
    assert level == "level=info"
    _utc_now_close(stamp.removeprefix("ts="))


@pytest.mark.parametrize("where", ["global", "run", "env"])
def test_cli_log_format_when_json_then_every_stderr_line_is_an_object_with_event_level_logger_and_utc_time(
    small_data: tuple[Path, Path], tmp_path: Path, where: str
) -> None:
    if where == "global":
        done = _run(small_data, tmp_path, before=("--log-format", "json"))
    elif where == "run":
        done = _run(small_data, tmp_path, after=("--log-format", "json"))
    else:
        done = _run(small_data, tmp_path, LIVEGATE_LOG_FORMAT="json")
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stderr.splitlines()]
    assert records, "at least the gate line"
    for record in records:
        assert {"event", "level", "logger", "timestamp"} <= set(record)
        _utc_now_close(record["timestamp"])
    gate = [r for r in records if r["event"].startswith("gate ")]
    assert gate == [{"event": GATE, "level": "info", "logger": "livegate", "timestamp": gate[0]["timestamp"]}]


def test_cli_log_format_when_unknown_then_usage_error_exit_2_names_the_choices(tmp_path: Path) -> None:
    done = subprocess.run([*livegate_exe(), "--log-format", "xml", "status"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 2
    assert "console" in done.stderr and "json" in done.stderr
