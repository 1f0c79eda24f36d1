"""Fill reconciliation fed only what is new: venue fills by venue trade id against ledger fills.

A periodic reconciliation must not grow with the session's history (issue 14): the
venue's fills and the ledger's are each read from a cursor (the venue's own fill
sequence where it has one, else a time window that overlaps the last read; the ledger's
seq), and :class:`FillMatcher` keeps which ids each side has shown. A pass then costs what
arrived since the previous one.

The drift it reports is exactly that of comparing the two complete sets (the comparison
before issue 14, :func:`livegate.reconcile.compare.compare` with every fill): a venue fill
the ledger does not hold is ``missing_internal`` and a ledger fill the venue never listed
is ``missing_venue``, both beyond tolerance (a fill is never within tolerance).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Protocol, runtime_checkable

from livegate.domain.enums import Side
from livegate.domain.orders import Fill
from livegate.ledger import events as ev
from livegate.ledger.checkpoint_job import fold_rows
from livegate.ledger.fold import LedgerFold
from livegate.ledger.store import Ledger
from livegate.reconcile.drift import DriftKind, DriftRecord

#: How far back (ms of venue time) a time-windowed fill read reaches before the newest fill
#: already seen. A venue lists a trade under the time it happened, which can be earlier than
#: a trade listed by a read a moment before (per-symbol reads, venue-side lag); one minute
#: covers that with room, and re-reads only the fills of that minute (ids seen are skipped).
FILL_READ_OVERLAP_MS = 60_000
_ZERO = Decimal(0)


@runtime_checkable
class FillJournal(Protocol):
    """A venue that numbers its fills and can list those after a cursor (paper: its store's fill seq)."""

    async def fills_after(self, cursor: int) -> tuple[list[Fill], int]:
        """Return the fills recorded after ``cursor`` (oldest first) and the cursor after the last one.

        ``cursor`` 0 means from the first fill.
        """
        ...


@runtime_checkable
class FillHistory(Protocol):
    """A venue that can list its recent fills (paper: its stored fills; ccxt: ``fetch_my_trades``)."""

    async def recent_fills(self, since_ms: int | None = None) -> list[Fill]:
        """Return the venue's fills at or after ``since_ms`` (all when None), oldest first."""
        ...


class LedgerFills(Protocol):
    """The ledger's fills, handed out once each (:class:`LedgerFillIndex`)."""

    def new_ids(self, venue: str) -> list[str]:
        """Return venue trade ids of fills for ``venue`` (or without a venue) recorded since the last call."""
        ...


class FillMatcher:
    """Venue fill ids against ledger fill ids, updated with what is new on each side.

    Memory holds one id per fill of the session (both sides); time per update is the
    number of new fills, never the history.
    """

    __slots__ = ("_ledger_ids", "_unmatched_ledger", "_unmatched_venue", "_venue_ids")

    def __init__(self) -> None:
        self._venue_ids: set[str] = set()
        self._ledger_ids: set[str] = set()
        self._unmatched_venue: dict[str, Fill] = {}
        self._unmatched_ledger: set[str] = set()

    def is_known_at_venue(self, fill_id: str) -> bool:
        """Return True when the venue has listed ``fill_id`` before."""
        return fill_id in self._venue_ids

    def add_venue(self, fills: Iterable[Fill]) -> None:
        """Take fills the venue listed (ones seen before are ignored)."""
        for fill in fills:
            fid = fill.fill_id
            if fid in self._venue_ids:
                continue
            self._venue_ids.add(fid)
            if fid in self._ledger_ids:
                self._unmatched_ledger.discard(fid)
            else:
                self._unmatched_venue[fid] = fill

    def add_ledger(self, fill_ids: Iterable[str]) -> None:
        """Take venue trade ids of fills the ledger holds (ones seen before are ignored)."""
        for fid in fill_ids:
            if fid in self._ledger_ids:
                continue
            self._ledger_ids.add(fid)
            if fid in self._venue_ids:
                self._unmatched_venue.pop(fid, None)
            else:
                self._unmatched_ledger.add(fid)

    def resume(self, fill_ids: Iterable[str]) -> None:
        """Start from a point where both sides had shown exactly ``fill_ids`` (a recorded clean fill comparison)."""
        self._ledger_ids = set(fill_ids)
        self._venue_ids = set(self._ledger_ids)
        self._unmatched_venue = {}
        self._unmatched_ledger = set()

    def in_flight(self, ours: Callable[[str], bool]) -> dict[str, Decimal]:
        """Return, per symbol, the signed quantity (base units; buys +) of the venue's fills the ledger lacks.

        Only fills of orders ``ours(client_order_id)`` says are livegate's: their reports can
        still be on the way; an outside order's fill is never reported.
        """
        moved: dict[str, Decimal] = {}
        for fill in self._unmatched_venue.values():
            if not ours(fill.client_order_id):
                continue
            signed = fill.quantity if fill.side is Side.BUY else -fill.quantity
            moved[fill.symbol] = moved.get(fill.symbol, _ZERO) + signed
        return moved

    def drift(self, venue: str, trigger: str, ts_ms: int) -> list[DriftRecord]:
        """Return the fills only one side holds: venue-only in the venue's order, then ledger-only ids sorted."""
        records = [
            DriftRecord(
                DriftKind.MISSING_INTERNAL, venue, fill.symbol, "",
                f"{fill.fill_id} {fill.side.value} {fill.quantity}@{fill.price}", str(fill.quantity), "0",
                "fills", trigger, ts_ms, beyond_tolerance=True, client_order_id=fill.client_order_id,
            )
            for fill in self._unmatched_venue.values()
        ]  # fmt: skip
        records += [
            DriftRecord(
                DriftKind.MISSING_VENUE, venue, "", fill_id, "", "fill in ledger, not at venue", "0",
                "fills", trigger, ts_ms, beyond_tolerance=True,
            )
            for fill_id in sorted(self._unmatched_ledger)
        ]  # fmt: skip
        return records


class LedgerReader(Protocol):
    """Something that folds raw ledger rows and keeps facts of its own (the run report's reader).

    :class:`livegate.ops.rollup_read.RunReader` is one: a session's fill index reads the
    ledger through it, so the end-of-run report does not fold the ledger again.
    """

    @property
    def fold(self) -> LedgerFold:
        """Return the fold of the rows taken so far."""
        ...

    def take_rows(self, rows: Iterable[tuple[int, int, str, str | dict[str, object], str, str]]) -> None:
        """Fold raw rows ``(seq, ts_ms, kind, payload JSON text or dict, prev_hash, hash)`` continuing :attr:`fold`."""
        ...

    def follow(
        self,
        kept_rows: Callable[[int], list[tuple[int, int, str, str | dict[str, object], str, str]] | None],
        rows_between: Callable[[int, int], list[tuple[int, int, str, str, str, str]]] | None = None,
    ) -> None:
        """Take the rows the ledger still keeps in memory (``Ledger.kept_rows``) when the run ends.

        ``rows_between`` (``Ledger.rows_between``) reads back the events of an order the
        reader let go (:mod:`livegate.ledger.fold_retire`).
        """
        ...


class LedgerFillIndex:
    """The venue fill ids the ledger holds, from the one ledger fold, read incrementally (each event once).

    A fill recorded twice (same client order id and venue trade id) counts once, as in
    resume and export (:mod:`livegate.ledger.fold`).
    """

    __slots__ = ("_fold", "_ledger", "_read", "_reader", "on_retired")

    def __init__(self, ledger: Ledger, fold: LedgerFold | None = None, *, reader: LedgerReader | None = None) -> None:
        """Read ``ledger`` from its first event, or go on from ``fold`` (a fold of its first events, now owned here).

        With ``reader`` (that has read nothing yet), every event (markouts too) is read
        through it and its fold is the index's.

        Raises
        ------
        ValueError
            If both ``fold`` and ``reader`` are given, or ``reader`` has read events already.
        """
        if reader is not None and (fold is not None or reader.fold.last_seq != 0):
            raise ValueError("a fill index reads through a reader only from the ledger's first event")
        self._ledger = ledger
        self._reader = reader
        if reader is not None:
            self._fold = reader.fold
            reader.follow(ledger.kept_rows, ledger.rows_between)  # the report takes the last rows from memory too
        else:
            self._fold = LedgerFold() if fold is None else fold
        #: Per venue name, how many of the fold's fills were already handed out by :meth:`new_ids`.
        self._read: dict[str, int] = {}
        #: Told the orders the reader's fold let go each time it caught up with the ledger
        #: (:meth:`livegate.ledger.fold_retire.Retirement.take_retired`), or None.
        self.on_retired: Callable[[list[str]], object] | None = None

    def _catch_up(self) -> int:
        if self._reader is not None:  # the reader keeps the markouts' facts too; the ledger kept the new rows
            self._reader.take_rows(self._ledger.tail_rows(self._fold.last_seq))
            retirement = self._fold.retirement
            if retirement is not None and self.on_retired is not None:
                self.on_retired(retirement.take_retired())  # at the ledger's head: nothing about them is unread
            return len(self._fold.fills)
        # markouts change no order, position or fill of a fold: SQLite leaves them out (a third of a
        # trading session's events); the fold's last seq then stays at the event before them, which
        # only makes the next read start there
        fold_rows(self._fold, self._ledger.rows(after_seq=self._fold.last_seq, except_kind=ev.MARKOUT))
        return len(self._fold.fills)

    def ids(self, venue: str) -> set[str]:
        """Return the fill ids recorded for ``venue`` (and fills recorded without a venue)."""
        self._catch_up()
        return self._fold.fill_ids(venue)

    def new_ids(self, venue: str) -> list[str]:
        """Return the ids of fills for ``venue`` (or without a venue) recorded since the last call for ``venue``."""
        count = self._catch_up()
        start = self._read.get(venue, 0)
        self._read[venue] = count
        return self._fold.fill_ids_since(start, venue)

    def position(self, venue: str) -> int:
        """Return how many of the fold's fills (all venues, in fold order) :meth:`new_ids` handed out for ``venue``."""
        return self._read.get(venue, 0)

    def skip_to(self, venue: str, count: int) -> list[str] | None:
        """Mark the fold's first ``count`` fills as handed out for ``venue``; return their ids for ``venue``.

        For a resumed run whose last reconciliation found the first ``count`` fills equal
        at the venue (:class:`~livegate.ledger.payload_session.FillsMatched`). Returns None (and
        marks nothing) when the fold holds fewer fills than ``count``.
        """
        if count > len(self._fold.fills):
            return None
        self._read[venue] = count
        return self._fold.fill_ids_since(0, venue, count)
