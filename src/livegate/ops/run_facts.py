"""The facts of one run as its ledger tells them: decisions, fills, marks, states, and the trading day.

:mod:`livegate.ops.rollup_read` fills a :class:`RunFacts` from a run directory; rollups,
daily reports and charts read it.
"""

from __future__ import annotations

import datetime as dt
import itertools
from array import array
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, NamedTuple, Protocol
from zoneinfo import ZoneInfo

from livegate.domain.orders import Fill
from livegate.ledger.fold import LedgerFold

__all__ = [
    "REAL_MODES",
    "DecisionFact",
    "DecisionLog",
    "DecisionRecords",
    "FillFact",
    "FillRecords",
    "MarkLog",
    "MarkRecords",
    "RunFacts",
]

_NAN: Final = float("nan")
#: Distinct mids a :class:`MarkLog` remembers to share (forgotten all at once past this).
_MIDS_SHARED: Final = 4096


#: Modes whose submits go to a real venue: only they have a meaningful submit -> ack latency.
REAL_MODES: Final = frozenset({"testnet", "canary", "live"})


class DecisionFact(NamedTuple):
    """One decision: when (ms since the epoch), on what, its outcome, the quote it saw (quote currency, floats)."""

    ts_ms: int
    venue: str
    symbol: str
    approved: bool
    code: str
    bid: float | None
    ask: float | None


class DecisionLog:
    """Every decision of a run in ledger order, kept as columns: about 30 bytes each, not a tuple of objects.

    A run keeps one per order (a market maker sends tens of thousands an hour), so its
    memory must not be a tuple, its decimals and its strings per order. The (venue,
    symbol, approved, code) of a decision is a number into a table of the few distinct
    ones; the arrival bid and ask are floats (NaN: no quote), which is all the charts draw.
    Iterating gives :class:`DecisionFact` rows.
    """

    __slots__ = ("_asks", "_bids", "_index", "_keys", "_table", "_ts")

    def __init__(self) -> None:
        self._ts = array("q")
        self._keys = array("I")
        self._bids = array("d")
        self._asks = array("d")
        self._table: list[tuple[str, str, bool, str]] = []
        self._index: dict[tuple[str, str, bool, str], int] = {}

    def append(
        self, ts_ms: int, venue: str, symbol: str, approved: bool, code: str, bid: Decimal | None, ask: Decimal | None
    ) -> None:
        """Add one decision (``bid`` and ``ask`` None when it saw no quote)."""
        key = (venue, symbol, approved, code)
        number = self._index.get(key)
        if number is None:
            number = self._index[key] = len(self._table)
            self._table.append(key)
        self._ts.append(ts_ms)
        self._keys.append(number)
        self._bids.append(_NAN if bid is None else float(bid))
        self._asks.append(_NAN if ask is None else float(ask))

    def __len__(self) -> int:
        return len(self._ts)

    def __iter__(self) -> Iterator[DecisionFact]:
        table = self._table
        for ts, number, bid, ask in zip(self._ts, self._keys, self._bids, self._asks, strict=True):
            venue, symbol, approved, code = table[number]
            quoted = bid == bid  # NaN (no quote) is the only value unequal to itself
            yield DecisionFact(ts, venue, symbol, approved, code, bid if quoted else None, ask if quoted else None)

    def __eq__(self, other: object) -> bool:
        return list(self) == list(other) if isinstance(other, DecisionLog) else NotImplemented

    __hash__ = None  # type: ignore[assignment]


class MarkLog:
    """Every mid the ledger knows, as columns: time (ms since the epoch), symbol, mid (exact, quote currency).

    :meth:`sort` puts them in time order (stable: ledger order among equal times), once,
    when the facts are complete; iterating gives ``(ts_ms, symbol, mid)``.
    """

    __slots__ = ("_mids", "_seen", "_symbols", "_ts")

    def __init__(self) -> None:
        self._ts = array("q")
        self._symbols: list[str] = []
        self._mids: list[Decimal] = []
        #: Recent mids by (value, exponent): a mid repeats at many decisions and markouts, one object serves.
        self._seen: dict[tuple[Decimal, int | str], Decimal] = {}

    def append(self, ts_ms: int, symbol: str, mid: Decimal) -> None:
        """Add one mid (an equal one with the same exponent added before is kept once)."""
        key = (mid, mid.as_tuple().exponent)
        seen = self._seen
        kept = seen.get(key)
        if kept is None:
            if len(seen) >= _MIDS_SHARED:
                seen.clear()
            kept = seen[key] = mid
        self._ts.append(ts_ms)
        self._symbols.append(symbol)
        self._mids.append(kept)

    def sort(self) -> None:
        """Order the marks by time, keeping ledger order among equal times."""
        ts = self._ts
        if all(a <= b for a, b in itertools.pairwise(ts)):
            return
        order = sorted(range(len(ts)), key=ts.__getitem__)
        self._ts = array("q", [ts[i] for i in order])
        self._symbols = [self._symbols[i] for i in order]
        self._mids = [self._mids[i] for i in order]

    def __len__(self) -> int:
        return len(self._ts)

    def __iter__(self) -> Iterator[tuple[int, str, Decimal]]:
        return zip(self._ts, self._symbols, self._mids, strict=True)

    def __eq__(self, other: object) -> bool:
        return list(self) == list(other) if isinstance(other, MarkLog) else NotImplemented

    __hash__ = None  # type: ignore[assignment]


class FillFact(NamedTuple):
    """One fill counted by the fold, with its venue and its slippage against the arrival mid (bps; None if unknown)."""

    fill: Fill
    venue: str
    arrival_mid: Decimal | None
    slippage_bps: Decimal | None


class DecisionRecords(Protocol):
    """Where a run's decisions are kept, iterated in ledger order.

    :class:`DecisionLog` in memory, or on disk (:class:`livegate.ops.run_facts_scratch.ScratchDecisionLog`).
    """

    def append(
        self, ts_ms: int, venue: str, symbol: str, approved: bool, code: str, bid: Decimal | None, ask: Decimal | None
    ) -> None:
        """Add one decision (``bid`` and ``ask`` None when it saw no quote)."""

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[DecisionFact]: ...


class MarkRecords(Protocol):
    """Where a run's mids are kept, iterated as ``(ts_ms, symbol, mid)`` (quote currency).

    :class:`MarkLog` in memory, or on disk (:class:`livegate.ops.run_facts_scratch.ScratchMarkLog`).
    """

    def append(self, ts_ms: int, symbol: str, mid: Decimal) -> None:
        """Add one mid (quote currency)."""

    def sort(self) -> None:
        """Give the marks in time order from now on (ledger order among equal times)."""

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[tuple[int, str, Decimal]]: ...


class FillRecords(Protocol):
    """Where a run's fill facts are kept, iterated in ledger order.

    A list in memory, or on disk (:class:`livegate.ops.run_facts_scratch.ScratchFillLog`).
    """

    def append(self, fact: FillFact, /) -> None:
        """Add one fill's fact."""

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[FillFact]: ...


def _fill_list() -> FillRecords:
    facts: list[FillFact] = []
    return facts


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
    decisions : DecisionRecords
        Every decision (in memory, or on disk for a reader that keeps nothing per order).
    fills : FillRecords
        Every fill the fold counted.
    markouts : dict[(day, symbol, horizon_ms), (sum of bps, count)]
        Markouts summed as they come, by the trading day of their fill (bps as floats, in
        ledger order: the rollup's mean is this sum over this count).
    marks : MarkRecords
        Every mid the ledger knows, in time order: arrival quotes and markouts (quote currency).
    submits : MutableMapping[str, int]
        Client order id -> ``submit_requested`` time (ms); on disk for a reader that retires
        finished orders (:class:`livegate.ledger.scratch.ScratchInts`).
    acks : dict[str, int]
        Client order id -> the first venue report after its submit (ms); kept only in the
        modes whose submits reach a real venue (:data:`REAL_MODES`), the only ones whose
        latency the rollup shows.
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
    decisions: DecisionRecords = field(default_factory=DecisionLog)
    fills: FillRecords = field(default_factory=_fill_list)
    markouts: dict[tuple[str, str, int], tuple[float, int]] = field(default_factory=dict)
    marks: MarkRecords = field(default_factory=MarkLog)
    submits: MutableMapping[str, int] = field(default_factory=dict)
    acks: dict[str, int] = field(default_factory=dict)
    anomalies: list[tuple[int, str, str]] = field(default_factory=list)
    kills: list[tuple[int, str, str]] = field(default_factory=list)
    drift: list[dict[str, object]] = field(default_factory=list)
    fold: LedgerFold = field(default_factory=LedgerFold)
    #: Memo of :meth:`day`: (first ms of the cached day, first ms of the next, its ISO date).
    _day_span: tuple[int, int, str] = field(default=(0, 0, ""), init=False, repr=False, compare=False)
    #: Memo of :func:`livegate.ops.equity.equity_digest` (made once the facts are complete).
    equity_memo: Any = field(default=None, init=False, repr=False, compare=False)
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
