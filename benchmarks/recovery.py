"""Recovery benchmark: ``ledger verify`` and the resume fold per 1M ledger events (issue 14 item 7).

1. Runs a real paper session (the bundled sample, an IOC order every 10th quote) to get a
   ledger with the real mix of events (intent, decision, submit_requested, order_report,
   fill, reconciled, session records).
2. Builds a ledger of ``--events`` events by repeating that session's order events with
   client order ids and venue trade ids made unique per repeat and times shifted, each
   appended through :class:`livegate.ledger.store.Ledger` (so it chains and verifies).
3. Times ``verify_ledger`` (what ``livegate ledger verify`` runs) and
   ``rebuild_from_ledger`` (the fold ``livegate run --resume`` starts from), and prints
   seconds per 1M events.

Usage: ``python benchmarks/recovery.py [--events 1000000] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from livegate.control.resume import rebuild_from_ledger
from livegate.ledger import events as ev
from livegate.ledger.store import Ledger
from livegate.ledger.verify import verify_ledger
from livegate.runtime.session import RunOptions, prepare, run_replay_session

HERE = Path(__file__).resolve().parent
STRATEGY = f"{HERE / 'bench_strategy.py'}:EveryThousandQuotes"
_ORDER_KINDS = {ev.INTENT, ev.DECISION, ev.SUBMIT_REQUESTED, ev.ORDER_REPORT, ev.FILL, ev.RECONCILED}
_RENAMED = ("client_order_id", "fill_id")


def _sample_ledger(work: Path) -> Path:
    """Run a paper session and return its ledger file."""
    profile = work / "every10.toml"
    profile.write_text('[strategy.params]\nevery = 10\n\n[ledger]\nsynchronous = "NORMAL"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEGATE_")}
    env["LIVEGATE_STATE_DIR"] = str(work / "state")
    options = RunOptions(strategy=STRATEGY, profile=str(profile), out=work / "run")
    resolved, mode = prepare(options, env)
    asyncio.run(run_replay_session(options, env, resolved=resolved, mode=mode))
    return work / "run" / "ledger.sqlite"


def build_ledger(sample: Path, target: Path, events: int) -> int:
    """Append ``events`` events to ``target`` built from the sample ledger's; return how many were written."""
    with Ledger.open(sample, synchronous="OFF") as source:
        all_events = list(source.events())
    head = [e for e in all_events if e.kind == ev.SESSION_STARTED][:1]
    body = [e for e in all_events if e.kind in _ORDER_KINDS]
    span = body[-1].ts_ms - body[0].ts_ms + 1
    written = 0
    with Ledger.open(target, synchronous="OFF") as ledger:
        with ledger.transaction():
            for e in head:
                ledger.append(e.kind, e.ts_ms, e.payload)
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
                    ledger.append(e.kind, e.ts_ms + k * span, payload)
                    written += 1
            k += 1
    return written


def main() -> None:
    """Build the ledger, time verify and the resume fold, print seconds per 1M events."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="reuse or keep the built ledger in this directory")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="lg-recovery-"))
    work.mkdir(parents=True, exist_ok=True)
    target = work / f"ledger-{args.events}.sqlite"
    if not target.exists():
        t0 = time.perf_counter()
        written = build_ledger(_sample_ledger(work), target, args.events)
        print(f"built a {written:,}-event ledger in {time.perf_counter() - t0:.1f} s: {target}")
    per_m = 1_000_000 / args.events
    t0, c0 = time.perf_counter(), time.process_time()
    result = verify_ledger(target)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert result.ok, result.reason
    print(
        f"ledger verify: {result.events:,} events in {wall:.2f} s wall ({cpu:.2f} s CPU) -> "
        f"{wall * per_m:.2f} s wall, {cpu * per_m:.2f} s CPU per 1M events"
    )
    with Ledger.open(target, synchronous="OFF") as ledger:
        t0, c0 = time.perf_counter(), time.process_time()
        rebuilt = rebuild_from_ledger(ledger)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"resume fold: {len(rebuilt.approved_intents):,} orders, {rebuilt.stats.fills:,} fills in {wall:.2f} s wall "
        f"({cpu:.2f} s CPU) -> {wall * per_m:.2f} s wall, {cpu * per_m:.2f} s CPU per 1M events"
    )


if __name__ == "__main__":
    main()
