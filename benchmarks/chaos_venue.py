"""Chaos run: livegate sessions against the Binance exchange emulator with random venue faults.

Usage: ``python benchmarks/chaos_venue.py --minutes 20 [--seed 1] [--events 1500]``.

Each session is a real ``livegate run --mode live`` subprocess (armed as an operator arms
it: token, env key, credentials, preflight) driving unmodified ccxt against a fresh
emulator (``tests/venue_emulator``) of Binance Spot or USD-M, running the market maker or
the taker. While it runs, a fault is injected every 0.3 to 1.5 s, drawn from: 503 -1007 after
the venue accepted, a client timeout after the venue accepted, orders invisible to lookups,
5xx, 429 on submit and on reads, a 418 ban, a revoked key (restored after a second), clock
skew, dropped market or private sockets, lost, duplicated and reordered private events,
orders made outside livegate and balance changes.

After each session the venue's own state is read and judged:

* duplicate orders: a client order id the venue accepted more than once;
* cap breaches, recomputed from the venue's fills of livegate's orders: an order whose
  notional (quantity x fill price) exceeds ``max_order_notional_usd``, a position whose
  notional at a fill price exceeds ``max_symbol_notional_usd`` plus the price band (the
  gate values orders at the far side plus the band, so a fill can sit that far away),
  or more orders than ``max_orders_per_day``;
* open orders: a livegate order still working at the venue after the session ended.

It prints one line per session and the totals.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.venue_emulator import Emulator, HttpFault, Kind  # noqa: E402
from tests.venue_emulator.fixtures import EmulatorThread  # noqa: E402
from tests.venues_e2e.helpers import Armed, arm, preflight  # noqa: E402

ORDER_CAP_USD = Decimal(300)
SYMBOL_CAP_USD = Decimal(1000)
PRICE_BAND_BPS = Decimal(50)
ORDERS_PER_DAY = 400
TIMEOUT_MS = 1500

RISK = f"""
[risk]
max_order_notional_usd = {ORDER_CAP_USD}
max_symbol_notional_usd = {SYMBOL_CAP_USD}
max_gross_notional_usd = {SYMBOL_CAP_USD}
max_daily_turnover_usd = 100000
daily_loss_limit_usd = 500
max_orders_per_day = {ORDERS_PER_DAY}
price_band_bps = {PRICE_BAND_BPS}
"""

STRATEGIES = {
    "maker": ("livegate.strategy.examples.market_maker:MarketMaker", 'requote_interval_ms = 200\nquantity = "0.002"'),
    "taker": (
        "livegate.strategy.examples.taker:Taker",
        'quantity = "0.002"\nwindow_ms = 200\nthreshold = "0.1"\ncooldown_ms = 100\nmax_position = "0.03"',
    ),
}
VENUES = {Kind.SPOT: ("ccxt:binance", "BTC/USDT"), Kind.USDM: ("ccxt:binanceusdm", "BTC/USDT:USDT")}


Fault = Callable[[EmulatorThread], None]


def _http(fault: HttpFault) -> Fault:
    return lambda t: t.call(lambda e: e.fail_next(fault))


def _on(fn: Callable[[Emulator], object]) -> Fault:
    return lambda t: t.call(fn)


def _faults(timeout_ms: int) -> list[tuple[str, Fault]]:
    late = timeout_ms / 1000 + 0.5
    retry = {"Retry-After": "1"}
    return [
        ("503 -1007 after accept", _http(HttpFault("/order", "POST", after_accept=True))),
        (
            "timeout after accept",
            _http(HttpFault("/order", "POST", after_accept=True, delay_secs=late, replace_answer=False)),
        ),
        ("orders invisible 2 s", _on(lambda e: e.hide_new_orders(2.0))),
        ("500 on submit", _http(HttpFault("/order", "POST", status=500, code=None, msg=""))),
        ("429 on submit", _http(HttpFault("/order", "POST", status=429, code=-1015, msg="Too many.", headers=retry))),
        (
            "429 on open orders",
            _http(HttpFault("/openOrders", "GET", status=429, code=-1003, msg="Too many.", headers=retry)),
        ),
        ("503 on cancel", _http(HttpFault("/order", "DELETE", status=503, code=None, msg=""))),
        ("clock skew +1.5 s", _on(lambda e: e.set_clock_skew(1500))),
        ("clock skew back", _on(lambda e: e.set_clock_skew(0))),
        ("drop private stream", lambda t: t.run(t.emulator.drop_private_stream())),
        ("drop market streams", lambda t: t.run(t.emulator.drop_market_streams())),
        ("lose a private event", _on(lambda e: e.lose_private(1))),
        ("duplicate private events", _on(lambda e: e.duplicate_private(2))),
        ("reorder private events", _on(lambda e: e.reorder_private(2))),
        ("outside order", _on(_outside_order)),
        ("balance change", _on(lambda e: e.adjust_balance("USDT", Decimal(-25)))),
    ]


_RARE: list[tuple[str, Fault]] = [
    ("418 ban 2 s", _http(HttpFault("", "", status=418, code=-1003, msg="IP banned.", headers={"Retry-After": "2"}))),
    ("revoked key for 1 s", _on(lambda e: e.revoke_key(True))),
]


def _outside_order(e: Emulator) -> None:
    bid, _ask = e.book.quote("BTCUSDT")
    if bid > 0:
        e.external_order("BUY", Decimal("0.001"), (bid * Decimal("0.9")).quantize(Decimal("0.1")))


@dataclass
class SessionResult:
    """What one chaos session left at the venue."""

    kind: Kind
    strategy: str
    exit_code: int
    faults: list[str] = field(default_factory=list)
    orders: int = 0
    fills: int = 0
    duplicates: list[str] = field(default_factory=list)
    breaches: list[str] = field(default_factory=list)
    open_after: int = 0
    wall_secs: float = 0.0


def _breaches(emu: Emulator, ours: set[int]) -> list[str]:
    found: list[str] = []
    position = Decimal(0)
    band = 1 + PRICE_BAND_BPS / Decimal(10000)
    for order in emu.book.orders.values():
        if order.order_id in ours and order.executed_qty:
            notional = order.executed_qty * order.avg_price
            if notional > ORDER_CAP_USD * band:
                found.append(f"order {order.client_order_id} notional {notional:.2f} > {ORDER_CAP_USD}")
    for fill in emu.fills():
        if fill.order_id not in ours:
            continue
        position += fill.qty if fill.side == "BUY" else -fill.qty
        notional = abs(position) * fill.price
        if notional > SYMBOL_CAP_USD * band:
            found.append(f"position {position} x {fill.price} = {notional:.2f} > {SYMBOL_CAP_USD}")
    if len(ours) > ORDERS_PER_DAY:
        found.append(f"{len(ours)} orders > {ORDERS_PER_DAY} a day")
    return found


def run_session(root: Path, rng: random.Random, events: int) -> SessionResult:
    """Run one chaos session in ``root`` and judge the venue afterwards."""
    kind = rng.choice([Kind.SPOT, Kind.USDM])
    name = rng.choice(sorted(STRATEGIES))
    spec, params = STRATEGIES[name]
    venue, symbol = VENUES[kind]
    balances = {"USDT": Decimal(10000)} if kind is Kind.USDM else {"USDT": Decimal(10000), "BTC": Decimal(0)}
    thread = EmulatorThread(kind, pace_ms=4, max_events=events + 400, balances=balances)
    result = SessionResult(kind, name, exit_code=-1)
    started = time.monotonic()
    try:
        armed = arm(root, thread.emulator, venue=venue, symbol=symbol, strategy=spec, params=params)
        _add_risk(armed)
        checked = preflight(armed, "live")
        if checked.returncode != 0:
            raise RuntimeError(f"preflight failed: {checked.stdout[-500:]}{checked.stderr[-500:]}")
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "livegate",
                "run",
                "--profile",
                str(armed.profile),
                "--mode",
                "live",
                "--enable-live",
                "--no-progress",
                "--max-events",
                str(events),
                "--out",
                str(root / "run"),
            ],
            cwd=root,
            env=armed.env,
            stdout=subprocess.DEVNULL,
            stderr=open(root / "stderr.log", "w"),
        )
        _inject(thread, proc, rng, result)
        result.exit_code = proc.wait(timeout=120)
        time.sleep(0.3)  # let in-flight venue work (matching of the last answers) settle
        ours = thread.call(lambda e: {o.order_id for o in e.book.orders.values() if not o.external})
        result.orders = len(ours)
        result.fills = thread.call(lambda e: sum(1 for f in e.fills() if f.order_id in ours))
        result.duplicates = thread.call(lambda e: e.duplicate_client_order_ids())
        result.breaches = thread.call(lambda e: _breaches(e, ours))
        result.open_after = thread.call(lambda e: sum(1 for o in e.open_orders() if not o.external))
    finally:
        thread.close()
        result.wall_secs = time.monotonic() - started
    return result


def _add_risk(armed: Armed) -> None:
    text = armed.profile.read_text(encoding="utf-8")
    head, _, rest = text.partition("[risk]")
    _old, _, tail = rest.partition("\n[canary]")
    armed.profile.write_text(head + RISK.strip() + "\n\n[canary]" + tail, encoding="utf-8")
    armed.profile.write_text(
        armed.profile.read_text(encoding="utf-8").replace("timeout_ms = 3000", f"timeout_ms = {TIMEOUT_MS}"),
        encoding="utf-8",
    )


def _inject(thread: EmulatorThread, proc: subprocess.Popen[bytes], rng: random.Random, result: SessionResult) -> None:
    faults = _faults(TIMEOUT_MS)
    time.sleep(2.0)  # let the session start, reconcile and trade a little
    while proc.poll() is None:
        label, fault = rng.choice(_RARE) if rng.random() < 0.04 else rng.choice(faults)
        try:
            fault(thread)
        except Exception as exc:  # a fault that cannot fire (e.g. no socket) is skipped
            label += f" (not injected: {exc!r})"
        result.faults.append(label)
        if label.startswith("revoked key"):
            time.sleep(1.0)
            thread.call(lambda e: e.revoke_key(False))
        time.sleep(rng.uniform(0.3, 1.5))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--events", type=int, default=1500, help="market events per session")
    parser.add_argument("--keep", action="store_true", help="keep the session directories")
    args = parser.parse_args()
    logging.getLogger("aiohttp").setLevel(logging.CRITICAL)  # dropped sockets are injected faults
    rng = random.Random(args.seed)
    deadline = time.monotonic() + args.minutes * 60
    base = Path(tempfile.mkdtemp(prefix="lg-chaos-"))
    results: list[SessionResult] = []
    while time.monotonic() < deadline:
        root = base / f"s{len(results):04d}"
        root.mkdir()
        r = run_session(root, rng, args.events)
        results.append(r)
        print(
            f"session {len(results):4d} {r.kind.value:4s} {r.strategy:5s} exit={r.exit_code} "
            f"faults={len(r.faults):2d} orders={r.orders:4d} fills={r.fills:4d} dup={len(r.duplicates)} "
            f"breaches={len(r.breaches)} open_after={r.open_after} {r.wall_secs:.1f}s",
            flush=True,
        )
        for problem in [*r.duplicates, *r.breaches]:
            print(f"    {problem}", flush=True)
        if r.duplicates or r.breaches or r.open_after:
            print(f"    faults: {', '.join(r.faults)}; dir {root}", flush=True)
    total = len(results)
    print(f"\nsessions {total}, minutes {args.minutes}, seed {args.seed}, dir {base if args.keep else '(removed)'}")
    print(f"orders at the venue {sum(r.orders for r in results)}, fills {sum(r.fills for r in results)}")
    print(f"faults injected {sum(len(r.faults) for r in results)}")
    exits: dict[int, int] = {}
    for r in results:
        exits[r.exit_code] = exits.get(r.exit_code, 0) + 1
    print(f"exit codes {dict(sorted(exits.items()))}")
    dup = sum(len(r.duplicates) for r in results)
    breaches = sum(len(r.breaches) for r in results)
    left = sum(1 for r in results if r.open_after)
    print(f"duplicate client order ids at the venue {dup}")
    print(f"cap breaches (recomputed from venue fills) {breaches}")
    print(f"sessions ended with orders open at the venue {left}")
    if not args.keep:
        import shutil

        shutil.rmtree(base, ignore_errors=True)
    return 1 if dup or breaches or left else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
