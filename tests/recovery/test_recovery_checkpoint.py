"""The fold checkpoint on real session ledgers: checkpoint + later events equals the full fold, exactly;
anything that does not verify against the chain is ignored; ``livegate run --resume`` starts from it."""

from __future__ import annotations

import json
import logging
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from livegate.control.resume import CURSOR_FILE, CheckpointRefresher, read_cursor, rebuild_from_ledger
from livegate.domain.errors import DataError
from livegate.ledger import events as ev
from livegate.ledger.checkpoint import (
    CHECKPOINT_FILE,
    CheckpointError,
    checkpoint_path,
    read_checkpoint,
    write_checkpoint,
)
from livegate.ledger.checkpoint_job import fold_rows, refresh_checkpoint
from livegate.ledger.fold import LedgerFold, fold_events
from livegate.ledger.store import Ledger
from livegate.runtime.restart import resume_run
from livegate.testing.crash_harness import hooked_exe, livegate_exe
from tests.integration.helpers import base_env
from tests.ledger.helpers import rewrite_chain, tamper
from tests.recovery.checkpoint_helpers import exact_state


def _env(root: Path, **extra: str) -> dict[str, str]:
    env = base_env()
    env["LIVEGATE_STATE_DIR"] = str(root / "state")
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def crashed_and_resumed(
    recovery_data: tuple[Path, Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """Return (a run SIGKILLed between two fills, the same run resumed to its end): real paper sessions."""
    quotes, trades, profile = recovery_data
    root = tmp_path_factory.mktemp("checkpoint-runs")
    run_dir = root / "run"
    argv = [*hooked_exe(), "run", "--no-progress", "--profile", str(profile)]
    argv += ["--quotes", str(quotes), "--trades", str(trades), "--out", str(run_dir)]
    crashed = subprocess.run(argv, env=_env(root, LIVEGATE_CRASH_AT="between_fills:4"), check=False)
    assert crashed.returncode == -signal.SIGKILL
    crashed_copy = root / "crashed"
    shutil.copytree(run_dir, crashed_copy)
    resumed = subprocess.run(
        [*livegate_exe(), "run", "--no-progress", "--resume", str(run_dir)], env=_env(root), check=False
    )
    assert resumed.returncode in (0, 3)
    return crashed_copy, run_dir


def _copy_ledger(run_dir: Path, dest: Path) -> Path:
    dest.mkdir(parents=True)
    with (
        Ledger.open(run_dir / "ledger.sqlite", synchronous="OFF") as source,
        Ledger.open(dest / "ledger.sqlite") as copy,
    ):
        with copy.transaction():
            for event in source.events():
                copy.append(event.kind, event.ts_ms, event.payload)
    return dest / "ledger.sqlite"


def _split_points(head: int) -> list[int]:
    step = max(1, head // 40)
    return sorted({1, 2, head - 1, head, *range(1, head, step)})


def test_checkpoint_when_split_anywhere_in_a_crash_resume_ledger_then_checkpoint_plus_rest_equals_full_fold(
    crashed_and_resumed: tuple[Path, Path], tmp_path: Path
) -> None:
    _, run_dir = crashed_and_resumed
    with Ledger.open(run_dir / "ledger.sqlite", synchronous="OFF") as ledger:
        events = list(ledger.events())
        assert any(e.kind == ev.SESSION_RESUMED for e in events)  # a real crash-resume ledger
        assert sum(e.kind == ev.FILL for e in events) > 5
        full = exact_state(fold_events(events))
        path = tmp_path / CHECKPOINT_FILE
        for split in _split_points(len(events)):
            write_checkpoint(path, fold_events(events[:split]))
            loaded = read_checkpoint(path, ledger.hash_at, ledger.last_seq)
            assert loaded.last_seq == split
            fold_rows(loaded, ledger.rows(after_seq=split))
            assert exact_state(loaded) == full, f"split at seq {split}"


def test_checkpoint_when_fold_forked_then_copy_evolves_alone_and_equals_the_original(
    crashed_and_resumed: tuple[Path, Path],
) -> None:
    _, run_dir = crashed_and_resumed
    with Ledger.open(run_dir / "ledger.sqlite", synchronous="OFF") as ledger:
        events = list(ledger.events())
    half = fold_events(events[: len(events) // 2])
    before = exact_state(half)
    fork = half.fork()
    assert exact_state(fork) == before
    for event in events[len(events) // 2 :]:
        fork.apply(event)
    assert exact_state(half) == before  # the original did not move
    assert exact_state(fork) == exact_state(fold_events(events))


def test_rebuild_when_checkpoint_verifies_then_rebuilt_session_equals_the_full_fold_one(
    crashed_and_resumed: tuple[Path, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    crashed, _ = crashed_and_resumed
    ledger_file = _copy_ledger(crashed, tmp_path / "run")
    with Ledger.open(ledger_file, synchronous="OFF") as ledger:
        events = list(ledger.events())
        write_checkpoint(checkpoint_path(ledger_file), fold_events(events[: len(events) - 7]))
        full = rebuild_from_ledger(ledger, use_checkpoint=False)
        with caplog.at_level(logging.INFO, logger="livegate"):
            fast = rebuild_from_ledger(ledger)
    assert fast.checkpoint_seq == len(events) - 7 and fast.checkpoint_ignored == ""
    assert f"fold checkpoint at seq {len(events) - 7} verified against the chain; folded the 7 events" in caplog.text
    assert full.checkpoint_seq == 0
    fast.checkpoint_seq = full.checkpoint_seq
    assert exact_state(fast) == exact_state(full)


def _ledger_with_checkpoint(run_dir: Path, dest: Path, covered: int | None = None) -> Path:
    ledger_file = _copy_ledger(run_dir, dest)
    with Ledger.open(ledger_file, synchronous="OFF") as ledger:
        events = list(ledger.events())
    write_checkpoint(checkpoint_path(ledger_file), fold_events(events[: covered or len(events) // 2]))
    return ledger_file


def _rewrite_header(path: Path, **changes: object) -> None:
    line, _, body = path.read_bytes().partition(b"\n")
    header = json.loads(line)
    header.update(changes)
    path.write_bytes(json.dumps(header).encode() + b"\n" + body)


def _flip_body_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    at = data.index(b'"orders"') + 20
    data[at] = ord("7") if data[at] != ord("7") else ord("8")
    path.write_bytes(bytes(data))


def _forge_body(path: Path) -> None:
    """Change the body and write a matching digest: only the check against the chain is left to catch it."""
    import hashlib

    line, _, body = path.read_bytes().partition(b"\n")
    raw = json.loads(body)
    raw["last_seq"] -= 1
    text = json.dumps(raw, separators=(",", ":")).encode()
    header = json.loads(line)
    header.update(body_sha256=hashlib.sha256(text).hexdigest(), body_bytes=len(text))
    path.write_bytes(json.dumps(header).encode() + b"\n" + text)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("missing", "no checkpoint file"),
        ("garbage", "checkpoint header unreadable"),
        ("corrupt_body", "does not match its digest"),
        ("torn", "does not match its digest"),
        ("other_version", "this build reads 'livegate-fold-checkpoint' version 3"),
        ("other_fold_code", "other fold rules"),
        ("forged_body", "checkpoint body ends at seq"),
        ("beyond_head", "ledger truncated"),
        ("rewritten", "ledger rewritten, or another run's checkpoint"),
        ("other_run", "ledger rewritten, or another run's checkpoint"),
    ],
)
def test_rebuild_when_checkpoint_does_not_verify_then_ignored_with_reason_and_full_fold_used(
    crashed_and_resumed: tuple[Path, Path],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    damage: str,
    reason: str,
) -> None:
    crashed, resumed = crashed_and_resumed
    ledger_file = _ledger_with_checkpoint(crashed, tmp_path / "run")
    path = checkpoint_path(ledger_file)
    with Ledger.open(ledger_file, synchronous="OFF") as ledger:
        head = ledger.last_seq
    if damage == "missing":
        path.unlink()
    elif damage == "garbage":
        path.write_bytes(b"not a checkpoint")
    elif damage == "corrupt_body":
        _flip_body_byte(path)
    elif damage == "torn":
        path.write_bytes(path.read_bytes()[:-100])
    elif damage == "other_version":
        _rewrite_header(path, version=2)  # the layout before the coded text columns
    elif damage == "other_fold_code":
        _rewrite_header(path, fold_code="0" * 64)
    elif damage == "forged_body":
        _forge_body(path)
    elif damage == "beyond_head":
        with Ledger.open(resumed / "ledger.sqlite", synchronous="OFF") as longer:
            write_checkpoint(path, fold_events(longer.events()))  # the same run, further on than this ledger
    elif damage == "rewritten":
        rewrite_chain(ledger_file, 2, '{"client_order_id":"x","venue":"paper"}')
    elif damage == "other_run":  # same first 50 events, then another history: its event 51 is not ours
        with Ledger.open(resumed / "ledger.sqlite", synchronous="OFF") as source:
            first = list(source.events())[:50]
        with Ledger.open(tmp_path / "other.sqlite", synchronous="OFF") as other:
            for event in first:
                other.append(event.kind, event.ts_ms, event.payload)
            other.append(ev.ANOMALY, first[-1].ts_ms, {"kind": "other", "detail": "another run"})
            write_checkpoint(path, fold_events(other.events()))
    with Ledger.open(ledger_file, synchronous="OFF") as ledger:
        with pytest.raises(CheckpointError, match=reason):
            read_checkpoint(path, ledger.hash_at, ledger.last_seq)
        with caplog.at_level(logging.INFO, logger="livegate"):
            rebuilt = rebuild_from_ledger(ledger)
        full = rebuild_from_ledger(ledger, use_checkpoint=False)
    assert rebuilt.checkpoint_seq == 0 and reason in rebuilt.checkpoint_ignored
    expected_log = "no fold checkpoint" if damage == "missing" else f"fold checkpoint {path} ignored: "
    assert expected_log in caplog.text and f"folded all {head} ledger events" in caplog.text
    rebuilt.checkpoint_ignored = full.checkpoint_ignored
    assert exact_state(rebuilt) == exact_state(full)


def test_rebuild_when_an_event_after_the_checkpoint_is_edited_then_refused_as_broken_chain(
    crashed_and_resumed: tuple[Path, Path], tmp_path: Path
) -> None:
    crashed, _ = crashed_and_resumed
    ledger_file = _ledger_with_checkpoint(crashed, tmp_path / "run", covered=10)
    tamper(ledger_file, "UPDATE events SET ts_ms = ts_ms + 1 WHERE seq = 12")
    with Ledger.open(ledger_file, synchronous="OFF") as ledger, pytest.raises(DataError) as caught:
        rebuild_from_ledger(ledger)
    assert "ledger chain broken at seq 12" in str(caught.value)


def test_refresh_checkpoint_when_ledger_grew_then_new_checkpoint_equals_full_fold(
    crashed_and_resumed: tuple[Path, Path], tmp_path: Path
) -> None:
    _, resumed = crashed_and_resumed
    ledger_file = _ledger_with_checkpoint(resumed, tmp_path / "run", covered=15)
    seq, before = refresh_checkpoint(ledger_file)
    with Ledger.open(ledger_file, synchronous="OFF") as ledger:
        assert (seq, before) == (ledger.last_seq, 15)
        loaded = read_checkpoint(checkpoint_path(ledger_file), ledger.hash_at, ledger.last_seq)
        assert exact_state(loaded) == exact_state(fold_rows(LedgerFold(), ledger.rows()))
    assert refresh_checkpoint(ledger_file) == (seq, seq)  # nothing new: nothing written


def test_checkpoint_refresher_when_ledger_grew_by_every_then_one_background_process_writes_it(
    crashed_and_resumed: tuple[Path, Path], tmp_path: Path
) -> None:
    crashed, _ = crashed_and_resumed
    ledger_file = _copy_ledger(crashed, tmp_path / "run")
    with Ledger.open(ledger_file, synchronous="OFF") as ledger:
        head = ledger.last_seq
    refresher = CheckpointRefresher(ledger_file, covered_seq=0, every=head)
    assert not refresher.maybe_refresh(head - 1)  # grew by less than `every`
    assert refresher.maybe_refresh(head)
    assert not refresher.maybe_refresh(2 * head)  # one at a time: the first may still run
    assert refresher.wait(60) == 0
    with Ledger.open(ledger_file, synchronous="OFF") as ledger:
        assert read_checkpoint(checkpoint_path(ledger_file), ledger.hash_at, head).last_seq == head


def test_checkpoint_refresher_when_checkpoint_covers_much_then_waits_for_a_quarter_of_it(tmp_path: Path) -> None:
    refresher = CheckpointRefresher(tmp_path / "ledger.sqlite", covered_seq=400_000, every=50_000)
    assert not refresher.maybe_refresh(450_000)  # 50,000 new events < 400,000 / 4
    assert not refresher.maybe_refresh(499_999)
    assert refresher.maybe_refresh(500_000)
    assert refresher.wait(60) == 1  # no ledger there: the refresh process fails, nothing is written
    assert not (tmp_path / CHECKPOINT_FILE).exists()


def test_resume_when_run_has_a_checkpoint_then_starts_from_it_and_ends_like_a_full_fold_resume(
    crashed_and_resumed: tuple[Path, Path], tmp_path: Path
) -> None:
    crashed, resumed_ref = crashed_and_resumed
    run_dir = tmp_path / "run"
    shutil.copytree(crashed, run_dir)
    job = subprocess.run(
        [sys.executable, "-m", "livegate.ledger.checkpoint_job", str(run_dir / "ledger.sqlite")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert job.returncode == 0, job.stderr
    with Ledger.open(run_dir / "ledger.sqlite", synchronous="OFF") as ledger:
        head = ledger.last_seq
    resumed = subprocess.run(
        [*livegate_exe(), "run", "--no-progress", "--resume", str(run_dir)],
        env=_env(tmp_path), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert resumed.returncode in (0, 3), resumed.stderr
    assert f"fold checkpoint at seq {head} verified against the chain; folded the 0 events" in resumed.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    reference = json.loads((resumed_ref / "summary.json").read_text())
    for key in ("orders_submitted", "fills", "pnl_realized_usd", "fees_usd", "positions", "quotes_processed"):
        assert summary[key] == reference[key], key
    verify = subprocess.run([*livegate_exe(), "ledger", "verify", str(run_dir)], env=_env(tmp_path), check=False)
    assert verify.returncode == 0


def test_resume_run_when_session_rebuilt_then_on_ready_called_once_before_its_first_market_event(
    crashed_and_resumed: tuple[Path, Path], tmp_path: Path
) -> None:
    crashed, resumed_ref = crashed_and_resumed
    run_dir = tmp_path / "run"
    shutil.copytree(crashed, run_dir)
    resume_at = read_cursor(run_dir / CURSOR_FILE)
    seen: list[int | None] = []
    result = resume_run(run_dir, _env(tmp_path), on_ready=lambda: seen.append(read_cursor(run_dir / CURSOR_FILE)))
    assert result.exit_code in (0, 3)
    assert seen == [resume_at]  # once, with the loop not yet past the crashed run's last event
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["fills"] == json.loads((resumed_ref / "summary.json").read_text())["fills"]
