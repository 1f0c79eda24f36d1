"""The crash harness of issue 6: SIGKILL a paper session, resume it, check nothing was lost or doubled.

Used by ``tests/recovery`` (CI, at least 20 trials) and ``benchmarks/crash.py`` (100
trials). A trial runs ``livegate run`` in a subprocess on real data through the test
composition (``python -m livegate.testing``, which installs the crash hook), kills it with
SIGKILL at a named crash point (``LIVEGATE_CRASH_AT``) or at a random wall time, resumes
with ``livegate run --resume`` (possibly killed again, e.g. during the resume's
cancel-all) until a run reaches the end of the data, then checks:

* no client order id was submitted twice to the venue (the paper store's submit log);
* no order is lost: every venue order is in the ledger with the same status and filled
  quantity, and every ledger order the venue never saw is closed as such;
* venue fills equal ledger fills (ids, quantities, prices);
* positions equal the venue's positions, and summary PnL equals the PnL recomputed from
  ``livegate ledger export --kind fills``;
* the ledger verifies as ``livegate ledger verify`` checks it (chain and anchor).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from livegate.config.paths import state_dir
from livegate.control.faults import CRASH_ENV
from livegate.domain.enums import Liquidity, Side
from livegate.domain.orders import Fill
from livegate.domain.positions import Position
from livegate.ledger.anchor import anchor_path, read_anchor
from livegate.ledger.export import export_rows
from livegate.ledger.verify import verify_ledger
from livegate.venues.paper_store import PAPER_STORE_FILE

#: The named dangerous points (issue 6) plus ``cancel_all`` during the resume's cleanup.
NAMED_POINTS = ("before_submit", "after_submit", "between_fills", "cancel_all")

#: A market maker that rests big enough orders to be filled in parts (base units BTC).
HARNESS_PROFILE = """seed = 7
[strategy]
spec = "livegate.strategy.examples.market_maker:MarketMaker"
[strategy.params]
quantity = "0.05"
max_position = "0.5"
half_spread_bps = "0.5"
requote_interval_ms = 300
"""

_MAX_RESUMES = 5
_TERMINAL = {"filled", "cancelled", "rejected", "expired"}


@dataclass(slots=True)
class TrialResult:
    """Outcome of one trial; ``problems`` is empty when every invariant held."""

    name: str
    crashes: int = 0
    resumes: int = 0
    orders: int = 0
    fills: int = 0
    duplicates: int = 0
    lost: int = 0
    resolved: int = 0
    wall_secs: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Return True when every invariant held."""
        return not self.problems


def livegate_exe() -> list[str]:
    """Return the argv prefix that runs the ``livegate`` CLI of this interpreter."""
    exe = Path(sys.executable).with_name("livegate")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "livegate"]


def hooked_exe() -> list[str]:
    """Return the argv prefix that runs the CLI with the test hooks installed (``python -m livegate.testing``)."""
    return [sys.executable, "-m", "livegate.testing"]


def write_slice(quotes_src: Path, trades_src: Path, out_dir: Path, span_secs: float) -> tuple[Path, Path]:
    """Write the first ``span_secs`` of a quotes and a trades CSV(.gz) as new gzip files; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    start: int | None = None
    for src, name in ((quotes_src, "quotes.csv.gz"), (trades_src, "trades.csv.gz")):
        with gzip.open(src, "rt", encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            ts_col = header.index("ts_event_ms")
            rows = []
            for row in reader:
                ts = int(row[ts_col])
                start = ts if start is None else start
                if ts - start > span_secs * 1000:
                    break
                rows.append(row)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        target = out_dir / name
        with gzip.open(target, "wt", encoding="utf-8") as gz:
            gz.write(buffer.getvalue())
        paths.append(target)
    return paths[0], paths[1]


def run_trial(
    run_dir: Path,
    *,
    quotes: Path,
    trades: Path,
    profile: Path,
    crash_at: str | None = None,
    kill_after_secs: float | None = None,
    resume_crash_at: str | None = None,
    env: Mapping[str, str] | None = None,
    name: str = "",
) -> TrialResult:
    """Run, crash, resume to the end and check; see the module docstring.

    Parameters
    ----------
    run_dir:
        Fresh run directory; its parent also holds the trial's state dir.
    quotes, trades, profile:
        Data and profile of the run.
    crash_at:
        ``<point>:<n>`` for the first run (``LIVEGATE_CRASH_AT``).
    kill_after_secs:
        SIGKILL the first run after this many wall seconds instead (a random point).
    resume_crash_at:
        ``<point>:<n>`` for the first resume (e.g. ``cancel_all:1``).
    env:
        Base environment (defaults to this process's).
    name:
        Label of the trial.
    """
    if run_dir.exists():
        raise ValueError(f"{run_dir} exists; a trial needs a fresh run directory")
    result = TrialResult(name=name or (crash_at or f"random@{kill_after_secs}"))
    started = time.perf_counter()
    base = dict(os.environ if env is None else env)
    base.pop(CRASH_ENV, None)
    base["LIVEGATE_STATE_DIR"] = str(run_dir.parent / f"{run_dir.name}-state")
    first = [*hooked_exe(), "run", "--no-progress", "--profile", str(profile)]
    first += ["--quotes", str(quotes), "--trades", str(trades), "--out", str(run_dir)]
    code = _run(first, base, crash_at, kill_after_secs, run_dir)
    crash_next = resume_crash_at
    while code == -signal.SIGKILL:
        result.crashes += 1
        if (run_dir / "summary.json").exists():
            code = 0  # killed after writing its results: nothing left to resume
            break
        if result.resumes >= _MAX_RESUMES:
            result.problems.append(f"still crashing after {_MAX_RESUMES} resumes")
            break
        result.resumes += 1
        resume = [*hooked_exe(), "run", "--no-progress", "--resume", str(run_dir)]
        code = _run(resume, base, crash_next, None, run_dir)
        crash_next = None
    if code not in (0, 3):
        result.problems.append(f"last run exited {code}")
    else:
        check_run(run_dir, result, base)
    result.wall_secs = time.perf_counter() - started
    return result


def _run(
    argv: list[str], env: dict[str, str], crash_at: str | None, kill_after_secs: float | None, run_dir: Path
) -> int:
    """Run one livegate process; with ``kill_after_secs``, SIGKILL it that long after its run directory appeared."""
    run_env = dict(env)
    if crash_at:
        run_env[CRASH_ENV] = crash_at
    proc = subprocess.Popen(argv, env=run_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603
    if kill_after_secs is not None:
        while proc.poll() is None and not (run_dir / "run_inputs.json").exists():
            time.sleep(0.005)
        try:
            proc.wait(timeout=kill_after_secs)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate(timeout=600)
    if proc.returncode not in (0, 3, -signal.SIGKILL):
        sys.stderr.write(err.decode(errors="replace")[-2000:])
    return proc.returncode


def check_run(run_dir: Path, result: TrialResult, env: Mapping[str, str]) -> None:
    """Check the invariants of a finished run directory into ``result``.

    The ledger is verified as ``livegate ledger verify`` does (hash chain, and the head
    against its anchor in the state dir of ``env``, the trial's ``LIVEGATE_STATE_DIR``), in
    this process.
    """
    ledger = run_dir / "ledger.sqlite"
    anchor = read_anchor(anchor_path(state_dir(env), run_dir))
    if anchor is None:
        result.problems.append(f"no anchor for {ledger} in the trial's state dir")
    verified = verify_ledger(ledger, anchor=anchor)
    if not verified.ok:
        where = f"seq {verified.first_bad_seq}"
        result.problems.append(f"ledger verify failed: {verified.verdict} at {where}: {verified.reason}")
    ledger_fills = [_export_row(row) for row in export_rows(run_dir, "fills")[1]]
    ledger_orders = {str(o["client_order_id"]): o for o in export_rows(run_dir, "orders")[1] if o["decision"]}
    with sqlite3.connect(f"file:{run_dir / PAPER_STORE_FILE}?mode=ro", uri=True) as conn:
        submits = conn.execute("SELECT client_order_id, COUNT(*) FROM submit_log GROUP BY client_order_id").fetchall()
        venue_orders = {
            r[0]: (r[1], Decimal(r[2]))
            for r in conn.execute("SELECT client_order_id, status, filled_quantity FROM orders").fetchall()
        }
        venue_fills = conn.execute("SELECT fill_id, client_order_id, price, quantity FROM fills").fetchall()
        venue_positions = {
            r[0]: Decimal(r[1]) for r in conn.execute("SELECT symbol, quantity FROM positions").fetchall()
        }
    result.orders = len(venue_orders)
    result.fills = len(venue_fills)
    result.duplicates = sum(1 for _, count in submits if count > 1)
    if result.duplicates:
        result.problems.append(f"{result.duplicates} client order ids submitted more than once")
    _check_orders(ledger_orders, venue_orders, result)
    theirs = {(f, c, Decimal(p), Decimal(q)) for f, c, p, q in venue_fills}
    ours = {(f["fill_id"], f["client_order_id"], Decimal(f["price"]), Decimal(f["quantity"])) for f in ledger_fills}
    if len(ledger_fills) != len(ours):
        result.problems.append("a fill appears twice in the ledger")
    if theirs != ours:
        result.problems.append(f"fills differ: {len(theirs - ours)} only at venue, {len(ours - theirs)} only in ledger")
    _check_positions_and_pnl(run_dir, ledger_fills, venue_positions, result)


def _export_row(row: dict[str, object]) -> dict[str, str]:
    """Return an export row as ``livegate ledger export --format jsonl`` prints it (exact strings)."""
    return {key: str(value) for key, value in row.items()}


def _check_orders(
    ledger_orders: dict[str, dict[str, object]], venue_orders: dict[str, tuple[str, Decimal]], result: TrialResult
) -> None:
    for cid, (status, filled) in venue_orders.items():
        row = ledger_orders.get(cid)
        if row is None:
            result.lost += 1
            result.problems.append(f"order {cid} at venue, not in ledger")
            continue
        if row["status"] != status or Decimal(str(row["filled_quantity"])) != filled:
            result.lost += 1
            result.problems.append(
                f"order {cid}: ledger {row['status']}/{row['filled_quantity']} venue {status}/{filled}"
            )
    for cid, row in ledger_orders.items():
        if row["decision"] != "approved" or cid in venue_orders:
            continue
        if row["status"] not in ("expired", "rejected"):
            result.lost += 1
            result.problems.append(f"order {cid} approved, never at venue, left {row['status']!r}")
        else:
            result.resolved += 1


def _check_positions_and_pnl(
    run_dir: Path, ledger_fills: list[dict[str, str]], venue_positions: dict[str, Decimal], result: TrialResult
) -> None:
    positions: dict[str, Position] = {}
    for row in ledger_fills:
        fill = Fill(
            client_order_id=row["client_order_id"],
            fill_id=row["fill_id"],
            symbol=row["symbol"],
            side=Side(row["side"]),
            price=Decimal(row["price"]),
            quantity=Decimal(row["quantity"]),
            fee=Decimal(row["fee"]),
            liquidity=Liquidity(row["liquidity"]),
            ts_ms=int(row["ts_ms"]),
        )
        positions.setdefault(fill.symbol, Position(fill.symbol)).apply_fill(fill)
    ours = {s: p.quantity for s, p in positions.items() if p.quantity != 0}
    theirs = {s: q for s, q in venue_positions.items() if q != 0}
    if ours != theirs:
        result.problems.append(f"positions differ: ledger {ours} venue {theirs}")
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    realized = sum((p.realized_pnl for p in positions.values()), Decimal(0))
    fees = sum((p.fees for p in positions.values()), Decimal(0))
    if Decimal(summary["pnl_realized_usd"]) != realized or Decimal(summary["fees_usd"]) != fees:
        result.problems.append(
            f"summary PnL {summary['pnl_realized_usd']}/{summary['fees_usd']} != fills {realized}/{fees}"
        )
    if summary["pnl_total_usd"] is not None:
        unrealized = Decimal(0)
        for symbol, position in positions.items():
            mark = summary["positions"][symbol]["mark_price"]
            unrealized += position.unrealized_pnl(Decimal(mark)) if mark is not None else Decimal(0)
        if Decimal(summary["pnl_total_usd"]) != realized + unrealized - fees:
            result.problems.append(f"summary total PnL {summary['pnl_total_usd']} != {realized + unrealized - fees}")
    for symbol, quantity in ours.items():
        if Decimal(summary["positions"][symbol]["quantity"]) != quantity:
            result.problems.append(f"summary position {symbol} differs from fills")


def plan_trials(count: int, seed: int, *, run_secs: float) -> list[dict[str, object]]:
    """Return ``count`` trial specs cycling through every named point, then random kills.

    ``run_secs`` is the wall time of an uncrashed first run, the range of random kills.
    """
    rng = random.Random(seed)
    plans: list[dict[str, object]] = []
    for i in range(count):
        kind = i % (len(NAMED_POINTS) + 1)
        if kind < len(NAMED_POINTS):
            point = NAMED_POINTS[kind]
            if point == "cancel_all":
                n = rng.randint(5, 30)
                plans.append(
                    {"name": f"cancel_all:1 after before_submit:{n}", "crash_at": f"before_submit:{n}",
                     "resume_crash_at": "cancel_all:1"}
                )  # fmt: skip
            else:
                crash_at = f"{point}:{rng.randint(1, 15 if point == 'between_fills' else 30)}"
                plans.append({"name": crash_at, "crash_at": crash_at})
        else:
            delay = round(rng.uniform(0.05, 1.0) * run_secs, 3)
            plans.append({"name": f"random:{delay}s", "kill_after_secs": delay})
    return plans
