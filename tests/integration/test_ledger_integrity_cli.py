"""Ledger integrity beyond the chain, and determinism by content, through the CLI (issue 9 items 8, 12)."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path

import pytest

from livegate.ledger import LEDGER_FILENAME, Ledger
from livegate.ledger.anchor import anchor_path
from tests.integration.helpers import livegate, livegate_in_process, summary
from tests.ledger.helpers import rewrite_chain, tamper

DATA = Path(__file__).resolve().parents[2] / "src" / "livegate" / "data"


@pytest.fixture(scope="module")
def truncated_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int]:
    """A real `livegate run` of the bundled sample whose last three ledger events were then deleted."""
    cwd = tmp_path_factory.mktemp("trunc")
    proc = livegate(["run", "--no-progress", "--out", "run"], cwd)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    run_dir = cwd / "run"
    ok = livegate_in_process(["ledger", "verify", "run"], cwd)
    assert ok.returncode == 0 and "anchored at seq" in ok.stdout, ok.stdout + ok.stderr
    conn = sqlite3.connect(run_dir / LEDGER_FILENAME)
    (last,) = conn.execute("SELECT max(seq) FROM events").fetchone()
    conn.close()
    tamper(run_dir / LEDGER_FILENAME, "DELETE FROM events WHERE seq > ?", (last - 3,))
    return cwd, run_dir, int(last)


def test_ledger_verify_when_last_events_deleted_then_exit_1_naming_truncation(
    truncated_run: tuple[Path, Path, int],
) -> None:
    cwd, _, last = truncated_run
    proc = livegate_in_process(["ledger", "verify", "run"], cwd)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "truncated" in proc.stdout
    assert f"ends at seq {last - 3}" in proc.stdout and f"records seq {last}" in proc.stdout


def test_run_resume_when_ledger_truncated_then_refused_and_summary_hash_untouched(
    truncated_run: tuple[Path, Path, int],
) -> None:
    cwd, run_dir, _ = truncated_run
    before = summary(run_dir)["ledger_hash"]
    proc = livegate(["run", "--no-progress", "--resume", "run"], cwd)
    assert proc.returncode != 0
    assert "truncated" in " ".join((proc.stdout + proc.stderr).split())
    assert summary(run_dir)["ledger_hash"] == before
    again = livegate_in_process(["ledger", "verify", "run"], cwd)
    assert again.returncode == 1 and "truncated" in again.stdout


def test_ledger_verify_when_chain_rewritten_then_exit_1_naming_rewrite(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    anchor = anchor_path(tmp_path / "state", run_dir)  # the state dir the CLI helper sets
    with Ledger.open(run_dir / LEDGER_FILENAME, synchronous="OFF", anchor=anchor) as ledger:
        for seq in range(1, 5):
            ledger.append("intent", seq, {"n": seq})
    rewrite_chain(run_dir / LEDGER_FILENAME, 2, '{"n":200}')
    proc = livegate_in_process(["ledger", "verify", str(run_dir)], tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "rewritten" in proc.stdout and "seq 4" in proc.stdout


def _sample(folder: Path, quotes_name: str, trades_name: str, lines: int = 6000) -> tuple[Path, Path]:
    folder.mkdir(parents=True)
    out = []
    for source, name in (("quotes", quotes_name), ("trades", trades_name)):
        with gzip.open(DATA / f"binance_usdm_btcusdt_20240808_{source}.csv.gz", "rt") as stream:
            head = [next(stream) for _ in range(lines)]
        target = folder / name
        target.write_text("".join(head))
        out.append(target)
    return out[0], out[1]


def test_run_when_same_data_under_two_paths_then_same_ledger_hash_and_no_path_in_ledger(tmp_path: Path) -> None:
    hashes = []
    for folder, names in (("a/deep/one", ("q.csv", "t.csv")), ("b", ("quotes_copy.csv", "trades_copy.csv"))):
        quotes, trades = _sample(tmp_path / folder, *names)
        out = tmp_path / f"run-{folder.replace('/', '-')}"
        args = ["run", "--no-progress", "--seed", "3", "--quotes", str(quotes), "--trades", str(trades)]
        proc = livegate([*args, "--out", str(out)], tmp_path)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        hashes.append(summary(out)["ledger_hash"])
        conn = sqlite3.connect(out / LEDGER_FILENAME)
        (started,) = conn.execute("SELECT payload FROM events WHERE kind = 'session_started'").fetchone()
        conn.close()
        inputs = json.loads(started)["inputs"]
        assert all(i.startswith("sha256:") for i in inputs) and str(tmp_path) not in started
    assert hashes[0] == hashes[1]
