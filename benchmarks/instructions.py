"""Instruction counts of whole ``livegate run`` processes under callgrind (load-independent A/B).

Wall and CPU time on a shared machine move with the load; the number of instructions a
run executes does not. This runs ``python -m livegate run`` of the benchmark strategy
(``bench_strategy.py``, paper, ledger ``synchronous = FULL``) under ``valgrind
--tool=callgrind`` and prints, for each source tree given:

* ``per order``: (quotes with an order every ``--every`` quotes - the same quotes with no
  order) / orders: what one order costs, everything included (gates, ledger, paper venue,
  reconciliation, run report);
* ``heartbeat run``: the whole run of ``--hb-quotes`` quotes 100 ms apart with an order
  every 1,000th (one heartbeat per 10 quotes, as the 100 ms workload of ``vs_nautilus.py``).

valgrind slows Python about 50 times: the defaults (20,000 quotes, 2,000 orders; 100,000
quotes) take a few minutes per tree. Needs ``valgrind`` (Debian: ``apt-get install
valgrind``). ``.pyc`` files are written by a warm-up run first, so module compilation is
not counted.

Usage: ``python benchmarks/instructions.py [--tree SRC ...] [--quotes 20000] [--every 10]
[--hb-quotes 100000]`` (``--tree`` is a directory holding the ``livegate`` package, e.g. the
``src`` of an older checkout made with ``git archive``; default: this checkout's ``src``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from datasets import write_quotes  # noqa: E402

STRATEGY = f"{HERE / 'bench_strategy.py'}:EveryThousandQuotes"
NO_ORDERS = 10**12
_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def run_instructions(tree: Path, quotes: Path, every: int, work: Path, *, valgrind: bool = True) -> int:
    """Return the instructions one ``livegate run`` of ``quotes`` executes (0 when not under valgrind).

    Raises
    ------
    SystemExit
        If the run fails or valgrind prints no count.
    """
    profile = work / f"every_{every}.toml"
    profile.write_text(f'[strategy.params]\nevery = {every}\n\n[ledger]\nsynchronous = "FULL"\n')
    out = Path(tempfile.mkdtemp(prefix="lg-ir-", dir=work)) / "run"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE" and not k.startswith("LIVEGATE_")}
    env["PYTHONPATH"] = str(tree)
    env["LIVEGATE_STATE_DIR"] = str(out.parent / "state")
    command = [sys.executable, "-m", "livegate", "run", "--quotes", str(quotes), "--strategy", STRATEGY,
               "--profile", str(profile), "--no-progress", "--out", str(out)]  # fmt: skip
    if valgrind:
        command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    shutil.rmtree(out.parent, ignore_errors=True)
    if done.returncode not in (0, 3):
        raise SystemExit(f"livegate run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    if not valgrind:
        return 0
    found = _REFS.findall(done.stderr)
    if not found:
        raise SystemExit(f"no instruction count in valgrind's output:\n{done.stderr[-2000:]}")
    return int(found[-1].replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", type=Path, help="directory holding the livegate package")
    parser.add_argument("--quotes", type=int, default=20_000)
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--hb-quotes", type=int, default=100_000)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind); nothing measured")
        return
    trees = args.tree or [HERE.parent / "src"]
    with tempfile.TemporaryDirectory(prefix="lg-ir-") as tmp:
        work = Path(tmp)
        orders_file = write_quotes(work / "orders.csv", args.quotes, 4)
        hb_file = write_quotes(work / "hb.csv", args.hb_quotes, 100)
        orders = args.quotes // args.every
        for tree in trees:
            run_instructions(tree, write_quotes(work / "warm.csv", 100, 4), 10, work, valgrind=False)  # write .pyc
            with_orders = run_instructions(tree, orders_file, args.every, work)
            without = run_instructions(tree, orders_file, NO_ORDERS, work)
            heartbeat_run = run_instructions(tree, hb_file, 1000, work)
            print(f"{tree}: per order {(with_orders - without) // orders:,} instructions "
                  f"({args.quotes:,} quotes, {orders:,} orders: {with_orders:,} - {without:,}); "
                  f"heartbeat run ({args.hb_quotes:,} quotes 100 ms apart) {heartbeat_run:,}")  # fmt: skip


if __name__ == "__main__":
    main()
