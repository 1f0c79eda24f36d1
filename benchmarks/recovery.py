"""Recovery benchmark: ``ledger verify``, the resume fold and ``--resume`` startup per 1M events (issue 14 item 7).

1. Runs a real paper session (the bundled sample, an IOC order every 10th quote) to get a
   ledger with the real mix of events (intent, decision, submit_requested, order_report,
   fill, reconciled, session records).
2. Builds a ledger of ``--events`` events by repeating that session's order events with
   client order ids and venue trade ids made unique per repeat and times shifted, each
   appended through :class:`livegate.ledger.store.Ledger` (so it chains and verifies).
3. Times, in this process (medians of ``--rounds``, CPU and wall seconds per 1M events):

   * ``verify_ledger`` (what ``livegate ledger verify`` runs);
   * the full fold, no checkpoint (``rebuild_from_ledger(use_checkpoint=False)``: every
     event checked against the chain and folded);
   * writing the fold checkpoint from scratch (what the background refresh does, here
     from the first event) and its size;
   * the resume fold from a checkpoint covering all but ``--tail`` events (the most a
     session's refresh every ``CHECKPOINT_EVERY_EVENTS`` events leaves).

4. With ``--startup``: a real ``python -m livegate run --resume RUN`` on a run directory
   holding that ledger (config of the sample run, a paper venue store holding exactly the
   ledger's fills and positions as a real session's would, the replay cursor set near the
   end of the data), timed from the process start until the session loop processes its
   first market event (the cursor file moves), then killed; without and with a
   checkpoint covering all but ``--tail`` events (written by the timed tree's own
   ``python -m livegate.ledger.checkpoint_job``). ``--child-pythonpath`` runs both on
   another source tree (e.g. the code before this change) for a before/after;
   ``--versus SRC`` times the resume with a checkpoint on this tree and on the tree SRC
   interleaved round by round (A B A B, each tree reading the checkpoint its own job wrote).

Usage: ``python benchmarks/recovery.py [--events 1000000] [--keep DIR] [--rounds 3] [--tail 50000]
[--startup [--startup-only] [--child-pythonpath SRC] [--versus SRC]]``.
"""

from __future__ import annotations

import argparse
import asyncio
import mmap
import os
import shutil
import signal
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from livegate.control.resume import CURSOR_FILE, ReplayCursor, rebuild_from_ledger
from livegate.ledger import events as ev
from livegate.ledger.checkpoint import checkpoint_path, write_checkpoint
from livegate.ledger.checkpoint_job import CHECKPOINT_EVERY_EVENTS, fold_rows
from livegate.ledger.fold import LedgerFold
from livegate.ledger.store import Ledger
from livegate.ledger.verify import verify_ledger
from livegate.runtime.session import RunOptions, prepare, run_replay_session
from livegate.venues.paper_store import PAPER_STORE_FILE, PaperStore

HERE = Path(__file__).resolve().parent
STRATEGY = f"{HERE / 'bench_strategy.py'}:EveryThousandQuotes"
_ORDER_KINDS = {ev.INTENT, ev.DECISION, ev.SUBMIT_REQUESTED, ev.ORDER_REPORT, ev.FILL, ev.RECONCILED}
_RENAMED = ("client_order_id", "fill_id")


def _sample_run(work: Path) -> Path:
    """Run a paper session (kept in ``work/run``) and return its run directory."""
    run_dir = work / "run"
    if (run_dir / "ledger.sqlite").exists():
        return run_dir
    profile = work / "every10.toml"
    profile.write_text('[strategy.params]\nevery = 10\n\n[ledger]\nsynchronous = "NORMAL"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEGATE_")}
    env["LIVEGATE_STATE_DIR"] = str(work / "state")
    options = RunOptions(strategy=STRATEGY, profile=str(profile), out=run_dir)
    resolved, mode = prepare(options, env)
    asyncio.run(run_replay_session(options, env, resolved=resolved, mode=mode))
    return run_dir


def build_ledger(sample: Path, target: Path, events: int) -> int:
    """Append ``events`` events to ``target`` built from the sample ledger's; return how many were written.

    The ``reconciled`` events say where their fill comparison found both sides equal
    (``fills_matched``: the fills applied so far, and the venue's fill journal at the same
    count), as a session whose venue holds exactly the ledger's fills records them
    (:func:`build_venue_store` writes that venue).
    """
    with Ledger.open(sample, synchronous="OFF") as source:
        all_events = list(source.events())
    head = [e for e in all_events if e.kind == ev.SESSION_STARTED][:1]
    body = [e for e in all_events if e.kind in _ORDER_KINDS]
    span = body[-1].ts_ms - body[0].ts_ms + 1
    written = 0
    fold = LedgerFold()
    with Ledger.open(target, synchronous="OFF") as ledger:
        with ledger.transaction():
            for e in head:
                fold.apply(ledger.append(e.kind, e.ts_ms, e.payload))
                written += 1
        k = 0
        while written < events:
            with ledger.transaction():
                for e in body:
                    if written >= events:
                        break
                    payload = dict(e.payload)
                    for key in _RENAMED:
                        if isinstance(payload.get(key), str) and k:
                            payload[key] = f"{payload[key]}-r{k}"
                    if e.kind == ev.RECONCILED:
                        count = len(fold.fills)
                        payload["fills_matched"] = {
                            "ledger_fills": count,
                            "venue_cursor": count,
                            "venue_newest_ms": None,
                        }
                    fold.apply(ledger.append(e.kind, e.ts_ms + k * span, payload))
                    written += 1
            k += 1
    return written


def build_venue_store(sample_store: Path, ledger_file: Path, target: Path) -> int:
    """Write ``target``: the sample run's paper venue store holding exactly the ledger's fills and positions.

    A real session's venue has every fill its ledger has (the paper store journals them
    in the order the engine applied them); return how many fills it holds.
    """
    with Ledger.open(ledger_file, synchronous="OFF") as ledger:
        fold = fold_rows(LedgerFold(), ledger.rows())
    target.unlink(missing_ok=True)
    shutil.copy2(sample_store, target)
    with sqlite3.connect(target) as conn:
        conn.execute("DELETE FROM fills")
        conn.execute("DELETE FROM positions")
    fills = list(fold.fills)
    with PaperStore.open(target) as store:
        store.save(fills=list(enumerate(fills, 1)), positions=fold.portfolio.positions())
    return len(fills)


def _timed(rounds: int, work: Callable[[], object]) -> tuple[float, float, object]:
    """Run ``work`` ``rounds`` times; return the median wall and CPU seconds and the last result."""
    walls, cpus, result = [], [], None
    for _ in range(rounds):
        t0, c0 = time.perf_counter(), time.process_time()
        result = work()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus), result


def _line(label: str, wall: float, cpu: float, per_m: float, extra: str = "") -> None:
    print(
        f"{label}: {wall:.2f} s wall ({cpu:.2f} s CPU) -> {wall * per_m:.2f} s wall, "
        f"{cpu * per_m:.2f} s CPU per 1M events{extra}"
    )


def _resumable_run(sample_run: Path, ledger_file: Path, run_dir: Path, cursor: int) -> None:
    """Make ``run_dir`` a crashed run: the sample run's config, ``ledger_file`` as its ledger and its venue store.

    The venue store is the one :func:`build_venue_store` wrote next to ``ledger_file``.
    """
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    for name in ("config_resolved.json", "run_inputs.json", "build_info.json", "budgets.json"):
        if (sample_run / name).exists():
            shutil.copy2(sample_run / name, run_dir / name)
    shutil.copy2(_venue_file(ledger_file), run_dir / PAPER_STORE_FILE)
    shutil.copy2(ledger_file, run_dir / "ledger.sqlite")
    marker = ReplayCursor(run_dir / CURSOR_FILE)
    marker.mark(cursor)
    marker.close()


def _startup_secs(run_dir: Path, state_dir: Path, cursor: int, pythonpath: str | None) -> tuple[float, float]:
    """Start ``livegate run --resume``; return (wall, CPU) seconds until it processes its first event, then kill it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEGATE_")}
    env["LIVEGATE_STATE_DIR"] = str(state_dir)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    argv = [sys.executable, "-m", "livegate", "run", "--no-progress", "--resume", str(run_dir)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with (run_dir / CURSOR_FILE).open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
        while struct.unpack_from("<q", view, 8)[0] <= cursor:
            if proc.poll() is not None:
                raise RuntimeError(f"resume exited with {proc.returncode} before its first event")
            time.sleep(0.002)
    wall = time.perf_counter() - t0
    proc.send_signal(signal.SIGKILL)
    _, _, usage = os.wait4(proc.pid, 0)
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    """Build the ledger, time verify, the folds and (``--startup``) the real resume, per 1M events."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="reuse or keep the built ledger in this directory")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per figure (medians printed)")
    parser.add_argument("--tail", type=int, default=CHECKPOINT_EVERY_EVENTS, help="events after the checkpoint")
    parser.add_argument("--startup", action="store_true", help="also time a real livegate run --resume process")
    parser.add_argument("--child-pythonpath", default=None, help="PYTHONPATH of the timed resume process")
    parser.add_argument("--startup-only", action="store_true", help="time only the real resume (with --startup)")
    parser.add_argument("--versus", default=None, help="with --startup: also time this source tree, interleaved")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="lg-recovery-"))
    work.mkdir(parents=True, exist_ok=True)
    target = work / f"ledger-{args.events}.sqlite"
    sample_run = _sample_run(work)
    if not target.exists():
        t0 = time.perf_counter()
        written = build_ledger(sample_run / "ledger.sqlite", target, args.events)
        print(f"built a {written:,}-event ledger in {time.perf_counter() - t0:.1f} s: {target}")
    if not _venue_file(target).exists():
        fills = build_venue_store(sample_run / PAPER_STORE_FILE, target, _venue_file(target))
        print(f"built its paper venue store: {fills:,} fills")
    per_m = 1_000_000 / args.events
    if not args.startup_only:
        _in_process(target, per_m, args.rounds, args.tail)
    if args.startup and args.versus:
        _startup_versus(sample_run, target, work, per_m, args.rounds, args.tail, [args.child_pythonpath, args.versus])
    elif args.startup:
        covered = _child_checkpoint(target, args.tail, args.child_pythonpath)  # as that tree's session leaves it
        print(f"fold checkpoint at seq {covered} ({args.tail:,} events after it)")
        _startup(sample_run, target, work, per_m, args.rounds, args.child_pythonpath)


def _in_process(target: Path, per_m: float, rounds: int, tail: int) -> None:
    """Print verify, the full fold, the checkpoint write and the resume fold from a checkpoint (``tail`` after it)."""
    wall, cpu, result = _timed(rounds, lambda: verify_ledger(target))
    assert result.ok, result.reason  # type: ignore[attr-defined]
    _line("ledger verify", wall, cpu, per_m)

    with Ledger.open(target, synchronous="OFF") as ledger:
        head = ledger.last_seq
        wall, cpu, rebuilt = _timed(rounds, lambda: rebuild_from_ledger(ledger, use_checkpoint=False))
        orders = len(rebuilt.approved_intents)  # type: ignore[attr-defined]
        _line(f"full fold, no checkpoint ({orders:,} orders)", wall, cpu, per_m)

        covered = max(1, head - tail)
        base = fold_rows(LedgerFold(), ledger.rows())
        ckpt = checkpoint_path(target)
        wall, cpu, size = _timed(rounds, lambda: write_checkpoint(ckpt, base))
        _line("checkpoint write (encode + fsync)", wall, cpu, per_m, f", {size} bytes")
        _write_tail_checkpoint(target, tail)

        def resume_fold() -> object:
            found = rebuild_from_ledger(ledger)
            assert found.checkpoint_seq == covered, found.checkpoint_ignored
            return found  # its fold goes on in the reconciler's fill index, as in a session

        wall, cpu, _ = _timed(rounds, resume_fold)
        _line(f"resume fold from a checkpoint + {head - covered:,} events after it", wall, cpu, per_m)


def _venue_file(ledger_file: Path) -> Path:
    return ledger_file.with_name(ledger_file.stem + "-venue.sqlite")


def _child_checkpoint(target: Path, tail: int, pythonpath: str | None) -> int:
    """Write ``target``'s fold checkpoint covering all but its last ``tail`` events with the code on ``pythonpath``.

    ``python -m livegate.ledger.checkpoint_job`` (the session's own refresh) runs on a
    copy of the ledger cut after that seq (the copy's append-only triggers dropped), in
    the same directory, so the checkpoint lands next to ``target`` in that tree's format.
    """
    cut = target.with_name("cut.sqlite")
    shutil.copy2(target, cut)
    with sqlite3.connect(cut) as conn:
        (head,) = conn.execute("SELECT MAX(seq) FROM events").fetchone()
        covered = max(1, int(head) - tail)
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            conn.execute(f'DROP TRIGGER "{name}"')
        conn.execute("DELETE FROM events WHERE seq > ?", (covered,))
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    subprocess.run([sys.executable, "-m", "livegate.ledger.checkpoint_job", str(cut)], env=env, check=True)
    for leftover in cut.parent.glob(cut.name + "*"):
        leftover.unlink()
    return covered


def _write_tail_checkpoint(target: Path, tail: int) -> int:
    """Write ``target``'s fold checkpoint covering all but its last ``tail`` events; return the seq it covers."""
    with Ledger.open(target, synchronous="OFF") as ledger:
        covered = max(1, ledger.last_seq - tail)
        write_checkpoint(
            checkpoint_path(target), fold_rows(LedgerFold(), (row for row in ledger.rows() if row[0] <= covered))
        )
    return covered


def _startup(sample_run: Path, target: Path, work: Path, per_m: float, rounds: int, pythonpath: str | None) -> None:
    """Print the real ``livegate run --resume`` startup without and with the checkpoint (on ``pythonpath``'s code)."""
    ckpt = checkpoint_path(target)
    cursor = 60_000  # of the sample's 66,089 quotes: the loop's first event comes right after startup
    run_dir, state_dir = work / "resume-run", work / "resume-state"
    for label, with_checkpoint in [("no checkpoint", False), ("checkpoint", True)]:
        walls, cpus = [], []
        for _ in range(rounds):
            _resumable_run(sample_run, target, run_dir, cursor)
            if with_checkpoint:
                shutil.copy2(ckpt, checkpoint_path(run_dir / "ledger.sqlite"))
            shutil.rmtree(state_dir, ignore_errors=True)
            w, c = _startup_secs(run_dir, state_dir, cursor, pythonpath)
            walls.append(w)
            cpus.append(c)
        w, c = statistics.median(walls), statistics.median(cpus)
        note = f" (PYTHONPATH={pythonpath})" if pythonpath else ""
        _line(f"livegate run --resume to its first event, {label}{note}", w, c, per_m)


def _startup_versus(
    sample_run: Path, target: Path, work: Path, per_m: float, rounds: int, tail: int, trees: list[str | None]
) -> None:
    """Print the real ``livegate run --resume`` startup with a checkpoint for each tree, interleaved round by round."""
    ckpts = []
    for k, tree in enumerate(trees):  # each tree's own checkpoint job (the formats may differ)
        _child_checkpoint(target, tail, tree)
        ckpts.append(shutil.copy2(checkpoint_path(target), work / f"checkpoint-{k}"))
    cursor = 60_000
    run_dir, state_dir = work / "resume-run", work / "resume-state"
    times: list[tuple[list[float], list[float]]] = [([], []) for _ in trees]
    for _ in range(rounds):
        for tree, ckpt, (walls, cpus) in zip(trees, ckpts, times, strict=True):
            _resumable_run(sample_run, target, run_dir, cursor)
            shutil.copy2(ckpt, checkpoint_path(run_dir / "ledger.sqlite"))
            shutil.rmtree(state_dir, ignore_errors=True)
            w, c = _startup_secs(run_dir, state_dir, cursor, tree)
            walls.append(w)
            cpus.append(c)
    for tree, (walls, cpus) in zip(trees, times, strict=True):
        label = f"livegate run --resume to its first event, checkpoint, interleaved (PYTHONPATH={tree or '-'})"
        _line(label, statistics.median(walls), statistics.median(cpus), per_m)


if __name__ == "__main__":
    main()
