"""Writing a checkpoint body from the checkpoint job's store, one column at a time (issue 14 item 2).

:func:`spilled_body` yields the same bytes as
:func:`livegate.ledger.checkpoint_encode.encode_body` of the whole fold, for a fold whose
finished orders and fills are in a :class:`~livegate.ledger.checkpoint_spill.SpillStore`:
each table is read back from the store column by column, in the fold's order, and each
column is written as it is read (:func:`column_pieces`, the rules of
``checkpoint_encode._encoded``), so no table is ever held whole.

Why the intents come out numbered as the whole fold's encoder numbers them (by first
mention): it walks the orders first, each with an intent of its own (the fold makes an
order from its entry's intent once), so the order at row ``n`` names intent ``n``; then
the entries, whose intent is their order's or, for a denied intent or a reused client
order id, one not named yet, numbered on from the orders' count in entry order; then the
approved intents, which are the orders' intents in the orders' order (the fold adds
an order and approves its intent together), so the list is ``0 .. orders - 1``.
``tests/recovery/test_checkpoint_job_spill.py`` compares the bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from itertools import chain, islice
from typing import Any, Final

from livegate.domain.errors import InvariantViolation
from livegate.domain.orders import OrderIntent
from livegate.ledger.checkpoint_columns import (
    CODE_CHARS,
    CODED_REPEATS,
    CODED_SAMPLE,
    DECISION_COLUMNS,
    ENTRY_COLUMNS,
    FILL_COLUMNS,
    INTENT_COLUMNS,
    ORDER_COLUMNS,
    SEP,
)
from livegate.ledger.checkpoint_encode import body_pieces
from livegate.ledger.checkpoint_spill import (
    DECISION_FIELDS,
    INTENT_FIELDS,
    ORDER_INTENT,
    OWN_INTENT,
    SpillStore,
)
from livegate.ledger.fold import LedgerFold
from livegate.ledger.fold_retire import NotKept
from livegate.ledger.scratch import ScratchKeys

__all__ = ["ApprovedCount", "column_pieces", "spilled_body"]

#: Values written per piece of a column.
_CHUNK: Final = 4_096

Column = Callable[[], Iterable[Any]]


class ApprovedCount(NotKept):
    """A fold's approved intents, counted and not kept (the job writes them as ``0 .. count - 1``)."""

    __slots__ = ("total",)

    def __init__(self) -> None:
        self.total = 0

    def __len__(self) -> int:
        return self.total

    def insert(self, index: int, value: OrderIntent) -> None:
        """Count one more approved intent."""
        self.total += 1


def spilled_body(fold: LedgerFold, store: SpillStore, approved: ApprovedCount) -> Iterator[bytes]:
    """Yield the checkpoint body of a fold whose orders, entries and fills are all in ``store``.

    ``fold`` gives the rest (positions, fill keys, counters, run facts); ``approved``
    counted its approved intents.

    Raises
    ------
    InvariantViolation
        If the store does not hold what the whole fold would: an order without its place,
        an entry naming its order's intent with no order stored, or approved intents that
        are not one per order.
    """
    store.flush()
    n_orders, n_entries = store.count("orders"), store.count("entries")
    if approved.total != n_orders:
        raise InvariantViolation(f"{approved.total} approved intents for {n_orders} orders")
    conn = store.conn
    conn.execute("DROP TABLE IF EXISTS temp.order_rank")
    conn.execute("CREATE TEMP TABLE order_rank (cid TEXT PRIMARY KEY, rank INTEGER) WITHOUT ROWID")
    conn.execute("INSERT INTO order_rank SELECT cid, row_number() OVER (ORDER BY okey) - 1 FROM orders")

    def column(sql: str) -> Column:
        return lambda: chain.from_iterable(store.rows(sql))  # one value per row

    def entry_refs() -> Iterator[int]:
        own = n_orders
        sql = "SELECT e.intent_kind, r.rank FROM entries e LEFT JOIN order_rank r USING (cid) ORDER BY e.ekey"
        for kind, rank in store.rows(sql):
            if kind == ORDER_INTENT:
                if rank is None:
                    raise InvariantViolation("an entry names its order's intent but no order is stored")
                yield rank
            elif kind == OWN_INTENT:
                yield own
                own += 1
            else:
                yield -1

    own_intent = f"WHERE intent_kind = {OWN_INTENT}"
    n_own = int(conn.execute(_query("count(*)", "entries", own_intent)).fetchone()[0])
    intents = [
        _chained(column(_query(name, "orders", order="okey")), column(_query(name, "entries", own_intent, "ekey")))
        for name in INTENT_FIELDS.split(", ")
    ]
    orders = [
        column(_query("cid", "orders", order="okey")),
        lambda: range(n_orders),
        *(column(_query(name, "orders", order="okey")) for name in _ORDER_NAMES),
    ]
    entries = [
        column(_query("cid", "entries", order="ekey")),
        column(_query("first_ts", "entries", order="ekey")),
        entry_refs,
        *(column(_query(name, "entries", order="ekey")) for name in _ENTRY_NAMES),
    ]
    n_decisions = int(conn.execute(_query("count(*)", "entries", "WHERE decided")).fetchone()[0])
    decisions = [column(_query(name, "entries", "WHERE decided", "ekey")) for name in DECISION_FIELDS.split(", ")]
    fills = [column(_query(name, "fills", order="pos")) for name in _FILL_NAMES]
    tables = {
        "intents": table_pieces(INTENT_COLUMNS, intents, n_orders + n_own),
        "orders": table_pieces(ORDER_COLUMNS, orders, n_orders),
        "entries": table_pieces(ENTRY_COLUMNS, entries, n_entries),
        "decisions": table_pieces(DECISION_COLUMNS, decisions, n_decisions),
        "fills": table_pieces(FILL_COLUMNS, fills, store.count("fills")),
        "approved": _list_pieces(lambda: range(n_orders)),
    }
    keys = fold.portfolio.fill_keys()
    if isinstance(keys, ScratchKeys):  # on disk: written from there, sorted by SQLite
        tables["fill_keys"] = table_pieces("ss", [lambda: keys.column(0), lambda: keys.column(1)], len(keys))
    yield from body_pieces(fold, tables)


_ORDER_NAMES: Final = ("venue", "status", "filled", "notional", "venue_order_id", "reason", "updated_ms")
_ENTRY_NAMES: Final = ("decided", "venue", "venue_order_id", "last_status", "fees")
_FILL_NAMES: Final = (
    "cid", "fill_id", "symbol", "side", "price", "quantity", "fee", "liquidity", "ts_ms", "venue", "fee_asset",
    "fee_in_asset",
)  # fmt: skip


def _query(column: str, table: str, where: str = "", order: str = "") -> str:
    """Return a query of one column of the store (every name in it is one of this module's constants)."""
    return f"SELECT {column} FROM {table} {where}" + (f" ORDER BY {order}" if order else "")  # noqa: S608


def _chained(*columns: Column) -> Column:
    return lambda: chain.from_iterable(each() for each in columns)


def table_pieces(kinds: str, columns: list[Column], count: int) -> Iterator[bytes]:
    """Yield a table as ``[row count, column, ...]`` JSON, each column read from its source as it is written.

    ``columns`` (one per kind of ``kinds``) each return a fresh iterator over the column's
    values in row order; a text column is read twice (its coding is chosen first).

    Raises
    ------
    InvariantViolation
        If a column does not hold ``count`` values.
    """
    if len(columns) != len(kinds):
        raise InvariantViolation(f"{len(columns)} columns for a table of {len(kinds)}")
    yield b"[" + str(count).encode("ascii")
    for kind, source in zip(kinds, columns, strict=True):
        yield b","
        yield from column_pieces(kind, source, count)
    yield b"]"


def column_pieces(kind: str, source: Column, count: int) -> Iterator[bytes]:
    """Yield one column's JSON as ``checkpoint_encode._encoded`` writes it, reading ``source`` as it goes.

    A text or decimal column (``s``, ``d``) is coded when its values repeat (as often as
    the encoder asks, in its first rows and in all, with at most ``len(CODE_CHARS)``
    distinct values), else joined by :data:`SEP` when no value holds it, else a list.
    Booleans are a string of ``0`` and ``1``; anything else a list.

    Raises
    ------
    InvariantViolation
        If ``source`` does not hold ``count`` values.
    """
    if kind == "b":
        yield b'"'
        seen = 0
        for chunk in _chunks(source()):
            seen += len(chunk)
            yield "".join(["1" if v else "0" for v in chunk]).encode("ascii")
        _check(seen, count)
        yield b'"'
        return
    if kind not in "sd":
        yield from _list_pieces(source, count)
        return
    sample: set[Any] = set()
    codes: dict[Any, None] = {}  # the distinct values in order, until there are too many to code
    seen, holds_sep, cap = 0, False, len(CODE_CHARS)
    for chunk in _chunks(source()):
        if seen < CODED_SAMPLE:
            sample.update(chunk[: CODED_SAMPLE - seen])
        seen += len(chunk)
        if len(codes) <= cap:
            codes.update(dict.fromkeys(chunk))
        holds_sep = holds_sep or SEP in "".join(chunk)
    _check(seen, count)
    repeats = len(sample) * CODED_REPEATS <= min(seen, CODED_SAMPLE)
    if repeats and codes and len(codes) * CODED_REPEATS <= seen and len(codes) <= cap:
        distinct = list(codes)
        if len(distinct) == 1:
            yield _json({"v": distinct})
            return
        code_of = dict(zip(distinct, CODE_CHARS, strict=False))
        yield b'{"v":' + _json(distinct) + b',"k":"'
        for chunk in _chunks(source()):
            yield "".join(map(code_of.__getitem__, chunk)).encode("utf-8")
        yield b'"}'
    elif seen and not holds_sep:
        yield b'"'
        first = True
        for chunk in _chunks(source()):
            yield (b"" if first else SEP.encode("utf-8")) + _json(SEP.join(chunk))[1:-1]
            first = False
        yield b'"'
    else:
        yield from _list_pieces(source, count)


def _list_pieces(source: Column, count: int | None = None) -> Iterator[bytes]:
    """Yield a column as a JSON list, in pieces."""
    yield b"["
    seen = 0
    for chunk in _chunks(source()):
        yield (b"," if seen else b"") + _json(chunk)[1:-1]
        seen += len(chunk)
    if count is not None:
        _check(seen, count)
    yield b"]"


def _chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    iterator = iter(values)
    while chunk := list(islice(iterator, _CHUNK)):
        yield chunk


def _check(seen: int, count: int) -> None:
    if seen != count:
        raise InvariantViolation(f"a checkpoint column of {seen} values in a table of {count} rows")


def _json(value: Any) -> bytes:
    """As ``checkpoint_encode._json``: compact JSON, non-ASCII kept, no NaN, UTF-8."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
