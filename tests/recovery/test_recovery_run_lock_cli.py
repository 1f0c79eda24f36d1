"""Issue 9 §6: one process per run directory; ``--out`` never reuses a run; nothing wipes a venue store."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from livegate.control.run_lock import LOCK_FILE, RunLock
from livegate.testing.crash_harness import hooked_exe, livegate_exe
from tests.integration.helpers import base_env


def _env(tmp_path: Path) -> dict[str, str]:
    env = base_env()
    env["LIVEGATE_STATE_DIR"] = str(tmp_path / "state")
    return env


def _crashed_run(recovery_data: tuple[Path, Path, Path], tmp_path: Path) -> Path:
    quotes, trades, profile = recovery_data
    run_dir = tmp_path / "run"
    argv = [*hooked_exe(), "run", "--no-progress", "--profile", str(profile), "--quotes", str(quotes)]
    argv += ["--trades", str(trades), "--out", str(run_dir)]
    crashed = subprocess.run(argv, env={**_env(tmp_path), "LIVEGATE_CRASH_AT": "before_submit:10"}, check=False)
    assert crashed.returncode == -signal.SIGKILL
    return run_dir


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_run_when_out_is_an_existing_run_then_refused_exit_2_pointing_to_resume_and_store_kept(
    recovery_data: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    quotes, trades, profile = recovery_data
    run_dir = _crashed_run(recovery_data, tmp_path)
    store, ledger = run_dir / "paper_venue.sqlite", run_dir / "ledger.sqlite"
    before = (_digest(store), _digest(ledger), _digest(run_dir / "config_resolved.json"))
    argv = [*livegate_exe(), "run", "--no-progress", "--profile", str(profile), "--quotes", str(quotes)]
    again = subprocess.run(
        [*argv, "--trades", str(trades), "--out", str(run_dir)],
        env=_env(tmp_path), capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert again.returncode == 2
    message = " ".join(again.stderr.split())
    assert "existing run directory" in message and f"--resume {run_dir}" in message
    assert (_digest(store), _digest(ledger), _digest(run_dir / "config_resolved.json")) == before


def test_resume_when_another_resume_holds_the_run_then_refused_exit_2_naming_holder(
    recovery_data: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    run_dir = _crashed_run(recovery_data, tmp_path)
    resume = [*livegate_exe(), "run", "--no-progress", "--realtime", "0.5", "--resume", str(run_dir)]
    first = subprocess.Popen(resume, env=_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        lock = run_dir / LOCK_FILE
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = lock.read_text(encoding="utf-8") if lock.exists() else ""
            if text and json.loads(text)["pid"] == first.pid:
                break
            time.sleep(0.05)
        assert first.poll() is None, "the first resume should still be running"
        second = subprocess.run(resume, env=_env(tmp_path), capture_output=True, text=True, check=False, timeout=60)
        assert second.returncode == 2
        message = " ".join(second.stderr.split())
        assert f"in use by pid {first.pid}" in message and "resume" in message
    finally:
        first.kill()
        first.wait(timeout=30)


def test_run_lock_when_holder_dies_then_next_taker_gets_it(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", f"from livegate.control.run_lock import RunLock; RunLock(__import__('pathlib').Path("
         f"{str(tmp_path)!r}), 'run'); import time; time.sleep(60)"],
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / LOCK_FILE).exists() or not (tmp_path / LOCK_FILE).read_text():
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    with RunLock(tmp_path, "test") as lock:  # SIGKILL released it: no stale lock
        assert json.loads(lock.path.read_text())["pid"] == os.getpid()


def test_flatten_when_run_dir_locked_by_another_process_then_refused_exit_2_naming_holder(
    recovery_data: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    run_dir = _crashed_run(recovery_data, tmp_path)
    with RunLock(run_dir, "resume"):
        done = subprocess.run(
            [*livegate_exe(), "flatten", str(run_dir)], env=_env(tmp_path), capture_output=True, text=True,
            check=False, timeout=120,
        )  # fmt: skip
    assert done.returncode == 2
    assert f"in use by pid {os.getpid()}" in " ".join(done.stderr.split())
