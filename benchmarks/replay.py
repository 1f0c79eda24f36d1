"""Quotes per second through the full path: feed -> strategy -> pipeline -> paper venue -> ledger -> telemetry.

Usage: ``python benchmarks/replay.py [--quotes-target 1000000] [--repeat 3]``.
Workloads: the bundled 66,089-quote sample, and a 1,000,000-quote replay built from the
same real capture by time-shifted repeats. The strategy sees every quote and submits an
order every 1,000 quotes. Load time (CSV parsing) is reported apart from replay time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from livegate.marketdata.replay import ReplayData, load_replay, repeat_shifted
from livegate.runtime.session import RunOptions, bundled_sample, prepare, run_replay_session

sys.path.insert(0, str(Path(__file__).resolve().parent))
STRATEGY = f"{Path(__file__).resolve().parent / 'bench_strategy.py'}:EveryThousandQuotes"


def _run(data: ReplayData, label: str, env: dict[str, str]) -> dict[str, float]:
    options = RunOptions(strategy=STRATEGY, out=Path(tempfile.mkdtemp(prefix="lg-bench-")) / "run")
    resolved, mode = prepare(options, env)
    result = asyncio.run(run_replay_session(options, env, resolved=resolved, mode=mode, data=data))
    s = result.summary
    print(
        f"{label}: {s['quotes_processed']:,} quotes, {s['trades_processed']:,} trades, {s['intents']} intents, "
        f"{s['fills']} fills in {s['wall_secs']:.3f} s -> {s['quotes_per_sec']:,.0f} quotes/s"
    )
    return {"qps": float(s["quotes_per_sec"]), "wall": float(s["wall_secs"])}


def main() -> None:
    """Run the benchmark and print quotes/s for each workload."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quotes-target", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEGATE_")}
    quotes, trades = bundled_sample()
    t0 = time.perf_counter()
    data = load_replay(quotes=quotes, trades=trades)
    load_secs = time.perf_counter() - t0
    print(f"load bundled sample: {data.quotes:,} quotes + {data.trades:,} trades in {load_secs:.3f} s")
    best = max(_run(data, f"bundled sample run {i + 1}", env)["qps"] for i in range(args.repeat))
    print(f"bundled sample best: {best:,.0f} quotes/s")
    t0 = time.perf_counter()
    events = repeat_shifted(data, args.quotes_target)
    build_secs = time.perf_counter() - t0
    n_quotes = sum(1 for e in events if type(e).__name__ == "Quote")
    big = ReplayData(
        events=events,
        quotes=n_quotes,
        trades=len(events) - n_quotes,
        bad_rows=[],
        skipped_messages=0,
        inputs=[*data.inputs, f"x{args.quotes_target}"],
        first_ts_ms=events[0].ts_event_ms,
        last_ts_ms=events[-1].ts_event_ms,
        data_span_secs=(events[-1].ts_event_ms - events[0].ts_event_ms) / 1000,
        symbols=list(data.symbols),
    )
    print(f"built {n_quotes:,}-quote replay in {build_secs:.2f} s")
    best_big = max(
        _run(big, f"{n_quotes:,}-quote replay run {i + 1}", env)["qps"] for i in range(max(1, args.repeat - 1))
    )
    print(f"1M-quote replay best: {best_big:,.0f} quotes/s")


if __name__ == "__main__":
    main()
