"""The facts of one run as its ledger tells them: decisions, fills, marks, states, and the trading day.

:mod:`livegate.ops.rollup_read` fills a :class:`RunFacts` from a run directory; rollups,
daily reports and charts read it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from livegate.domain.orders import Fill
from livegate.ledger.fold import LedgerFold
from livegate.ledger.payload_orders import MarkoutRecorded

__all__ = ["DecisionFact", "FillFact", "RunFacts"]


class DecisionFact(NamedTuple):
    """One decision: when (ms since the epoch), on what, its outcome and the quote it saw (quote currency).

    A named tuple (immutable, built in a fraction of a frozen dataclass's time: one per order).
    """

    ts_ms: int
    client_order_id: str
    symbol: str
    side: str
    venue: str
    approved: bool
    code: str
    bid: Decimal | None
    ask: Decimal | None
    mid: Decimal | None
    age_ms: int | None


class FillFact(NamedTuple):
    """One fill counted by the fold, with its venue and its slippage against the arrival mid (bps; None if unknown)."""

    fill: Fill
    venue: str
    arrival_mid: Decimal | None
    slippage_bps: Decimal | None


@dataclass(slots=True)
class RunFacts:
    """What one run's ledger says, in ledger order.

    Attributes
    ----------
    run_dir : Path
    mode, session_id : str
        From ``session_started``.
    trading_state, trading_reason : str
        The last trading state the ledger recorded (``active`` when none).
    end_reason : str
        ``summary.json``'s end reason (empty when absent).
    day_zone : ZoneInfo
        ``[risk] day_boundary_tz`` of the run (UTC when unknown).
    decisions, fills, markouts :
        Every decision, every fill the fold counted, every markout.
    marks : list of (ts_ms, symbol, mid)
        Every mid the ledger knows, in time order: arrival quotes and markouts (quote currency).
    submits, acks : dict[str, int]
        Client order id -> ``submit_requested`` time, and -> the first venue report after it (ms).
    anomalies : list of (ts_ms, kind, detail)
    kills : list of (ts_ms, state, reason)
        Trading-state changes to ``reducing`` or ``halted``.
    drift : list of dict
        ``reconcile_drift.jsonl`` records.
    fold : LedgerFold
        The ledger's fold (orders, positions, counters).
    orders_table, fills_table : list of dict
        ``livegate ledger export`` rows (orders, fills), the first ``table_rows`` of :func:`read_run`.
    orders_count, fills_count : int
        How many rows each whole table has.
    """

    run_dir: Path
    mode: str = ""
    session_id: str = ""
    trading_state: str = "active"
    trading_reason: str = ""
    end_reason: str = ""
    day_zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    decisions: list[DecisionFact] = field(default_factory=list)
    fills: list[FillFact] = field(default_factory=list)
    markouts: list[MarkoutRecorded] = field(default_factory=list)
    marks: list[tuple[int, str, Decimal]] = field(default_factory=list)
    submits: dict[str, int] = field(default_factory=dict)
    acks: dict[str, int] = field(default_factory=dict)
    anomalies: list[tuple[int, str, str]] = field(default_factory=list)
    kills: list[tuple[int, str, str]] = field(default_factory=list)
    drift: list[dict[str, object]] = field(default_factory=list)
    fold: LedgerFold = field(default_factory=LedgerFold)
    #: Memo of :meth:`day`: (first ms of the cached day, first ms of the next, its ISO date).
    _day_span: tuple[int, int, str] = field(default=(0, 0, ""), init=False, repr=False, compare=False)
    #: Memo of :func:`livegate.ops.rollup.equity_series` per symbol (filled once the facts are complete).
    equity_memo: dict[str, list[Any]] = field(default_factory=dict, init=False, repr=False, compare=False)
    orders_table: list[dict[str, object]] = field(default_factory=list)
    fills_table: list[dict[str, object]] = field(default_factory=list)
    orders_count: int = 0
    fills_count: int = 0
    first_ts_ms: int = 0
    last_ts_ms: int = 0

    @property
    def name(self) -> str:
        """Return the run directory's name."""
        return self.run_dir.name

    def day(self, ts_ms: int) -> str:
        """Return the trading day (ISO date in :attr:`day_zone`) of a time in ms since the epoch.

        The last day asked for is kept with its bounds, so a run's many times on one day
        cost one comparison each.
        """
        start, end, day = self._day_span
        if start <= ts_ms < end:
            return day
        date = self._date_at(ts_ms)
        first = dt.datetime.combine(date, dt.time(), tzinfo=self.day_zone)
        following = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(), tzinfo=self.day_zone)
        day = date.isoformat()
        span = (round(first.timestamp() * 1000), round(following.timestamp() * 1000), day)
        if span[0] <= ts_ms < span[1] and self._date_at(span[0]) == date and self._date_at(span[1] - 1) == date:
            self._day_span = span  # kept only when the bounds check out (a midnight a DST change skips does not)
        return day

    def _date_at(self, ts_ms: int) -> dt.date:
        return dt.datetime.fromtimestamp(ts_ms / 1000, tz=self.day_zone).date()

    @property
    def ended_unhealthy(self) -> bool:
        """Return True when the run ended REDUCING or HALTED, or recorded anomalies."""
        return self.trading_state != "active" or bool(self.anomalies)
