"""``RUN_DIR/alerts_health.json``: the session's alert delivery health, for ``livegate status`` and other processes.

Written atomically (temporary file, rename) by the delivery thread after every delivered
alert, at the start and at the end of the session; read by ``livegate status RUN_DIR``.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from livegate.alerts.dispatcher import AlertStats
from livegate.domain.alerts import AlertHealth

__all__ = ["HEALTH_FILE", "read_health", "write_health"]

HEALTH_FILE = "alerts_health.json"


def write_health(run_dir: Path, stats: AlertStats, *, updated_ms: int) -> None:
    """Write ``stats`` to ``run_dir/alerts_health.json`` (``updated_ms``: wall time, ms since the epoch).

    Raises
    ------
    OSError
        If the run directory cannot be written.
    """
    path = run_dir / HEALTH_FILE
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")  # delivery and session threads
    tmp.write_text(json.dumps({**stats.to_record(), "updated_ms": updated_ms}, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_health(run_dir: Path) -> tuple[AlertHealth, dict[str, Any]] | None:
    """Return the health in ``run_dir/alerts_health.json`` and the whole record, or None when absent.

    Raises
    ------
    ValueError
        If the file is not the JSON object :func:`write_health` writes (names the file).
    """
    path = run_dir / HEALTH_FILE
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        health = AlertHealth(
            sent_total=int(record["sent_total"]),
            failed_total=int(record["failed_total"]),
            dropped_total=int(record["dropped_total"]),
            last_error=None if record["last_error"] is None else str(record["last_error"]),
            failing=bool(record["failing"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not an alerts health file ({exc})") from exc
    return health, record
