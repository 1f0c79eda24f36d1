"""The checkpoint job's scratch store: finished orders kept on disk while it folds (issue 14 item 2).

The checkpoint job (:mod:`livegate.ledger.checkpoint_job`) writes the fold of a whole
ledger. Held in memory, that fold grows by about 1 KB per order the run sent; read back
from the previous checkpoint, about as much. Instead the job folds from the first event
with a :class:`~livegate.ledger.fold_retire.Retirement` that lets each finished order go
1,024 events after it finished, and :class:`SpillStore` keeps what the checkpoint needs
of it: its order and entry rows as the body writes them
(:mod:`livegate.ledger.checkpoint_encode`), keyed by where they stand in the fold's
order, and the retired orders' records. Applied fills go there as they come. The body is
then written from this store (:mod:`livegate.ledger.checkpoint_stream`), column by
column, so the job's memory does not grow with the orders of the run.

The store is an anonymous SQLite database (``sqlite3.connect("")``): a temporary file
SQLite deletes when it is closed, with a bounded page cache (:data:`CACHE_KIB`). A crash
of the job leaves nothing behind but the previous checkpoint.

Where an item stands: an order entry where the fold made it, at the seq of the first
event naming its client order id; an order where the fold added it, at the seq of the
decision that approved it; a fill at its place in the list of applied fills.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableSequence
from typing import Any, Final, overload

from livegate.domain.errors import InvariantViolation
from livegate.domain.orders import Fill, Order
from livegate.ledger.checkpoint_encode import decision_row, entry_row, fill_row, intent_row, order_row
from livegate.ledger.fold import OrderEntry
from livegate.ledger.scratch import scratch_db

__all__ = ["CACHE_KIB", "DECISION_FIELDS", "INTENT_FIELDS", "SpillStore", "SpilledFills"]

#: Page cache of the scratch database, KiB (SQLite's default is 2,000 KiB).
CACHE_KIB: Final = 8_192

#: Rows :meth:`SpillStore.put` batches before it writes them.
_BATCH: Final = 2_048
#: An entry's intent: none, the one its order holds, or one of its own (a reused client order id).
NO_INTENT, ORDER_INTENT, OWN_INTENT = 0, 1, 2

#: Column names of an intent and of a decision in the store's tables.
INTENT_FIELDS = "i_sym, i_side, i_qty, i_type, i_price, i_tif, i_post, i_reduce, i_strategy, i_seq, i_ts, i_flat, i_rth"
DECISION_FIELDS = "d_cid, d_approved, d_code, d_detail, d_venue, d_bid, d_ask, d_mid, d_age"
_SCHEMA: Final = f"""
CREATE TABLE orders (
    okey INTEGER PRIMARY KEY, cid TEXT NOT NULL UNIQUE, venue, status, filled, notional, venue_order_id, reason,
    updated_ms, {INTENT_FIELDS}
);
CREATE TABLE entries (
    ekey INTEGER PRIMARY KEY, cid TEXT NOT NULL UNIQUE, first_ts, intent_kind, decided, venue, venue_order_id,
    last_status, fees, {INTENT_FIELDS}, {DECISION_FIELDS}
);
CREATE TABLE fills (
    pos INTEGER PRIMARY KEY, cid, fill_id, symbol, side, price, quantity, fee, liquidity, ts_ms, venue, fee_asset,
    fee_in_asset
);
"""
_ORDER_COLUMNS = "venue, status, filled, notional, venue_order_id, reason, updated_ms, " + INTENT_FIELDS
# keyed by their place in the fold's order (the rowid): the body reads each column in that order
_PUT_ORDER: Final = f"INSERT OR REPLACE INTO orders (okey, cid, {_ORDER_COLUMNS}) VALUES ({', '.join('?' * 22)})"  # noqa: S608
_UPDATE_ORDER: Final = (
    "UPDATE orders SET " + ", ".join(f"{c} = ?" for c in _ORDER_COLUMNS.split(", ")) + " WHERE cid = ?"  # noqa: S608
)
_PUT_ENTRY: Final = f"INSERT OR REPLACE INTO entries VALUES ({', '.join('?' * 31)})"  # noqa: S608
_NO_INTENT_ROW: Final = (None,) * 13
_NO_DECISION_ROW: Final = (None,) * 9


class SpillStore:
    """Finished orders' rows, applied fills and retired orders' records, in a scratch SQLite database.

    Close it (or use it as a context manager) to delete the database.
    """

    def __init__(self) -> None:
        self.conn = scratch_db(CACHE_KIB)  # never committed: the database dies with the job
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                self.conn.execute(statement)
        self._entries: list[tuple[Any, ...]] = []
        self._orders: list[tuple[Any, ...]] = []
        self._fills: list[tuple[Any, ...]] = []

    def __enter__(self) -> SpillStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Delete the scratch database."""
        self.conn.close()

    def put(self, entry: OrderEntry, order: Order | None, ekey: int, okey: int | None) -> None:
        """Store (or replace) the rows of ``entry`` and its ``order``.

        Parameters
        ----------
        entry, order:
            The order entry and its order (None: a denied intent, or an order known from reports only).
        ekey:
            Where the entry stands in the fold's order: the seq of its client order id's first event.
        okey:
            Where the order stands: the seq of the decision that approved it; None for an
            order stored before (brought back by a late event), which keeps its place.

        Raises
        ------
        InvariantViolation
            If ``okey`` is None for an order never stored (one the job never saw approved).
        """
        intent = entry.intent
        if intent is None:
            kind, own = NO_INTENT, _NO_INTENT_ROW
        elif order is not None and order.intent is intent:
            kind, own = ORDER_INTENT, _NO_INTENT_ROW
        else:
            kind, own = OWN_INTENT, intent_row(intent)
        decided = _NO_DECISION_ROW if entry.decision is None else decision_row(entry.decision)
        cid, first_ts, _ref, has_decision, venue, venue_order_id, last_status, fees = entry_row(entry, 0)
        entries = self._entries
        entries.append((ekey, cid, first_ts, kind, has_decision, venue, venue_order_id, last_status, fees, *own,
                        *decided))  # fmt: skip
        if order is not None:
            cid, _ref, *rest = order_row(order, 0)
            if okey is not None:
                self._orders.append((okey, cid, *rest, *intent_row(order.intent)))
            else:  # stored before, brought back by a later event: it keeps its place
                self.flush()
                if not self.conn.execute(_UPDATE_ORDER, (*rest, *intent_row(order.intent), cid)).rowcount:
                    raise InvariantViolation(f"order {cid!r} has no place in the fold (never stored with one)")
        if len(entries) >= _BATCH:
            self.flush()

    def add_fill(self, row: tuple[Any, ...]) -> None:
        """Store an applied fill's row ``(position, *fill row)`` (batched like :meth:`put`)."""
        self._fills.append(row)
        if len(self._fills) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        """Write the rows :meth:`put` and :meth:`add_fill` batched (in the order they came)."""
        if self._fills:
            self.conn.executemany("INSERT INTO fills VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", self._fills)
            self._fills.clear()
        if self._entries:
            self.conn.executemany(_PUT_ENTRY, self._entries)
            self._entries.clear()
        if self._orders:
            self.conn.executemany(_PUT_ORDER, self._orders)
            self._orders.clear()

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
        """Return the rows of a query on the store (for the body's writer)."""
        self.flush()
        return self.conn.execute(sql, params)

    def count(self, table: str) -> int:
        """Return how many rows ``table`` (``orders``, ``entries``, ``fills``) holds."""
        if table not in ("orders", "entries", "fills"):
            raise ValueError(f"no table {table!r} in the checkpoint job's store")
        self.flush()
        return int(self.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608 (checked above)


class SpilledFills(MutableSequence[Fill]):
    """A fold's applied fills, appended to a :class:`SpillStore` and not kept (the job never reads them back)."""

    __slots__ = ("_count", "_store")

    def __init__(self, store: SpillStore) -> None:
        self._store = store
        self._count = 0

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> Fill: ...

    @overload
    def __getitem__(self, index: slice) -> MutableSequence[Fill]: ...

    def __getitem__(self, index: int | slice) -> Fill | MutableSequence[Fill]:
        raise IndexError("the checkpoint job's fills are on disk, not read back")

    def __setitem__(self, index: Any, value: Any) -> None:
        raise IndexError("the checkpoint job's fills are only appended")

    def __delitem__(self, index: Any) -> None:
        raise IndexError("the checkpoint job's fills are only appended")

    def insert(self, index: int, value: Fill) -> None:
        """Append ``value`` (an applied fill); only appending is allowed.

        Raises
        ------
        IndexError
            If ``index`` is not the end of the list.
        """
        if index != self._count:
            raise IndexError("the checkpoint job's fills are only appended")
        self._store.add_fill((index, *fill_row(value)))
        self._count += 1
