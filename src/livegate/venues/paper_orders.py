"""The paper venue's orders by client order id: the records it holds in memory and every id it has accepted.

A long replay sends tens of thousands of orders, nearly all cancelled soon after (the
packaged market maker: ~64,000 per 5M quotes). An exchange keeps them on disk, not in its
matching engine's memory; so does the paper venue (issue 14 item 2): an order whose final
state (filled, cancelled, rejected, expired) is committed to the venue's store leaves memory,
and a status query reads it back from the store. Every accepted client order id is kept for
the exact refusal of a reused one, in a scratch SQLite database
(:class:`livegate.ledger.scratch.ScratchInts`: one lookup per submit), so nothing stays in
memory per finished order.

Without a store nothing else could answer for a finished order, so every order is kept in
memory (~300 bytes each): that venue is the one of unit tests, of the fake venue and of
paper trading on a live market-data stream. Keeping only the newest ones would be wrong,
not just lossy: :meth:`~livegate.venues.paper.PaperVenue.fetch_order` would answer "never
seen" for an older finished order, which the engine's resolution of in-flight orders reads
as an order that never reached the venue.
"""

from __future__ import annotations

from collections.abc import Iterable

from livegate.ledger.scratch import ScratchInts, scratch_db
from livegate.venues.paper_matching import PaperOrder
from livegate.venues.paper_store import PaperState, PaperStore

__all__ = ["PaperOrders"]


class PaperOrders:
    """Order records of one paper venue, by client order id.

    Parameters
    ----------
    store:
        The venue's store, or None: with a store, finished orders leave memory once
        :meth:`stored` is told their final state was committed; without one, every order
        stays.

    Notes
    -----
    ``cid in orders`` is True for every client order id ever accepted (held or not), which
    is what the duplicate check of :func:`~livegate.venues.paper_validation.validate_order`
    needs.
    """

    __slots__ = ("_held", "_ids", "_maybe_open", "_store")

    def __init__(self, store: PaperStore | None) -> None:
        self._store = store
        #: Orders held in memory: unfinished ones, plus finished ones not yet known to be stored.
        self._held: dict[str, PaperOrder] = {}
        #: Client order id of every order ever accepted (on disk when finished orders leave memory).
        self._ids: set[str] | ScratchInts = set() if store is None else ScratchInts(scratch_db(), "accepted")
        #: Orders that may still be working, in arrival order (finished ones are dropped when next read),
        #: so listing open orders costs what is open, not the session's history.
        self._maybe_open: dict[str, PaperOrder] = {}

    def __contains__(self, client_order_id: object) -> bool:
        return client_order_id in self._ids

    def add(self, record: PaperOrder) -> None:
        """Hold a newly accepted (or restored, unfinished) order."""
        cid = record.client_order_id
        self._held[cid] = record
        self._accepted(cid)
        if record.status.is_working:
            self._maybe_open[cid] = record

    def restore(self, state: PaperState) -> None:
        """Take the orders and client order ids of a reopened store (``load(finished=False)``)."""
        for cid in state.client_order_ids:
            self._accepted(cid)
        for record in state.orders:
            if not record.status.is_terminal:
                self.add(record)

    def _accepted(self, cid: str) -> None:
        ids = self._ids
        if isinstance(ids, set):
            ids.add(cid)
        else:
            ids[cid] = 0

    def held(self, client_order_id: str) -> PaperOrder | None:
        """Return the order with ``client_order_id`` when it is held in memory (every unfinished one is)."""
        return self._held.get(client_order_id)

    def find(self, client_order_id: str) -> PaperOrder | None:
        """Return the order with ``client_order_id``, from memory or else the store; None when never accepted.

        Raises
        ------
        DataError
            If the store cannot be read.
        """
        record = self._held.get(client_order_id)
        if record is None and self._store is not None and client_order_id in self._ids:
            record = self._store.load_order(client_order_id)
        return record

    def stored(self, records: Iterable[PaperOrder]) -> None:
        """Forget the finished ones of ``records``, whose current state the store has just committed."""
        if self._store is None:
            return
        for record in records:
            if record.status.is_terminal:
                cid = record.client_order_id
                self._held.pop(cid, None)
                self._maybe_open.pop(cid, None)

    def held_ids(self) -> list[str]:
        """Return the client order ids of the orders held in memory, in arrival order."""
        return list(self._held)

    def working(self, symbol: str | None) -> list[PaperOrder]:
        """Return the working orders (of ``symbol`` when given), in arrival order (a restored store's first)."""
        maybe = self._maybe_open
        finished = [cid for cid, r in maybe.items() if not r.status.is_working]
        for cid in finished:
            del maybe[cid]
        return [r for r in maybe.values() if symbol is None or r.symbol == symbol]
