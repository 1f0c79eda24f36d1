"""Finished orders leave a fold's memory; an event about one later brings it back from the ledger (issue 14 item 2).

A session's report reader folds the session's ledger as it grows
(:class:`livegate.ops.rollup_read.RunReader`). Kept whole, its orders, order entries,
intents and decisions grow with every order the run sends: a market maker that cancels
and replaces its quotes sends tens of thousands an hour. Yet a finished order (filled,
cancelled, rejected, expired, or a denied intent) changes only when the ledger says more
about it: a fill that raced the cancel, a repeated report. Its events are all in the
ledger, so the fold can let it go and rebuild it when that happens:

* :meth:`Retirement.after` retires an order the event just finished: its order and entry
  leave the fold; kept is the client order id with the seqs of its first and last events
  and its (venue, symbol) as a number into a small table, packed in one int (about 100
  bytes with its dict slot, where the order, its entry, intent and decision took about 1 KB).
* :meth:`Retirement.before` sees an event about a retired order first: it reads the
  ledger rows between those seqs (``history``), folds the order's own events into a
  scratch fold and puts its order and entry back, so the event then applies exactly as in
  a fold that never let it go. An order's state depends on its own events only (the
  rules of :mod:`livegate.ledger.fold_rules`), which is why the scratch fold rebuilds it.

A read back that fails (SQLite fails, a row is unreadable, the order's events are not
there) raises an error naming the order, the seqs and who asked, and first calls
:attr:`Retirement.on_read_failed`: a session halts and stops on it, whoever catches the
error (docs/architecture.md §8).

The first ``keep_first`` order entries are never retired: they are the rows a report's
orders table shows, in fold order. Positions, counters, applied fills and their keys are
never retired. Only a fold given a :class:`Retirement` retires: resume, export and
verify fold without one.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator, MutableMapping, MutableSequence
from typing import TYPE_CHECKING, Any, Final, overload

from livegate.domain.errors import DataError, LedgerError
from livegate.domain.orders import Order, OrderIntent
from livegate.ledger.fold_copy import copy_order
from livegate.ledger.payload_orders import (
    DecisionRecorded,
    FillRecorded,
    IntentRecorded,
    OrderReported,
    SubmitRequested,
)
from livegate.ledger.scratch import ScratchInts

if TYPE_CHECKING:
    from livegate.ledger.fold import LedgerFold, OrderEntry

__all__ = ["RETIRE_AFTER_EVENTS", "HistoryRows", "NotKept", "Retirement"]

#: Events a finished order stays whole before it is retired (what follows a finishing event
#: at once, such as a fill's status report, then needs no rebuild).
RETIRE_AFTER_EVENTS: Final = 1024
#: Bits of a seq in a retired order's record (a ledger of a trillion events fits).
_SEQ_BITS: Final = 40
_SEQ_MASK: Final = (1 << _SEQ_BITS) - 1
#: Set in a record once :meth:`Retirement.take_retired` handed the order to another book.
_LENT_BIT: Final = 1 << (2 * _SEQ_BITS)
_KEY_SHIFT: Final = 2 * _SEQ_BITS + 1

#: Ledger rows ``(seq, ts_ms, kind, payload JSON text or dict, prev_hash, hash)`` from a first to a last seq.
HistoryRows = Callable[[int, int], Iterable[tuple[int, int, str, Any, str, str]]]
#: Who asked for a read back, in a failed read's message.
_FOR_READER: Final = "the ledger reader"
_FOR_BOOK: Final = "the execution engine's book"
#: The typed payloads that change an order or its entry, and how to read its client order id (a
#: ``cancel_requested`` only counts, so it brings nothing back).
_CID_OF: dict[type, Callable[[Any], str]] = {
    IntentRecorded: lambda t: t.client_order_id,
    DecisionRecorded: lambda t: t.client_order_id,
    SubmitRequested: lambda t: t.client_order_id,
    OrderReported: lambda t: t.client_order_id,
    FillRecorded: lambda t: t.fill.client_order_id,
}


class Retirement:
    """The finished orders a fold let go, and how to bring one back.

    Parameters
    ----------
    history:
        Returns the ledger's rows from a first to a last seq (both included), in seq order:
        what the fold read, from the session's ledger connection (which sees its own
        uncommitted rows) or the file.
    keep_first:
        Order entries never retired: the first ones the fold made (the report's orders table).
    records:
        Where the retired orders' records are kept (client order id -> packed int): a dict by
        default; the checkpoint job passes one on disk
        (:class:`livegate.ledger.checkpoint_spill.SpilledRecords`), so it holds none.
    on_retire:
        Called with the entry, the order (None for a denied intent) and the seq of the first
        event of each order right before it is let go (the checkpoint job writes its rows).
    lends:
        Whether :meth:`take_retired` hands the retired orders to another book (the
        session's); without one nothing is queued for it.

    Attributes
    ----------
    revived : int
        How many times an order was brought back (a late event about a finished order).
    copied : int
        How many retired orders :meth:`order_copy` rebuilt for another book (the engine's).
    on_read_failed : Callable[[str], None] or None
        Called with what failed (the order, the seqs, who asked, the error) when a retired
        order's events cannot be read back, before the error is raised; None: nobody is told.
    """

    __slots__ = (
        "_finished",
        "_firsts",
        "_gone",
        "_history",
        "_index",
        "_keep_first",
        "_lends",
        "_lent",
        "_made",
        "_on_retire",
        "_records",
        "_table",
        "copied",
        "on_read_failed",
        "revived",
    )

    def __init__(
        self,
        history: HistoryRows,
        keep_first: int = 500,
        *,
        records: MutableMapping[str, int] | None = None,
        on_retire: Callable[[OrderEntry, Order | None, int], None] | None = None,
        lends: bool = True,
    ) -> None:
        self._history = history
        self._on_retire = on_retire
        self._lends = lends
        self._keep_first = keep_first
        self._made = 0
        #: Client order id -> seq of its first event, for the orders the fold holds (not kept ones).
        self._firsts: dict[str, int] = {}
        #: Finished orders waiting to be retired, with the seq that finished them, oldest first.
        self._finished: deque[tuple[str, int]] = deque()
        #: Retired client order id -> seq of its first event, seq of its last and the number of its
        #: (venue, symbol), packed in one int (bits 0-39, 40-79, 80 up): one object per retired order.
        self._records: MutableMapping[str, int] = {} if records is None else records
        self._table: list[tuple[str, str]] = []
        self._index: dict[tuple[str, str], int] = {}
        #: Client order ids retired since the last :meth:`take_retired`, in order.
        self._gone: list[str] = []
        #: Handed out by take_retired, then brought back into this fold by a later event (rare).
        self._lent: set[str] = set()
        self.revived = 0
        self.copied = 0
        self.on_read_failed: Callable[[str], None] | None = None

    def __len__(self) -> int:
        """Return how many orders are retired now."""
        return len(self._records)

    def first_seq(self, client_order_id: str) -> int | None:
        """Return the seq of the first event of an order the fold holds and may retire (None: not one)."""
        return self._firsts.get(client_order_id)

    def routed(self, client_order_id: str) -> tuple[str, str] | None:
        """Return the (venue, symbol) of a retired order's decision, or None when it is not retired."""
        record = self._records.get(client_order_id)
        return None if record is None else self._table[record >> _KEY_SHIFT]

    def before(self, fold: LedgerFold, seq: int, typed: object) -> None:
        """Note the first event of a new order; bring a retired order back before an event about it.

        Raises
        ------
        LedgerError, DataError
            If the ledger's history of the retired order cannot be read (as :meth:`order_copy`).
        """
        cid_of = _CID_OF.get(type(typed))
        if cid_of is None:
            return
        cid = cid_of(typed)
        if cid in fold.entries:
            return
        record = self._records.get(cid)
        if record is None:
            self._made += 1
            if self._made > self._keep_first:
                self._firsts[cid] = seq
            return
        first, last = record & _SEQ_MASK, (record >> _SEQ_BITS) & _SEQ_MASK
        self._revive(fold, cid, first, last)  # a failed read leaves it retired
        del self._records[cid]
        if record & _LENT_BIT:
            self._lent.add(cid)
        self._firsts[cid] = first
        self.revived += 1

    def after(self, fold: LedgerFold, seq: int, typed: object) -> None:
        """Queue the order this event finished; retire those finished :data:`RETIRE_AFTER_EVENTS` events ago.

        The wait spares a rebuild for what usually follows a finishing event at once (a
        fill's status report, the answer to a cancel that raced a fill).
        """
        finished = self._finished
        while finished and seq - finished[0][1] >= RETIRE_AFTER_EVENTS:
            self._retire(fold, finished.popleft()[0], seq)
        cid_of = _CID_OF.get(type(typed))
        if cid_of is None:
            return
        cid = cid_of(typed)
        if cid in self._firsts and self._finished_order(fold, cid):
            finished.append((cid, seq))

    def _finished_order(self, fold: LedgerFold, cid: str) -> bool:
        """Return True when ``cid``'s entry holds a decision and its order (if any) can change no more."""
        entry = fold.entries.get(cid)
        if entry is None or entry.decision is None:
            return False  # an order the fold knows from reports only (not decided here): kept
        order = fold.portfolio.order(cid)
        if order is None:
            return not entry.decision.approved  # approved without an intent: kept as the fold found it
        return order.status.is_terminal

    def _retire(self, fold: LedgerFold, cid: str, seq: int) -> None:
        """Let ``cid`` go (its events lie between its first and ``seq``) unless it was let go or changed since."""
        first = self._firsts.get(cid)
        if first is None or not self._finished_order(fold, cid):
            return
        entry = fold.entries[cid]
        assert entry.decision is not None  # _finished_order
        order = fold.portfolio.order(cid)
        venue, symbol = entry.decision.venue, "" if entry.intent is None else entry.intent.symbol
        number = self._index.get((venue, symbol))
        if number is None:
            number = self._index[(venue, symbol)] = len(self._table)
            self._table.append((venue, symbol))
        if self._on_retire is not None:
            self._on_retire(entry, order, first)
        del fold.entries[cid], self._firsts[cid]
        if order is not None:
            fold.portfolio.retire(cid)
        self._records[entry.client_order_id] = first | seq << _SEQ_BITS | number << _KEY_SHIFT
        if order is not None and self._lends:
            self._gone.append(cid)
            self._lent.discard(cid)

    def take_retired(self) -> list[str]:
        """Return the client order ids of the orders retired since the last call and retired still, in order.

        The session's execution engine lets the same orders go from its book
        (:meth:`livegate.execution.engine.ExecutionEngine.retire_finished`) right after
        the reader caught up with the ledger: each is then, in the engine, what its events
        make it, which is what :meth:`order_copy` rebuilds.
        """
        gone, self._gone = self._gone, []
        records = self._records
        if isinstance(records, ScratchInts):  # on disk: one update per order, not a read and a write
            return records.set_bits(gone, _LENT_BIT)
        handed = [cid for cid in gone if cid in records]
        for cid in handed:
            records[cid] |= _LENT_BIT
        return handed

    def order_copy(self, fold: LedgerFold, cid: str) -> Order | None:
        """Return a new copy of an order :meth:`take_retired` handed out, as ``fold`` (this retirement's) knows it.

        A retired order is rebuilt from its events in the ledger and is not put back in
        ``fold``; one a later event brought back into ``fold`` is copied. None for any
        other client order id: one never handed out (an order of another book, or not
        ours) is not this retirement's to give. For a book that let go what
        :meth:`take_retired` handed out (:meth:`livegate.portfolio.book.Portfolio.revive_with`).

        Raises
        ------
        LedgerError, DataError
            If the ledger's history of the retired order cannot be read (the session's ledger
            connection raises the first, a ledger file read or an unreadable row the second),
            or holds no such order; the message names the order and the seqs read.
        """
        record = self._records.get(cid)
        if record is None:
            held = fold.portfolio.order(cid) if cid in self._lent else None
            return None if held is None else copy_order(held)
        if not record & _LENT_BIT:
            return None
        first, last = record & _SEQ_MASK, (record >> _SEQ_BITS) & _SEQ_MASK
        order = self._rebuilt(cid, first, last, _FOR_BOOK).portfolio.order(cid)
        if order is None:  # handed out with an order: its events make one
            raise self._read_failed(cid, first, last, _FOR_BOOK, DataError("its order is not there"))
        self.copied += 1
        return order

    def arrival_mid(self, fold: LedgerFold, cid: str) -> str | None:
        """Return the arrival mid (exact text) of the decision of an order this retirement followed.

        For the engine, which lets a handed-out order's mid go with it
        (:meth:`livegate.execution.quality.ExecutionQuality.forget`) and needs it back
        when a late fill comes: read from the order's events in the ledger (the reader's
        fold keeps decisions without their arrival quote), from its first event to the one
        that retired it, or to the fold's last if a later event brought it back. None when
        the order is not one it followed (not ours, or one of the first it never retires) or
        its decision had no arrival quote.

        Raises
        ------
        LedgerError, DataError
            As :meth:`order_copy`.
        """
        record = self._records.get(cid)
        if record is not None:
            first, last = record & _SEQ_MASK, (record >> _SEQ_BITS) & _SEQ_MASK
        elif cid in self._firsts:  # held by the fold (brought back by a later event, or not finished)
            first, last = self._firsts[cid], fold.last_seq
        else:
            return None
        decision = self._rebuilt(cid, first, last, _FOR_BOOK).entries[cid].decision
        return None if decision is None or decision.arrival is None else str(decision.arrival.mid)

    def _rebuilt(self, cid: str, first: int, last: int, asker: str) -> LedgerFold:
        """Return a scratch fold of ``cid``'s own events between seqs ``first`` and ``last``, read for ``asker``.

        Raises
        ------
        LedgerError, DataError
            As :meth:`order_copy` (:meth:`_read_failed`).
        """
        from livegate.ledger.fold import LedgerFold  # the fold imports this module

        scratch = LedgerFold(approved_intents=NotKept())
        try:
            for seq, ts_ms, kind, text, _prev, digest in self._history(first, last):
                payload = json.loads(text) if isinstance(text, str) else text
                named = payload.get("client_order_id") if isinstance(payload, dict) else None
                if named == cid:
                    scratch.apply_payload(seq, ts_ms, kind, payload, digest)
        except (LedgerError, DataError, ValueError) as exc:  # ValueError: a row's payload is not JSON
            raise self._read_failed(cid, first, last, asker, exc) from exc
        if cid not in scratch.entries:
            raise self._read_failed(cid, first, last, asker, DataError("none of its events is there"))
        return scratch

    def _read_failed(self, cid: str, first: int, last: int, asker: str, exc: Exception) -> LedgerError | DataError:
        """Tell :attr:`on_read_failed` what failed; return what to raise (LedgerError stays one, else DataError)."""
        detail = (
            f"ledger read failed: cannot rebuild finished order {cid} from ledger seqs {first} to {last} "
            f"for {asker}: {exc}"
        )
        if self.on_read_failed is not None:
            self.on_read_failed(detail)
        return LedgerError(detail) if isinstance(exc, LedgerError) else DataError(detail)

    def _revive(self, fold: LedgerFold, cid: str, first: int, last: int) -> None:
        scratch = self._rebuilt(cid, first, last, _FOR_READER)
        entry = scratch.entries[cid]
        fold.entries[cid] = entry
        order = scratch.portfolio.order(cid)
        if order is not None:
            fold.portfolio.readmit(order)


class NotKept(MutableSequence[OrderIntent]):
    """A fold's approved intents, not kept: for a fold whose readers never ask for them (the report's)."""

    __slots__ = ()

    def __len__(self) -> int:
        return 0

    @overload
    def __getitem__(self, index: int) -> OrderIntent: ...

    @overload
    def __getitem__(self, index: slice) -> MutableSequence[OrderIntent]: ...

    def __getitem__(self, index: int | slice) -> OrderIntent | MutableSequence[OrderIntent]:
        raise IndexError("approved intents are not kept by this fold")

    def __setitem__(self, index: Any, value: Any) -> None:
        raise IndexError("approved intents are not kept by this fold")

    def __delitem__(self, index: Any) -> None:
        raise IndexError("approved intents are not kept by this fold")

    def insert(self, index: int, value: OrderIntent) -> None:
        """Keep nothing."""

    def __iter__(self) -> Iterator[OrderIntent]:
        return iter(())
