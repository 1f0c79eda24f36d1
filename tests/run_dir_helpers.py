"""What every end-to-end CLI test of a venue session needs: wait, finish, read the run directory.

Shared by the crypto (tests/venues_e2e), Alpaca (tests/venues_alpaca_e2e) and IBKR
(tests/venues_ibkr_e2e) session tests; each package keeps only its venue's profile and arming.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["explain", "finish", "ledger_events", "summary", "wait_until"]


def finish(proc: subprocess.Popen[str], timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """Wait for a session started with ``subprocess.Popen`` and return it as a completed process."""
    stdout, stderr = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def wait_until(check: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    """Poll ``check`` every 20 ms until True; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def summary(out: Path) -> dict[str, Any]:
    """Return the run's ``summary.json``."""
    data: dict[str, Any] = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return data


def ledger_events(out: Path) -> list[tuple[str, dict[str, Any]]]:
    """Return ``(kind, payload)`` of every ledger event of the run in ``out``, in order."""
    with sqlite3.connect(out / "ledger.sqlite") as conn:
        rows = conn.execute("SELECT kind, payload FROM events ORDER BY seq").fetchall()
    return [(kind, json.loads(payload)) for kind, payload in rows]


def explain(result: subprocess.CompletedProcess[str], out: Path) -> str:
    """Return what a failed assertion on a run should show: output tails, anomalies, kills, trading state."""
    lines = [result.stdout[-1500:], result.stderr[-4000:]]
    if (out / "ledger.sqlite").exists():
        lines += [f"{kind}: {p}" for kind, p in ledger_events(out) if kind in ("anomaly", "trading_state_changed")]
    if (out / "summary.json").exists():
        lines.append(f"trading_state: {summary(out)['trading_state']}")
    if (out / "kill_events.jsonl").exists():
        lines.append((out / "kill_events.jsonl").read_text(encoding="utf-8"))
    return "\n".join(lines)
