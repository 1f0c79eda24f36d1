"""The ledger head anchored in the state dir catches truncation and rewritten chains (issue 9 item 8)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from livegate.domain.errors import LedgerError
from livegate.ledger import LEDGER_FILENAME, Ledger, verify_ledger
from livegate.ledger.anchor import anchor_path, read_anchor
from tests.ledger.helpers import rewrite_chain, tamper


def _run(tmp_path: Path, events: int = 6) -> tuple[Path, Path]:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    anchor = anchor_path(tmp_path / "state", run_dir)
    with Ledger.open(run_dir / LEDGER_FILENAME, synchronous="OFF", anchor=anchor) as ledger:
        ledger.append("session_started", 1, {"session_id": "s"})
        with ledger.transaction():
            for i in range(2, events + 1):
                ledger.append("intent", i, {"n": i})
    return run_dir / LEDGER_FILENAME, anchor


def test_anchor_when_commits_then_head_written_outside_run_dir_with_mode_0600(tmp_path: Path) -> None:
    path, anchor = _run(tmp_path)
    stored = read_anchor(anchor)
    assert stored is not None and stored.seq == 6
    assert stored.hash == verify_ledger(path).head_hash
    assert stat.S_IMODE(os.stat(anchor).st_mode) == 0o600
    assert tmp_path / "state" / "anchors" == anchor.parent


def test_verify_when_last_events_deleted_then_truncated_with_seq_numbers(tmp_path: Path) -> None:
    path, anchor = _run(tmp_path)
    tamper(path, "DELETE FROM events WHERE seq > 4")
    assert verify_ledger(path).ok  # the chain alone cannot see it
    result = verify_ledger(path, anchor=read_anchor(anchor))
    assert (result.ok, result.verdict, result.first_bad_seq) == (False, "truncated", 5)
    assert "ends at seq 4" in result.reason and "records seq 6" in result.reason


def test_verify_when_chain_rewritten_then_rewritten_naming_the_anchored_seq(tmp_path: Path) -> None:
    path, anchor = _run(tmp_path)
    rewrite_chain(path, 3, '{"n":300}')
    assert verify_ledger(path).ok  # every hash recomputed: the chain holds
    result = verify_ledger(path, anchor=read_anchor(anchor))
    assert (result.ok, result.verdict, result.first_bad_seq) == (False, "rewritten", 6)
    assert "rewritten" in result.reason


def test_open_when_ledger_behind_its_anchor_then_refused_naming_truncation(tmp_path: Path) -> None:
    path, anchor = _run(tmp_path)
    tamper(path, "DELETE FROM events WHERE seq > 2")
    with pytest.raises(LedgerError, match="truncated"):
        Ledger.open(path, synchronous="OFF", anchor=anchor)
    assert read_anchor(anchor) is not None and read_anchor(anchor).seq == 6  # type: ignore[union-attr]


def test_open_when_ledger_rewritten_then_refused_naming_rewrite(tmp_path: Path) -> None:
    path, anchor = _run(tmp_path)
    rewrite_chain(path, 2, '{"n":-1}')
    with pytest.raises(LedgerError, match="rewritten"):
        Ledger.open(path, synchronous="OFF", anchor=anchor)


def test_open_when_ledger_ahead_of_anchor_then_continues_and_anchors_new_head(tmp_path: Path) -> None:
    path, anchor = _run(tmp_path)
    with Ledger.open(path, synchronous="OFF") as unanchored:  # e.g. a crash between commit and anchor
        unanchored.append("intent", 7, {"n": 7})
    assert verify_ledger(path, anchor=read_anchor(anchor)).ok
    with Ledger.open(path, synchronous="OFF", anchor=anchor) as ledger:
        ledger.append("intent", 8, {"n": 8})
    stored = read_anchor(anchor)
    assert stored is not None and stored.seq == 8


def test_open_when_run_dir_made_afresh_then_new_anchor_replaces_old(tmp_path: Path) -> None:
    path, anchor = _run(tmp_path)
    path.unlink()
    with Ledger.open(path, synchronous="OFF", anchor=anchor) as ledger:
        ledger.append("session_started", 1, {"session_id": "t"})
    stored = read_anchor(anchor)
    assert stored is not None and stored.seq == 1


def test_read_anchor_when_edited_then_value_error(tmp_path: Path) -> None:
    _, anchor = _run(tmp_path)
    anchor.write_text(anchor.read_text().replace('"seq":6', '"seq":9'))
    with pytest.raises(ValueError, match="check digest"):
        read_anchor(anchor)
