"""Roll runs up per trading day, mode, venue and symbol (``livegate rollup``, issue 13 item 2).

Each row aggregates every run that touched its (day, mode, venue, symbol); the columns,
with units, are :data:`ROLLUP_COLUMNS` (docs/daily.md lists them). Money is exact decimal
text in USD (USDT counted as USD); bps and ms figures are numbers rounded to 0.0001.
Counts that belong to a run rather than a symbol (anomalies, kills, drift records) are the
run's counts on that day, repeated on each of its rows.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from livegate.domain.enums import Liquidity
from livegate.ledger.scratch import scratch_db
from livegate.ops.equity import equity_digest
from livegate.ops.run_facts import REAL_MODES, RunFacts

__all__ = ["ROLLUP_COLUMNS", "RollupRow", "percentile", "rollup_rows"]

ROLLUP_COLUMNS: Final = (
    "day",
    "mode",
    "venue",
    "symbol",
    "runs",
    "intents",
    "approvals",
    "denials",
    "denials_by_code",
    "orders",
    "fills",
    "fill_rate",
    "maker_share",
    "taker_share",
    "turnover_usd",
    "fees_usd",
    "realized_pnl_usd",
    "total_pnl_usd",
    "max_drawdown_usd",
    "slippage_fills",
    "slippage_median_bps",
    "slippage_p95_bps",
    "markout_1s_bps",
    "markout_5s_bps",
    "markout_60s_bps",
    "ack_latency_p50_ms",
    "ack_latency_p95_ms",
    "anomalies",
    "kills",
    "drift_records",
)
_ZERO = Decimal(0)

Key = tuple[str, str, str, str]


def percentile(values: Sequence[float], q: float) -> float | None:
    """Return the ``q``-th percentile (0..100) by linear interpolation between order statistics.

    The same rule as ``numpy.percentile``'s default (``method="linear"``); None for no values.
    """
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@dataclass(slots=True)
class RollupRow:
    """Accumulator of one (day, mode, venue, symbol)."""

    key: Key
    runs: set[str] = field(default_factory=set)
    intents: int = 0
    approvals: int = 0
    denials: Counter[str] = field(default_factory=Counter)
    #: Distinct client order ids submitted or filled (set by :func:`rollup_rows`: they are counted on disk).
    orders: int = 0
    filled_orders: set[str] = field(default_factory=set)
    fills: int = 0
    maker_notional: Decimal = _ZERO
    turnover: Decimal = _ZERO
    fees: Decimal = _ZERO
    realized: Decimal = _ZERO
    total: Decimal = _ZERO
    max_drawdown: Decimal = _ZERO
    slippage: list[float] = field(default_factory=list)
    #: Horizon (ms) -> (sum of markouts, bps; count).
    markouts: dict[int, tuple[float, int]] = field(default_factory=dict)
    ack_ms: list[float] = field(default_factory=list)
    anomalies: int = 0
    kills: int = 0
    drift: int = 0

    def to_dict(self) -> dict[str, object]:
        """Return the row as :data:`ROLLUP_COLUMNS` values (money as decimal text, rates as numbers)."""
        day, mode, venue, symbol = self.key
        orders = self.orders
        turnover = self.turnover
        maker = None if not turnover else float(self.maker_notional / turnover)
        real = mode in REAL_MODES
        return {
            "day": day,
            "mode": mode,
            "venue": venue,
            "symbol": symbol,
            "runs": len(self.runs),
            "intents": self.intents,
            "approvals": self.approvals,
            "denials": sum(self.denials.values()),
            "denials_by_code": json.dumps(dict(sorted(self.denials.items())), separators=(",", ":")),
            "orders": orders,
            "fills": self.fills,
            "fill_rate": _round(len(self.filled_orders) / orders) if orders else None,
            "maker_share": _round(maker),
            "taker_share": None if maker is None else _round(1 - maker),
            "turnover_usd": _money(turnover),
            "fees_usd": _money(self.fees),
            "realized_pnl_usd": _money(self.realized),
            "total_pnl_usd": _money(self.total),
            "max_drawdown_usd": _money(self.max_drawdown),
            "slippage_fills": len(self.slippage),
            "slippage_median_bps": _round(percentile(self.slippage, 50)),
            "slippage_p95_bps": _round(percentile(self.slippage, 95)),
            "markout_1s_bps": _mean(self.markouts.get(1_000)),
            "markout_5s_bps": _mean(self.markouts.get(5_000)),
            "markout_60s_bps": _mean(self.markouts.get(60_000)),
            "ack_latency_p50_ms": _round(percentile(self.ack_ms, 50)) if real else None,
            "ack_latency_p95_ms": _round(percentile(self.ack_ms, 95)) if real else None,
            "anomalies": self.anomalies,
            "kills": self.kills,
            "drift_records": self.drift,
        }


def _money(amount: Decimal) -> str:
    """Return exact decimal text in USD (a zero as ``0``, never ``0E-12``)."""
    return "0" if amount == 0 else str(amount)


def _mean(summed: tuple[float, int] | None) -> float | None:
    return _round(summed[0] / summed[1]) if summed else None


def rollup_rows(runs: Iterable[RunFacts]) -> list[dict[str, object]]:
    """Return one row per (day, mode, venue, symbol) over ``runs``, sorted by those four.

    Parameters
    ----------
    runs:
        Facts of each run (:func:`livegate.ops.rollup_read.read_run`).
    """
    rows: dict[Key, RollupRow] = {}
    orders = _DistinctOrders()
    for facts in runs:
        _add_run(rows, facts, orders)
    for key, count in orders.counts():
        rows[key].orders = count
    return [rows[key].to_dict() for key in sorted(rows)]


class _DistinctOrders:
    """The distinct client order ids of each row, in a scratch SQLite database (a run sends thousands an hour).

    A row's orders are the ids submitted or filled in it, over all the runs rolled up (two
    replays of the same data and configuration send the same ids: counted once).
    """

    def __init__(self) -> None:
        self._conn = scratch_db()
        self._conn.execute(
            "CREATE TABLE ids (k INTEGER NOT NULL, cid TEXT NOT NULL, PRIMARY KEY (k, cid)) WITHOUT ROWID"
        )
        self._keys: dict[Key, int] = {}
        self._pending: list[tuple[int, str]] = []

    def add(self, key: Key, cid: str) -> None:
        """Count ``cid`` once in the row of ``key``."""
        number = self._keys.setdefault(key, len(self._keys))
        self._pending.append((number, cid))
        if len(self._pending) >= 4_096:
            self._flush()

    def _flush(self) -> None:
        self._conn.executemany("INSERT OR IGNORE INTO ids VALUES (?, ?)", self._pending)
        self._pending.clear()

    def counts(self) -> list[tuple[Key, int]]:
        """Return each row's key and its count of distinct client order ids; the database is closed."""
        self._flush()
        by_number = {number: key for key, number in self._keys.items()}
        counted = self._conn.execute("SELECT k, count(*) FROM ids GROUP BY k").fetchall()
        self._conn.close()
        return [(by_number[k], int(n)) for k, n in counted]


class _RunRows:
    """Rows of one run: find or make the row of (day of ``ts_ms``, the run's mode, venue, symbol)."""

    def __init__(self, rows: dict[Key, RollupRow], facts: RunFacts) -> None:
        self.rows, self.facts = rows, facts
        self.run = str(facts.run_dir)
        #: The rows this run was added to already (a run touches few rows many times).
        self._mine: dict[Key, RollupRow] = {}

    def at(self, ts_ms: int, venue: str, symbol: str) -> RollupRow:
        return self.of((self.facts.day(ts_ms), self.facts.mode, venue, symbol))

    def of(self, key: Key) -> RollupRow:
        found = self._mine.get(key)
        if found is not None:
            return found
        found = self.rows.get(key)
        if found is None:
            found = self.rows[key] = RollupRow(key)
        found.runs.add(self.run)
        self._mine[key] = found
        return found


def _add_run(rows: dict[Key, RollupRow], facts: RunFacts, orders: _DistinctOrders) -> None:
    run = _RunRows(rows, facts)
    for d in facts.decisions:
        r = run.at(d.ts_ms, d.venue, d.symbol)
        r.intents += 1
        if d.approved:
            r.approvals += 1
        else:
            r.denials[d.code] += 1
    routed = facts.fold.routed
    for cid, ts in facts.submits.items():
        venue, symbol = routed(cid)
        r = run.at(ts, venue, symbol)
        orders.add(r.key, cid)
        ack = facts.acks.get(cid)
        if ack is not None:
            r.ack_ms.append(float(ack - ts))
    venues: dict[str, str] = {}
    for f in facts.fills:
        fill = f.fill
        venues.setdefault(fill.symbol, f.venue)
        r = run.at(fill.ts_ms, f.venue, fill.symbol)
        r.fills += 1
        r.filled_orders.add(fill.client_order_id)
        orders.add(r.key, fill.client_order_id)
        r.turnover += fill.notional
        r.fees += fill.fee
        if fill.liquidity is Liquidity.MAKER:
            r.maker_notional += fill.notional
        if f.slippage_bps is not None:
            r.slippage.append(float(f.slippage_bps))
    for d in facts.decisions:  # a symbol without fills: the venue of its first decision
        venues.setdefault(d.symbol, d.venue)
    for (day, symbol, horizon), (total, count) in facts.markouts.items():
        r = run.of((day, facts.mode, venues.get(symbol, ""), symbol))
        summed, counted = r.markouts.get(horizon, (0.0, 0))
        r.markouts[horizon] = (summed + total, counted + count)
    for symbol, venue in venues.items():
        if symbol:
            _add_pnl(run, symbol, venue)
    _add_run_counts(run)


def _add_pnl(run: _RunRows, symbol: str, venue: str) -> None:
    """Add the day's realized PnL, total PnL and max drawdown of ``symbol`` (:func:`livegate.ops.equity.equity_digest`).

    A day's PnL is the equity (or realized PnL) at its last point minus that at the end of
    the previous day of the run (0 at the start); its drawdown is the deepest fall from the
    running peak, the peak starting at the day's opening equity.
    """
    facts = run.facts
    for day, (realized, total, drawdown) in equity_digest(facts).days.get(symbol, {}).items():
        r = run.of((day, facts.mode, venue, symbol))
        r.realized += realized
        r.total += total
        r.max_drawdown = max(r.max_drawdown, drawdown)


def _add_run_counts(run: _RunRows) -> None:
    """Anomalies, kills and drift records of the run's days, on every row of that run and day."""
    facts = run.facts
    per_day: dict[str, Counter[str]] = defaultdict(Counter)
    for ts, _, _ in facts.anomalies:
        per_day[facts.day(ts)]["anomalies"] += 1
    for ts, _, _ in facts.kills:
        per_day[facts.day(ts)]["kills"] += 1
    for record in facts.drift:
        at = record.get("ts_ms")
        per_day[facts.day(at if isinstance(at, int) else facts.last_ts_ms)]["drift"] += 1
    if not per_day and not any(run.run in r.runs for r in run.rows.values()):
        per_day[facts.day(facts.last_ts_ms or facts.first_ts_ms)] = Counter()  # a run without orders still shows
    for day, counts in per_day.items():
        targets = [r for r in run.rows.values() if run.run in r.runs and r.key[:2] == (day, facts.mode)]
        if not targets:
            targets = [run.of((day, facts.mode, "", ""))]
        for r in targets:
            r.anomalies += counts["anomalies"]
            r.kills += counts["kills"]
            r.drift += counts["drift"]
