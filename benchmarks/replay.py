"""Replay throughput and peak memory at 100k, 1M and 5M quotes (issue 14): the whole `livegate run` path.

Each size is a normalized quotes file written by :mod:`datasets` from the bundled real
sample (quote ``i`` is sample quote ``i mod 66,089`` re-timed ``--spacing-ms`` apart), replayed
by ``python -m livegate run`` in its own process with the benchmark strategy
(``bench_strategy.py``: sees every quote, an IOC order every 1,000th), paper mode, every
gate on, ledger ``synchronous = FULL``. Printed per size: the session loop's time and
quotes/s (``summary.json``), the whole process's wall time, and peak resident memory: the
largest single process (``wait4`` rusage, which covers the reader process the session
waited for) and the peak of the session's and its reader processes' resident memory
summed, sampled from ``/proc`` every 20 ms, with the orders the session sent.

``--strategy default`` replays with the packaged default strategy instead (the market
maker ``livegate run`` uses without ``--strategy``: about 12,700 orders per 1M quotes,
most of them cancelled), whose memory is the one that grows with orders.

Usage: ``python benchmarks/replay.py [--sizes 100000,1000000,5000000] [--spacing-ms 4] [--data DIR]
[--strategy bench|default]``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from datasets import write_quotes  # noqa: E402

STRATEGY = f"{HERE / 'bench_strategy.py'}:EveryThousandQuotes"


def run_one(quotes: Path, out: Path, *, strategy: str = "bench") -> dict[str, float]:
    """Replay ``quotes`` in a child process; return its loop seconds, quotes/s, wall seconds, peak RSS (MB), orders.

    ``strategy``: ``bench`` (the benchmark strategy) or ``default`` (the packaged one).
    """
    chosen = ["--strategy", STRATEGY] if strategy == "bench" else []
    command = [sys.executable, "-m", "livegate", "run", "--quotes", str(quotes), *chosen,
               "--no-progress", "--out", str(out)]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEGATE_")}
    env["LIVEGATE_STATE_DIR"] = str(out.parent / "state")
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sampled = [0]
    sampler = threading.Thread(target=_sample_tree_rss, args=(child.pid, sampled), daemon=True)
    sampler.start()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    sampler.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in (0, 3):
        raise SystemExit(f"livegate run failed ({child.returncode}): {child.stderr.read().decode()[-2000:]}")
    summary = json.loads((out / "summary.json").read_text())
    return {
        "loop": float(summary["wall_secs"]),
        "qps": float(summary["quotes_per_sec"]),
        "wall": wall,
        "rss_mb": usage.ru_maxrss / 1024,
        "tree_mb": sampled[0] / 1024,
        "orders": float(summary["orders_submitted"]),
        "quotes": float(summary["quotes_processed"]),
    }


def _tree_rss_kb(pid: int) -> int:
    """Return the resident memory (kB) of ``pid`` plus its children's (0 once it is gone)."""
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            pids += [int(p) for p in task.read_text().split()]
        except OSError:
            continue
    total = 0
    for each in pids:
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return total


def _sample_tree_rss(pid: int, peak: list[int]) -> None:
    """Keep ``peak[0]`` at the largest :func:`_tree_rss_kb` seen until ``pid`` is gone."""
    while Path(f"/proc/{pid}").exists():
        peak[0] = max(peak[0], _tree_rss_kb(pid))
        time.sleep(0.02)


def main() -> None:
    """Write each dataset (once), replay it, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000,5000000")
    parser.add_argument("--spacing-ms", type=int, default=4)
    parser.add_argument("--strategy", choices=("bench", "default"), default="bench")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "livegate-bench-data")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {}
    for size in sizes:
        path = args.data / f"quotes_{size}_{args.spacing_ms}ms.csv"
        if not path.exists():
            write_quotes(path, size, args.spacing_ms)
        out = Path(tempfile.mkdtemp(prefix="lg-replay-")) / "run"
        r = results[size] = run_one(path, out, strategy=args.strategy)
        print(f"{size:>9,} quotes ({args.spacing_ms} ms apart): loop {r['loop']:.2f} s ({r['qps']:,.0f} quotes/s), "
              f"process {r['wall']:.2f} s, peak RSS {r['rss_mb']:.0f} MB (largest process), "
              f"{r['tree_mb']:.0f} MB (session + reader processes, sampled), {r['orders']:,.0f} orders")  # fmt: skip
    for small, big in itertools.pairwise(sizes):
        print(f"{big:,} / {small:,} quotes: process time x{results[big]['wall'] / results[small]['wall']:.1f}, "
              f"loop time x{results[big]['loop'] / results[small]['loop']:.1f} (sizes x{big / small:.0f})")  # fmt: skip


if __name__ == "__main__":
    main()
