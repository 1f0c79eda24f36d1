"""Alert delivery health in ``livegate status RUN_DIR``: read from the run's ``alerts_health.json``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from livegate.alerts.health_file import HEALTH_FILE, read_health

__all__ = ["alert_lines", "alert_record"]


def alert_record(run_dir: Path) -> dict[str, Any] | None:
    """Return the run's alert health record (``alerts_health.json``), or None when the run has none.

    Raises
    ------
    ValueError
        If the file is unreadable.
    """
    found = read_health(run_dir)
    return None if found is None else found[1]


def alert_lines(run_dir: Path) -> list[str]:
    """Return the ``livegate status`` lines about the run's alert delivery (``ALERTS FAILING`` when it fails)."""
    try:
        found = read_health(run_dir)
    except ValueError as exc:
        return [f"alerts:     unreadable: {exc}"]
    if found is None:
        return [f"alerts:     no {HEALTH_FILE} in {run_dir}"]
    health, record = found
    destinations = record.get("destinations") or []
    if not destinations:
        return ["alerts:     no destination configured"]
    head = "ALERTS FAILING" if health.failing else "alerts ok"
    lines = [
        f"alerts:     {head}: sent {health.sent_total}, failed {health.failed_total}, "
        f"dropped {health.dropped_total}, throttled {record.get('throttled_total', 0)}, "
        f"duplicates {record.get('duplicate_total', 0)}"
    ]
    for dest in destinations:
        state = "FAILING" if dest.get("failing") else "ok"
        lines.append(f"  {state:<8}{dest.get('name')}: sent {dest.get('sent')}, failed {dest.get('failed')}")
    if health.last_error:
        lines.append(f"last error: {health.last_error}")
    return lines
