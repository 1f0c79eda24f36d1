"""The per-heartbeat KILL file check stats the state dir only and still sees every KILL file (issue 14 item 5)."""

from __future__ import annotations

import os
from pathlib import Path

from livegate.risk.state_store import KILL_FILE, TradingStateStore


def _age_dir(path: Path) -> None:
    """Make the state dir's mtime old (as it is between two changes) so the cached answer is trusted."""
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))


def test_cached_kill_check_when_kill_file_created_then_seen_at_the_next_check(tmp_path: Path) -> None:
    store = TradingStateStore(tmp_path)
    _age_dir(tmp_path)
    assert store.kill_file_present_cached() is False
    (tmp_path / KILL_FILE).touch()  # changes the directory's mtime
    assert store.kill_file_present_cached() is True
    (tmp_path / KILL_FILE).unlink()
    assert store.kill_file_present_cached() is False


def test_cached_kill_check_when_dir_unchanged_then_answer_reused_without_looking(tmp_path: Path) -> None:
    store = TradingStateStore(tmp_path)
    (tmp_path / KILL_FILE).touch()
    _age_dir(tmp_path)
    assert store.kill_file_present_cached() is True
    # a KILL file removed with the directory's mtime put back is what "unchanged" means; the answer is reused
    (tmp_path / KILL_FILE).unlink()
    _age_dir(tmp_path)
    assert store.kill_file_present_cached() is True
    assert store.kill_file_present() is False  # the timer's exact check sees the truth


def test_cached_kill_check_when_dir_mtime_is_fresh_then_it_always_looks(tmp_path: Path) -> None:
    store = TradingStateStore(tmp_path)
    assert store.kill_file_present_cached() is False  # mtime just now: not cached
    (tmp_path / KILL_FILE).touch()
    os.utime(tmp_path)  # same fresh mtime class: still looked up
    assert store.kill_file_present_cached() is True


def test_cached_kill_check_when_state_dir_missing_then_false(tmp_path: Path) -> None:
    assert TradingStateStore(tmp_path / "absent").kill_file_present_cached() is False
