"""Wall time of ``livegate --help`` and ``livegate --version`` (issue 14 item 8: --help ≤ 0.4 s).

Runs each command ``--rounds`` times as a fresh process (interleaved, so load drifts hit
both alike) and prints the median and the best, in seconds. Run it on an idle machine:
``python benchmarks/cli_latency.py --rounds 15``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time


def _once(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11)
    args = parser.parse_args()
    exe = shutil.which("livegate")
    base = [exe] if exe else [sys.executable, "-m", "livegate"]
    commands = {"--help": [*base, "--help"], "--version": [*base, "--version"]}
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.rounds):
        for name, argv in commands.items():
            times[name].append(_once(argv))
    for name, values in times.items():
        median, best = statistics.median(values), min(values)
        print(f"livegate {name:9s} median {median:.3f} s  best {best:.3f} s  ({args.rounds} runs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
