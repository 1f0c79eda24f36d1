"""The crash harness's check of a finished run: the ledger is verified against its anchor."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from livegate.ledger.anchor import anchor_path
from livegate.ledger.events import canonical_json
from livegate.testing.crash_harness import TrialResult, check_run
from tests.ledger.helpers import rewrite_chain


def _copy(bundled_paper_run: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    run_dir = tmp_path / "run"
    shutil.copytree(bundled_paper_run, run_dir)
    state = tmp_path / "state"
    anchor = anchor_path(state, run_dir)  # the anchor's name is made from the run dir's path
    anchor.parent.mkdir(parents=True)
    shutil.copyfile(anchor_path(bundled_paper_run.parent / "state", bundled_paper_run), anchor)
    return run_dir, {"LIVEGATE_STATE_DIR": str(state)}


def test_check_run_when_run_is_whole_then_no_problem(bundled_paper_run: Path, tmp_path: Path) -> None:
    run_dir, env = _copy(bundled_paper_run, tmp_path)
    result = TrialResult(name="whole")

    check_run(run_dir, result, env)

    assert result.problems == []
    assert result.fills > 0


def test_check_run_when_ledger_rewritten_with_a_valid_chain_then_the_anchor_catches_it(
    bundled_paper_run: Path, tmp_path: Path
) -> None:
    run_dir, env = _copy(bundled_paper_run, tmp_path)
    ledger = run_dir / "ledger.sqlite"
    with sqlite3.connect(ledger) as conn:
        seq, text = conn.execute("SELECT seq, payload FROM events WHERE kind = 'session_ended'").fetchone()
    payload = json.loads(text)
    payload["reason"] = "rewritten by hand"
    rewrite_chain(ledger, seq, canonical_json(payload))
    result = TrialResult(name="rewritten")

    check_run(run_dir, result, env)

    assert [p for p in result.problems if p.startswith("ledger verify failed: rewritten")], result.problems


def test_check_run_when_state_dir_has_no_anchor_then_problem(bundled_paper_run: Path, tmp_path: Path) -> None:
    run_dir, _ = _copy(bundled_paper_run, tmp_path)
    result = TrialResult(name="no anchor")

    check_run(run_dir, result, {"LIVEGATE_STATE_DIR": str(tmp_path / "empty-state")})

    assert any("no anchor" in p for p in result.problems), result.problems
