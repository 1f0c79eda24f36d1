"""Read one run directory into the facts rollups and reports use, from its ledger (issue 13 items 2 and 3).

Everything comes from the run's ``ledger.sqlite`` (read through
:mod:`livegate.ledger.export` and the one fold, :mod:`livegate.ledger.fold`), plus
``reconcile_drift.jsonl`` for drift records and ``config_resolved.json`` for the trading
day's time zone; never from logs. ``summary.json`` is read only for what the ledger does
not hold (the end reason).
"""

from __future__ import annotations

import contextlib
import json
import json.scanner
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from livegate.domain.errors import DataError, LedgerError
from livegate.domain.orders import Fill
from livegate.ledger import events as ev
from livegate.ledger.db import rows_between
from livegate.ledger.export import fold_table, iter_rows, stored_hash
from livegate.ledger.fold import LedgerFold, gc_paused
from livegate.ledger.fold_retire import NotKept, Retirement
from livegate.ledger.payload_orders import (
    DecisionRecorded,
    FillRecorded,
    MarkoutRecorded,
    OrderReported,
    SubmitRequested,
)
from livegate.ledger.payload_session import AnomalyRecorded, TradingStateChanged
from livegate.ledger.scratch import ScratchInts, ScratchKeys, scratch_db
from livegate.ledger.scratch_fills import ScratchFills
from livegate.ops.run_facts import REAL_MODES, DecisionFact, FillFact, RunFacts
from livegate.ops.run_facts_scratch import ScratchDecisionLog, ScratchFillLog, ScratchMarkLog
from livegate.portfolio import Portfolio
from livegate.reconcile.drift import DRIFT_FILE, read_drift

__all__ = ["DecisionFact", "FillFact", "RunFacts", "RunReader", "read_run", "read_run_from"]

LEDGER_FILE = "ledger.sqlite"
#: Orders and fills a run report's tables show (the ledger export has them all).
REPORT_TABLE_ROWS: Final = 500

#: The C JSON scanner ``json.loads`` runs, called directly: ``(value, end index)`` of the text from 0.
_SCAN_JSON: Callable[[str, int], tuple[Any, int]] = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]


class RunReader:
    """Reads a run's ledger rows, in seq order and in as many steps as wanted, into its :class:`RunFacts`.

    Each event is parsed, decoded and folded once (:meth:`LedgerFold.apply_payload
    <livegate.ledger.fold.LedgerFold.apply_payload>`) and its facts kept. :func:`read_run`
    reads a whole ledger with one. A session hands one to its reconciler's fill index
    (:class:`livegate.reconcile.fills.LedgerFillIndex`), which reads the ledger as it
    grows; the end-of-run report then reads only the events after it
    (:func:`read_run_from`), so the session's ledger is folded once, not twice.
    """

    __slots__ = ("_follow", "_history", "broken", "facts", "keep_first")

    def __init__(self, run_dir: Path, keep_first: int | None = REPORT_TABLE_ROWS) -> None:
        """Start the facts of ``run_dir`` (its trading day's zone read from ``config_resolved.json`` now).

        ``keep_first``: finished orders leave the fold, except the first ``keep_first``
        (the rows the orders table can show); a late event about one reads its events
        back (:mod:`livegate.ledger.fold_retire`); the per-order facts (decisions, marks,
        fills, the fold's applied fills and their keys) are kept on disk
        (:mod:`livegate.ops.run_facts_scratch`). None: everything is kept in memory.
        """
        self.facts = RunFacts(run_dir=run_dir, day_zone=_day_zone(run_dir))
        #: How many of the first orders the fold keeps whole (None: all).
        self.keep_first = keep_first
        if keep_first is not None:
            # the retired orders' records, every order's submit time, decision and marks, and
            # every fill on disk (a scratch database, deleted with the reader): the reader
            # keeps nothing per order in memory
            scratch = scratch_db()
            retirement = Retirement(self._rows_between, keep_first, records=ScratchInts(scratch))
            facts = self.facts
            facts.submits = ScratchInts(scratch, "submits")
            facts.decisions = ScratchDecisionLog(scratch)
            facts.marks = ScratchMarkLog(scratch)
            facts.fills = ScratchFillLog(scratch)
            facts.fold = LedgerFold(
                portfolio=Portfolio(fill_keys=ScratchKeys(scratch)),
                fills=ScratchFills(scratch),
                approved_intents=NotKept(),
                retirement=retirement,
            )
        #: Where a retired order's events are read back: the session's ledger once followed, else the file.
        self._history: Callable[[int, int], list[tuple[int, int, str, str, str, str]]] | None = None
        #: True once a read stopped part way (an unreadable payload): the facts are not the ledger's.
        self.broken = False
        #: The session ledger's rows kept in memory after a seq (:meth:`follow`), or None.
        self._follow: Callable[[int], list[tuple[int, int, str, str | dict[str, object], str, str]] | None] | None = (
            None
        )

    def follow(
        self,
        kept_rows: Callable[[int], list[tuple[int, int, str, str | dict[str, object], str, str]] | None],
        rows_between: Callable[[int, int], list[tuple[int, int, str, str, str, str]]] | None = None,
    ) -> None:
        """Read the events appended after the last ones taken from ``kept_rows`` when the run ends.

        ``kept_rows`` is the session ledger's :meth:`~livegate.ledger.store.Ledger.kept_rows`:
        :func:`read_run_from` takes the rows it still holds in memory (parsed payloads, no
        SQLite read) before it checks the file, and reads the file only for what it lacks.
        ``rows_between`` (:meth:`Ledger.rows_between <livegate.ledger.store.Ledger.rows_between>`)
        reads back a retired order's events, its own appends not committed yet included.
        """
        self._follow = kept_rows
        self._history = rows_between

    def _rows_between(self, first_seq: int, last_seq: int) -> list[tuple[int, int, str, str, str, str]]:
        if self._history is not None:
            return self._history(first_seq, last_seq)
        return rows_between(self.facts.run_dir / LEDGER_FILE, first_seq, last_seq)

    @property
    def fold(self) -> LedgerFold:
        """Return the fold of the rows read so far (its ``last_seq`` and ``last_hash``: the last one)."""
        return self.facts.fold

    def take_rows(self, rows: Iterable[tuple[int, int, str, str | dict[str, object], str, str]]) -> None:
        """Read raw ledger rows ``(seq, ts_ms, kind, payload JSON text, prev_hash, hash)`` continuing the fold.

        A row may carry its payload already parsed, as a dict (:meth:`Ledger.tail_rows
        <livegate.ledger.store.Ledger.tail_rows>`).

        Raises
        ------
        DataError
            If a payload is not one JSON object or cannot be read (naming the run and the seq);
            the reader is then :attr:`broken`.
        """
        facts = self.facts
        fold = facts.fold
        fold_fills = fold.fills
        apply = fold.apply_payload
        scan, take_of, started = _SCAN_JSON, _TAKE.get, ev.SESSION_STARTED
        self.broken = True  # until the rows are all read
        for seq, ts_ms, kind, text, _prev, digest in rows:
            if not isinstance(
                text, str
            ):  # the appended payload dict itself (Ledger.tail_rows): its stored JSON's equal
                payload = text
            else:
                try:
                    payload, end = scan(text, 0)  # stored text is canonical JSON: no whitespace around it
                except (StopIteration, ValueError, TypeError) as exc:
                    raise DataError(
                        f"{facts.run_dir} ledger seq {seq} ({kind}): payload is not JSON ({exc!r})"
                    ) from exc
                if end != len(text) or type(payload) is not dict:
                    raise DataError(f"{facts.run_dir} ledger seq {seq} ({kind}): payload is not one JSON object")
            counted = len(fold_fills)
            try:
                typed = apply(seq, ts_ms, kind, payload, digest)  # decoded once, for the fold and the facts
            except DataError as exc:
                raise DataError(f"{facts.run_dir} {exc}") from exc
            if kind != started:
                if ts_ms < facts.first_ts_ms or facts.first_ts_ms == 0:
                    facts.first_ts_ms = ts_ms
                if ts_ms > facts.last_ts_ms:
                    facts.last_ts_ms = ts_ms
            take = take_of(type(typed))
            if take is not None:
                take(facts, ts_ms, typed, fold_fills[-1] if len(fold_fills) > counted else None)
        self.broken = False

    def finish(self, *, table_rows: int | None = None) -> RunFacts:
        """Return the facts, completed with what the ledger's events alone do not give; call once, last.

        ``table_rows`` as in :func:`read_run`.
        """
        facts, fold = self.facts, self.facts.fold
        run_dir = facts.run_dir
        facts.mode = fold.session.mode if fold.session is not None else ""
        facts.session_id = fold.session.session_id if fold.session is not None else ""
        facts.trading_state, facts.trading_reason = fold.trading_state.value, fold.trading_reason
        facts.marks.sort()
        facts.drift = read_drift(run_dir / DRIFT_FILE)
        facts.end_reason = _summary_end_reason(run_dir)
        facts.orders_table = fold_table(fold, "orders", limit=table_rows)[1]  # the fold above: read once
        facts.fills_table = fold_table(fold, "fills", limit=table_rows)[1]
        facts.orders_count, facts.fills_count = fold.entry_count, len(fold.fills)
        return facts


def read_run(run_dir: Path, *, table_rows: int | None = None) -> RunFacts:
    """Read the facts of one run directory.

    Parameters
    ----------
    run_dir:
        A run directory holding ``ledger.sqlite``.
    table_rows:
        Keep only the first ``table_rows`` rows of :attr:`RunFacts.orders_table` and
        :attr:`RunFacts.fills_table` (all when None; the counts are always complete).

    Raises
    ------
    DataError
        If the ledger is missing or unreadable, or a payload cannot be read (naming its seq).
    """
    if not (run_dir / LEDGER_FILE).is_file():
        raise DataError(f"{run_dir}: no {LEDGER_FILE}; not a livegate run directory")
    reader = RunReader(run_dir, keep_first=table_rows)
    with gc_paused():  # many small objects, no cycles (as in a resume fold)
        reader.take_rows(iter_rows(run_dir))  # one at a time: memory follows the facts
    return reader.finish(table_rows=table_rows)


def read_run_from(reader: RunReader, *, table_rows: int | None = None) -> RunFacts:
    """Return the facts of ``reader``'s run, reading only the ledger events after those it read.

    The ledger file must hold, at the reader's last seq, the chain hash the reader folded
    there (the hash covers every event before it): then the reader's events are the
    file's, and the facts are exactly :func:`read_run`'s. When it does not (an append the
    reader saw was rolled back, the last commit failed) or the reader is :attr:`~RunReader.broken`,
    the whole ledger is read again with :func:`read_run`; so it is when the rows kept in memory
    name an order the reader let go whose events cannot be read back (``LedgerError`` from the
    session's ledger).

    Raises
    ------
    DataError
        As :func:`read_run`.
    """
    run_dir = reader.facts.run_dir
    if not (run_dir / LEDGER_FILE).is_file():
        raise DataError(f"{run_dir}: no {LEDGER_FILE}; not a livegate run directory")
    fold = reader.fold
    follow = reader._follow
    if reader.keep_first is not None and (table_rows is None or table_rows > reader.keep_first):
        return read_run(run_dir, table_rows=table_rows)  # the reader let go of orders the tables show
    if follow is not None and not reader.broken:
        kept = follow(fold.last_seq)  # the session's last rows, still in memory: what the file's check covers
        if kept:
            # an unreadable payload, or a retired order's events not read back: broken, read again below
            with gc_paused(), contextlib.suppress(DataError, LedgerError):
                reader.take_rows(kept)
    if reader.broken or (fold.last_seq and stored_hash(run_dir, fold.last_seq) != fold.last_hash):
        return read_run(run_dir, table_rows=table_rows)
    with gc_paused():
        reader.take_rows(iter_rows(run_dir, after_seq=fold.last_seq))
    return reader.finish(table_rows=table_rows)


def _take_decision(facts: RunFacts, ts: int, typed: DecisionRecorded, _: object) -> None:
    fold = facts.fold
    symbol = fold.routed(typed.client_order_id)[1]  # the fold took the decision just now
    arrival = typed.arrival
    if arrival is None:
        facts.decisions.append(ts, typed.venue, symbol, typed.approved, typed.code, None, None)
        return
    if symbol:
        facts.marks.append(ts, symbol, arrival.mid)
    facts.decisions.append(ts, typed.venue, symbol, typed.approved, typed.code, arrival.bid, arrival.ask)
    entry = fold.entries.get(typed.client_order_id)
    if entry is not None and entry.decision is typed:
        # the facts hold what the report draws of the arrival quote: the fold's entry keeps
        # the decision without it (the orders table reads its outcome and venue only)
        cid = entry.client_order_id
        entry.decision = DecisionRecorded(cid, typed.approved, typed.code, typed.detail, typed.venue, None)


def _take_fill(facts: RunFacts, ts: int, typed: Any, new_fill: Fill | None) -> None:
    if new_fill is not None:  # counted by the fold just now (a duplicate or refused fill is not)
        venue = new_fill.venue or facts.fold.routed(new_fill.client_order_id)[0]
        facts.fills.append(FillFact(new_fill, venue, typed.arrival_mid, typed.slippage_bps))


def _take_markout(facts: RunFacts, ts: int, typed: Any, _: object) -> None:
    key = (facts.day(typed.fill_ts_ms), typed.symbol, typed.horizon_ms)
    total, count = facts.markouts.get(key, (0.0, 0))
    facts.markouts[key] = (total + float(typed.markout_bps), count + 1)
    facts.marks.append(ts, typed.symbol, typed.mid_after)


def _take_submit(facts: RunFacts, ts: int, typed: Any, _: object) -> None:
    entry = facts.fold.entries.get(typed.client_order_id)
    # keyed by the entry's own string: one client order id object per order, not one per event
    facts.submits.setdefault(typed.client_order_id if entry is None else entry.client_order_id, ts)


def _take_report(facts: RunFacts, ts: int, typed: Any, _: object) -> None:
    session = facts.fold.session
    if session is not None and session.mode in REAL_MODES and typed.client_order_id in facts.submits:
        facts.acks.setdefault(typed.client_order_id, ts)


def _take_anomaly(facts: RunFacts, ts: int, typed: Any, _: object) -> None:
    facts.anomalies.append((ts, typed.kind, typed.detail))


def _take_state(facts: RunFacts, ts: int, typed: Any, _: object) -> None:
    if typed.state.value != "active":
        facts.kills.append((ts, typed.state.value, typed.reason))


#: What :func:`read_run` keeps of each typed payload, by its type (the fold keeps the rest).
_TAKE: dict[type, Callable[..., None]] = {
    DecisionRecorded: _take_decision,
    FillRecorded: _take_fill,
    MarkoutRecorded: _take_markout,
    SubmitRequested: _take_submit,
    OrderReported: _take_report,
    AnomalyRecorded: _take_anomaly,
    TradingStateChanged: _take_state,
}


def _day_zone(run_dir: Path) -> ZoneInfo:
    """Return ``[risk] day_boundary_tz`` from ``config_resolved.json`` (UTC when absent or unknown)."""
    try:
        config = json.loads((run_dir / "config_resolved.json").read_text(encoding="utf-8"))
        name = str(config["config"]["risk"]["day_boundary_tz"])
        return ZoneInfo(name)
    except (OSError, ValueError, KeyError, TypeError, ZoneInfoNotFoundError):
        return ZoneInfo("UTC")


def _summary_end_reason(run_dir: Path) -> str:
    try:
        summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    return str(summary.get("end_reason", "")) if isinstance(summary, dict) else ""
