"""livegate against NautilusTrader on the same quotes, same machine, one run (issue 14 item 6).

Builds the shared quote files from the bundled real sample (:mod:`datasets`: Binance USD-M
BTCUSDT quotes re-timed), then runs both engines on each workload, interleaved (livegate,
NautilusTrader, livegate, ...), each as its own process, and prints the median whole-process
wall and CPU time of each and their ratio (livegate / NautilusTrader):

* ``100ms``: 1,000,000 quotes 100 ms apart (27.8 h of event time), an order every 1,000th quote;
* ``4ms``: 1,000,000 quotes 4 ms apart (about the real density), an order every 1,000th quote;
* ``cost per order``: 100,000 quotes 4 ms apart with an order every 10th quote (10,000
  orders), minus the same quotes with no order, divided by the orders.

livegate runs ``python -m livegate run`` (paper, every gate on, ledger ``synchronous =
FULL``, the strategy of ``bench_strategy.py``); NautilusTrader runs ``nautilus_run.py`` with
its own Python (BacktestEngine, RiskEngine on, simulated BINANCE venue, market orders).
NautilusTrader comes from its own virtual environment (``--nautilus-python``, default
``../nt-venv/bin/python`` beside the checkout, e.g. made with ``python3.11 -m venv ../nt-venv
&& ../nt-venv/bin/pip install nautilus_trader==1.221.0``); without it the benchmark says
so and exits 0.

Usage: ``python benchmarks/vs_nautilus.py [--rounds 5] [--quotes 1000000] [--order-quotes 100000]
[--only 100ms,4ms,orders]`` (``--only`` runs a subset of the workloads; ``orders`` is the cost per order).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from datasets import write_quotes  # noqa: E402

STRATEGY = f"{HERE / 'bench_strategy.py'}:EveryThousandQuotes"
NO_ORDERS = 10**12


@dataclass(frozen=True, slots=True)
class Timing:
    """Whole-process wall and CPU (user + sys) seconds of one run."""

    wall: float
    cpu: float


def timed(command: list[str], env: dict[str, str]) -> Timing:
    """Run ``command`` to the end; return its wall and CPU seconds (raises SystemExit when it fails)."""
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 3):
        err = child.stderr.read().decode(errors="replace")[-3000:] if child.stderr else ""
        raise SystemExit(f"{' '.join(command[:4])} ... failed with exit {code}:\n{err}")
    return Timing(wall, usage.ru_utime + usage.ru_stime)


def livegate_command(quotes: Path, every: int, work: Path) -> list[str]:
    """Return the livegate run of ``quotes`` with an order every ``every`` quotes."""
    profile = work / f"every_{every}.toml"
    if not profile.exists():
        profile.write_text(f'[strategy.params]\nevery = {every}\n\n[ledger]\nsynchronous = "FULL"\n')
    out = Path(tempfile.mkdtemp(prefix="lg-vs-", dir=work)) / "run"
    return [sys.executable, "-m", "livegate", "run", "--quotes", str(quotes), "--strategy", STRATEGY,
            "--profile", str(profile), "--no-progress", "--out", str(out)]  # fmt: skip


def nautilus_command(python: Path, quotes: Path, every: int) -> list[str]:
    """Return the NautilusTrader run of ``quotes``."""
    return [str(python), str(HERE / "nautilus_run.py"), "--quotes", str(quotes), "--every", str(every)]


def nautilus_python(given: Path | None) -> Path | None:
    """Return a Python that imports nautilus_trader, or None."""
    candidate = given or HERE.parent.parent / "nt-venv" / "bin" / "python"
    if not candidate.exists():
        return None
    probe = subprocess.run([str(candidate), "-c", "import nautilus_trader"], capture_output=True, check=False)
    return candidate if probe.returncode == 0 else None


def main() -> None:
    """Run the workloads interleaved and print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quotes", type=int, default=1_000_000)
    parser.add_argument("--order-quotes", type=int, default=100_000)
    parser.add_argument("--nautilus-python", type=Path, default=None)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "livegate-bench-data")
    parser.add_argument("--only", default="100ms,4ms,orders", help="comma-separated subset of 100ms, 4ms, orders")
    args = parser.parse_args()
    only = set(args.only.split(","))
    if not only or not only <= {"100ms", "4ms", "orders"}:
        parser.error(f"--only takes a comma-separated subset of 100ms, 4ms, orders; got {args.only!r}")
    nt = nautilus_python(args.nautilus_python)
    if nt is None:
        print("skipped: no NautilusTrader (give --nautilus-python, or make ../nt-venv with "
              "'python3.11 -m venv ../nt-venv && ../nt-venv/bin/pip install nautilus_trader==1.221.0')")  # fmt: skip
        return
    files = {
        "100ms": (args.data / f"quotes_{args.quotes}_100ms.csv", args.quotes, 100),
        "4ms": (args.data / f"quotes_{args.quotes}_4ms.csv", args.quotes, 4),
        "orders": (args.data / f"quotes_{args.order_quotes}_4ms.csv", args.order_quotes, 4),
    }
    files = {name: spec for name, spec in files.items() if name in only}
    for path, count, spacing in files.values():
        if not path.exists():
            write_quotes(path, count, spacing)
    order_every = 10
    workloads = {name: (files[name][0], 1000) for name in ("100ms", "4ms") if name in files}
    if "orders" in files:
        workloads["orders"] = (files["orders"][0], order_every)
        workloads["no orders"] = (files["orders"][0], NO_ORDERS)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEGATE_")}
    work = Path(tempfile.mkdtemp(prefix="lg-vs-nautilus-"))
    env["LIVEGATE_STATE_DIR"] = str(work / "state")
    times: dict[tuple[str, str], list[Timing]] = {}
    for r in range(args.rounds):
        for name, (path, every) in workloads.items():
            a = timed(livegate_command(path, every, work), env)
            b = timed(nautilus_command(nt, path, every), env)
            times.setdefault(("livegate", name), []).append(a)
            times.setdefault(("nautilus", name), []).append(b)
            print(f"round {r + 1} {name}: livegate {a.wall:.2f} s ({a.cpu:.2f} s CPU), "
                  f"NautilusTrader {b.wall:.2f} s ({b.cpu:.2f} s CPU)", flush=True)  # fmt: skip

    def med(engine: str, name: str, what: str) -> float:
        return statistics.median(getattr(t, what) for t in times[(engine, name)])

    print(f"\nmedians of {args.rounds} interleaved rounds (whole process; ratio = livegate / NautilusTrader)")
    labels = (("100ms", f"{args.quotes:,} quotes 100 ms apart"), ("4ms", f"{args.quotes:,} quotes 4 ms apart"))
    for name, label in (pair for pair in labels if pair[0] in files):
        for what in ("wall", "cpu"):
            lg, ntv = med("livegate", name, what), med("nautilus", name, what)
            print(f"{label}, {what}: livegate {lg:.2f} s, NautilusTrader {ntv:.2f} s, ratio {lg / ntv:.2f}")
    orders = args.order_quotes // order_every
    for what in ("wall", "cpu") if "orders" in files else ():
        lg = (med("livegate", "orders", what) - med("livegate", "no orders", what)) / orders * 1000
        ntv = (med("nautilus", "orders", what) - med("nautilus", "no orders", what)) / orders * 1000
        ratio = f"{lg / ntv:.2f}" if ntv > 0 else "n/a"
        print(f"cost per order ({orders:,} orders, ledger FULL), {what}: livegate {lg:.3f} ms, "
              f"NautilusTrader {ntv:.3f} ms, ratio {ratio}")  # fmt: skip
    sync_ms = fdatasync_ms(work)
    print(f"fdatasync of one small write in {work} (the durable commit each order waits for with ledger FULL): "
          f"median {sync_ms:.3f} ms over 200")  # fmt: skip


def fdatasync_ms(directory: Path, samples: int = 200) -> float:
    """Return the median ms of ``os.fdatasync`` after a 200-byte write in ``directory``.

    One order's write-ahead commit (intent, decision and client order id durable before the
    venue call, ledger ``synchronous = FULL``) waits for one such sync: a floor under
    livegate's wall time per order that NautilusTrader (no durable ledger) does not pay.
    """
    path = directory / "fdatasync.probe"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        waits = []
        for i in range(samples):
            os.pwrite(fd, b"x" * 200, i * 200)
            started = time.perf_counter()
            os.fdatasync(fd)
            waits.append(time.perf_counter() - started)
    finally:
        os.close(fd)
        path.unlink()
    return statistics.median(waits) * 1000


if __name__ == "__main__":
    main()
