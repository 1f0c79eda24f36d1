"""The long crash run of issue 6: N SIGKILL trials of a paper session, each resumed to the end and checked.

Usage: ``python benchmarks/crash.py [--trials 100] [--workers 2] [--span-secs 60] [--seed 6]``.
Data: the first ``--span-secs`` of the bundled real Binance USD-M BTCUSDT capture. Trials
cycle through the named crash points (before_submit, after_submit, between_fills,
cancel_all during the resume) and random-time SIGKILLs; see
:mod:`livegate.testing.crash_harness` for the checks. Exit 0 when every trial held.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from livegate.runtime.session import bundled_sample
from livegate.testing.crash_harness import HARNESS_PROFILE, TrialResult, plan_trials, run_trial, write_slice


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--span-secs", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="lg-crash-"))
    quotes, trades = write_slice(*bundled_sample(), root / "data", args.span_secs)
    profile = root / "harness.toml"
    profile.write_text(HARNESS_PROFILE, encoding="utf-8")
    # an uncrashed run gives the range of the random kill times
    probe = run_trial(root / "probe", quotes=quotes, trades=trades, profile=profile, name="probe")
    plans = plan_trials(args.trials, args.seed, run_secs=max(probe.wall_secs - 2.0, 0.3))
    started = time.perf_counter()

    def trial(i: int) -> TrialResult:
        return run_trial(root / f"trial{i:03d}", quotes=quotes, trades=trades, profile=profile, **plans[i])  # type: ignore[arg-type]

    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        results = list(pool.map(trial, range(args.trials)))
    wall = time.perf_counter() - started
    by_point: Counter[str] = Counter()
    crashed: Counter[str] = Counter()
    for r in results:
        point = r.name.split(":")[0]
        by_point[point] += 1
        crashed[point] += 1 if r.crashes else 0
    report = {
        "trials": len(results),
        "passed": sum(r.ok for r in results),
        "crashes": sum(r.crashes for r in results),
        "resumes": sum(r.resumes for r in results),
        "trials_by_point": dict(sorted(by_point.items())),
        "trials_that_crashed_by_point": dict(sorted(crashed.items())),
        "duplicated_client_order_ids": sum(r.duplicates for r in results),
        "lost_orders": sum(r.lost for r in results),
        "never_sent_orders_closed": sum(r.resolved for r in results),
        "venue_orders": sum(r.orders for r in results),
        "venue_fills": sum(r.fills for r in results),
        "wall_secs": round(wall, 1),
        "problems": [f"{r.name}: {p}" for r in results for p in r.problems],
        "data": {"span_secs": args.span_secs, "quotes": str(quotes), "trades": str(trades)},
    }
    print(json.dumps(report, indent=2))
    return 0 if report["passed"] == report["trials"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
