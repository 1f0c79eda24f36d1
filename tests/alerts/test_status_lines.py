from __future__ import annotations

from pathlib import Path

from livegate.alerts.dispatcher import AlertStats, DestinationHealth
from livegate.alerts.health_file import read_health, write_health
from livegate.cli.status_cmd import alert_lines
from livegate.domain.alerts import AlertHealth


def stats(*dests: DestinationHealth) -> AlertStats:
    health = AlertHealth(
        sent_total=sum(d.sent for d in dests),
        failed_total=sum(d.failed for d in dests),
        dropped_total=1,
        last_error=next((d.last_error for d in dests if d.last_error), None),
        failing=any(d.failing for d in dests),
    )
    return AlertStats(health, emitted_total=9, throttled_total=5, duplicate_total=2, destinations=dests)


def test_health_file_when_written_then_read_back_as_the_same_health(tmp_path: Path) -> None:
    written = stats(DestinationHealth("ntfy://h.example/***", sent=3), DestinationHealth("slack://***", failed=1))
    write_health(tmp_path, written, updated_ms=5)
    found = read_health(tmp_path)
    assert found is not None and found[0] == written.health and found[1]["updated_ms"] == 5


def test_alert_lines_when_a_destination_fails_then_failing_headline_and_each_destination(tmp_path: Path) -> None:
    dead = DestinationHealth(
        "ntfy://127.0.0.1:9/***", failed=2, last_error="ntfy://127.0.0.1:9/***: refused", failing=True
    )
    write_health(tmp_path, stats(DestinationHealth("slack://***", sent=4), dead), updated_ms=1)
    assert alert_lines(tmp_path) == [
        "alerts:     ALERTS FAILING: sent 4, failed 2, dropped 1, throttled 5, duplicates 2",
        "  ok      slack://***: sent 4, failed 0",
        "  FAILING ntfy://127.0.0.1:9/***: sent 0, failed 2",
        "last error: ntfy://127.0.0.1:9/***: refused",
    ]


def test_alert_lines_when_no_file_or_no_destination_or_garbage_then_says_so(tmp_path: Path) -> None:
    assert alert_lines(tmp_path) == [f"alerts:     no alerts_health.json in {tmp_path}"]
    write_health(tmp_path, stats(), updated_ms=1)
    assert alert_lines(tmp_path) == ["alerts:     no destination configured"]
    (tmp_path / "alerts_health.json").write_text("[]")
    assert alert_lines(tmp_path)[0].startswith("alerts:     unreadable: ")
