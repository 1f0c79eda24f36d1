"""Drive a running ``livegate run`` subprocess from a test: start it, watch its ledger, signal it."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from livegate.control.faults import VENUE_FAULT_ENV

LIVEGATE = str(Path(sys.executable).with_name("livegate"))
#: Paper venue order states that are still open at the venue.
OPEN_STATUSES = ("new", "submitted", "accepted", "partially_filled", "cancel_pending")


@dataclass
class Event:
    """One ledger event."""

    seq: int
    ts_ms: int
    kind: str
    payload: dict[str, Any]


def read_ledger(run_dir: Path) -> list[Event]:
    """Return the ledger's events in order (read-only; empty while it does not exist)."""
    path = run_dir / "ledger.sqlite"
    if not path.exists():
        return []
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as conn:
            rows = conn.execute("SELECT seq, ts_ms, kind, payload FROM events ORDER BY seq").fetchall()
    except sqlite3.Error:
        return []
    return [Event(seq, ts, kind, json.loads(payload)) for seq, ts, kind, payload in rows]


def approved(events: list[Event]) -> list[Event]:
    """Return the approved ``decision`` events."""
    return [e for e in events if e.kind == "decision" and e.payload["approved"]]


def paper_open_orders(run_dir: Path) -> int:
    """Return how many orders the run's paper venue store still holds open."""
    marks = ",".join("?" for _ in OPEN_STATUSES)
    with sqlite3.connect(f"file:{run_dir / 'paper_venue.sqlite'}?mode=ro", uri=True) as conn:
        (count,) = conn.execute(f"SELECT count(*) FROM orders WHERE status IN ({marks})", OPEN_STATUSES).fetchone()
    return int(count)


def has_resting_order(run_dir: Path) -> bool:
    """Return True once the paper venue store exists and holds an open order (False while it is being created)."""
    try:
        return (run_dir / "paper_venue.sqlite").exists() and paper_open_orders(run_dir) > 0
    except sqlite3.Error:
        return False


def wait_for(condition: Callable[[], bool], timeout_secs: float, what: str) -> None:
    """Poll ``condition`` every 50 ms until it holds; fail naming ``what`` after ``timeout_secs``."""
    deadline = time.monotonic() + timeout_secs
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_secs} s waiting for {what}")
        time.sleep(0.05)


def start_run(args: list[str], env: Mapping[str, str], cwd: Path) -> subprocess.Popen[str]:
    """Start ``livegate run ARGS`` in the background (stdout and stderr captured).

    With a test-only hook in ``env`` (a fake-venue fault) the run goes through
    ``python -m livegate.testing``, the one entry point that installs the hooks.
    """
    argv = [sys.executable, "-m", "livegate.testing"] if VENUE_FAULT_ENV in env else [LIVEGATE]
    return subprocess.Popen(
        [*argv, "run", "--no-progress", *args],
        env=dict(env),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(process: subprocess.Popen[str], sig: int = signal.SIGTERM, timeout_secs: float = 60) -> tuple[int, str]:
    """Send ``sig``, wait for the process to end; return its exit code and stderr."""
    process.send_signal(sig)
    return finish(process, timeout_secs)


def finish(process: subprocess.Popen[str], timeout_secs: float = 60) -> tuple[int, str]:
    """Wait for the process to end; return its exit code and stderr."""
    try:
        _, err = process.communicate(timeout=timeout_secs)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
        raise AssertionError(f"livegate run did not end within {timeout_secs} s:\n{err[-3000:]}") from None
    return process.returncode, err


def cli(args: list[str], env: Mapping[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a short ``livegate`` command to completion."""
    return subprocess.run(
        [LIVEGATE, *args], env=dict(env), cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def kill_now(env: Mapping[str, str], cwd: Path) -> int:
    """Run ``livegate kill`` and return the kill's wall time (ms) as the state file records it."""
    done = cli(["kill", "--reason", "operator test kill"], env, cwd)
    assert done.returncode == 0, done.stderr
    state = json.loads((Path(env["LIVEGATE_STATE_DIR"]) / "trading_state.json").read_text())
    assert state["current"]["source"] == "cli:kill"
    return int(state["current"]["ts_ms"])


def kill_events(run_dir: Path) -> list[dict[str, Any]]:
    """Return the run's ``kill_events.jsonl`` records."""
    text = (run_dir / "kill_events.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def summary(run_dir: Path) -> dict[str, Any]:
    """Return ``summary.json``."""
    data: dict[str, Any] = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    return data


def reader_children(pid: int) -> list[int]:
    """Return the running replay reader processes (``livegate.marketdata.read_worker``) whose parent is ``pid``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] not in "ZX" and b"livegate.marketdata.read_worker" in cmdline:
            found.append(int(stat.parent.name))
    return found


def process_gone(pid: int, within_secs: float = 0.0) -> bool:
    """Return True once ``pid`` has exited (reaped, or a zombie not reaped yet), waiting up to ``within_secs``."""
    deadline = time.monotonic() + within_secs
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in {"Z", "X"}:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
