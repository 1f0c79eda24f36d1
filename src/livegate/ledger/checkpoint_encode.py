"""Encoding a fold checkpoint's body: the fold as columnar tables of JSON, in pieces (issue 14 item 7).

:func:`encode_body` writes what :func:`livegate.ledger.checkpoint_decode.decode_checkpoint_body`
reads back; :mod:`livegate.ledger.checkpoint` adds the header (format, version, fold-code
digest, seq, chain hash, the body's sha256 and length) and writes the file. The layout of
the tables is in :mod:`livegate.ledger.checkpoint_columns`.

The body is made one table at a time: a table's rows are dropped once they are columns,
and its columns once they are JSON text, so the peak is the fold and one table, not every
table twice. The finished orders, entries, intents and fills a read checkpoint left
unbuilt are written from their columns (:mod:`livegate.ledger.checkpoint_rows`), never built.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from itertools import repeat
from typing import Any, Final

from livegate.domain.errors import InvariantViolation
from livegate.domain.orders import Fill, Order, OrderIntent
from livegate.ledger.checkpoint_archive import Archive
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
from livegate.ledger.checkpoint_lists import ArchivedList
from livegate.ledger.checkpoint_rows import StoredRows
from livegate.ledger.fold import LedgerFold, OrderEntry
from livegate.ledger.fold_rules import EngineStats
from livegate.ledger.payload_orders import DecisionRecorded

Json = Any
Row = tuple[Any, ...]


def encode_body(fold: LedgerFold) -> list[bytes]:
    """Return the checkpoint body of ``fold`` as UTF-8 JSON pieces, to be hashed and written in order.

    Joined, the pieces are one JSON object (compact, non-ASCII kept, no NaN).
    """
    # Intents are numbered in order of first mention, one number per object. An intent still
    # unbuilt in a read checkpoint's columns is named by its position there (an int) and
    # keyed by ~position, which no object id can equal (checkpoint_rows says why the body is
    # the same as when every item is built).
    intent_index: dict[int, int] = {}
    intents: list[OrderIntent | int] = []

    def intent_ref(intent: OrderIntent | int | None) -> int:
        if intent is None:
            return -1
        key = ~intent if isinstance(intent, int) else id(intent)
        ref = intent_index.get(key)
        if ref is None:
            ref = intent_index[key] = len(intents)
            intents.append(intent)
        return ref

    # one table at a time, its rows dropped once they are columns: the peak is the fold and one
    # table's rows, not every table's; the items a read checkpoint left unbuilt are written from
    # its columns, never built. Each value is JSON text (UTF-8) as soon as it is made.
    stored = _stored_rows(fold)  # the read checkpoint's rows (none: every item is built)
    tables: dict[str, bytes] = {
        "orders": _Table(ORDER_COLUMNS)
        .extend(
            order_row(o, intent_ref(o.intent)) if o is not None else stored.order_row(i, intent_ref)
            for o, i in _walk(fold.portfolio.orders_by_id())
        )
        .text()
    }
    entry_table, decision_table = _Table(ENTRY_COLUMNS), _Table(DECISION_COLUMNS)
    for e, i in _walk(fold.entries):
        if e is None:
            entry_table.add(stored.entry_row(i, intent_ref))
            decided = stored.decision_row(i)
            if decided is not None:
                decision_table.add(decided)
            continue
        entry_table.add(entry_row(e, intent_ref(e.intent)))
        if e.decision is not None:
            decision_table.add(decision_row(e.decision))
    tables["entries"] = entry_table.text()
    tables["decisions"] = decision_table.text()
    tables["fills"] = (
        _Table(FILL_COLUMNS)
        .extend(fill_row(f) if f is not None else stored.fill_row(i) for f, i in _walk(fold.fills))
        .text()
    )
    tables["approved"] = _json(
        [intent_ref(i if i is not None else stored.approved_intent(k)) for i, k in _walk(fold.approved_intents)]
    )
    tables["intents"] = (
        _Table(INTENT_COLUMNS)
        .extend(intent_row(i) if not isinstance(i, int) else stored.intent_row(i) for i in intents)
        .text()
    )
    intents.clear()
    intent_index.clear()
    return list(body_pieces(fold, {key: [value] for key, value in tables.items()}))


#: The tables of a body the caller writes (the rest :func:`body_pieces` writes from the fold), in body order.
ITEM_TABLES: Final = ("intents", "orders", "entries", "decisions", "fills", "approved")


def body_pieces(fold: LedgerFold, tables: Mapping[str, Iterable[bytes]]) -> Iterator[bytes]:
    """Yield the body of ``fold``'s checkpoint: ``tables`` (:data:`ITEM_TABLES`, as JSON pieces) and the rest.

    The rest is made from ``fold``: the session, positions, applied fill keys (unless
    ``tables`` has ``fill_keys``), counters and run facts. Each table's pieces are taken
    only when its turn comes, so a caller can make them as they are written (the
    checkpoint job, :mod:`livegate.ledger.checkpoint_stream`).

    Raises
    ------
    KeyError
        If a table of :data:`ITEM_TABLES` is missing from ``tables``.
    """
    session = fold.session
    portfolio = fold.portfolio
    yield b'{"session":'
    yield _json(
        None if session is None else [session.session_id, session.mode, session.config_hash, list(session.inputs)]
    )
    yield b',"intents":'
    yield from tables["intents"]
    yield b',"orders":'
    yield from tables["orders"]
    yield b',"positions":'
    yield _json(
        [
            [p.symbol, str(p.quantity), str(p.cost_basis), str(p.realized_pnl), str(p.fees), str(p.turnover)]
            for p in portfolio.positions()
        ]
    )
    yield b',"fill_keys":'
    if "fill_keys" in tables:
        yield from tables["fill_keys"]
    else:
        yield _Table("ss").extend(sorted(portfolio.fill_keys())).text()
    for key in ("entries", "decisions", "fills", "approved"):
        yield b',"' + key.encode("ascii") + b'":'
        yield from tables[key]
    facts: dict[str, Json] = {
        "stats": _stats_row(fold.stats),
        "next_seq": fold.next_seq,
        "trading_state": fold.trading_state.value,
        "trading_reason": fold.trading_reason,
        "balance_baseline": None
        if fold.balance_baseline is None
        else [[c, str(v)] for c, v in fold.balance_baseline.items()],
        "anomalies": fold.anomalies,
        "refused_fills": fold.refused_fills,
        "last_seq": fold.last_seq,
        "last_hash": fold.last_hash,
        "last_ts_ms": fold.last_ts_ms,
        "resumes": fold.resumes,
        "ended": fold.ended,
        "started_ms": fold.started_ms,
        "reconciles": fold.reconciles,
        "fills_matched": [
            [venue, m.ledger_fills, m.venue_cursor, m.venue_newest_ms] for venue, m in fold.fills_matched.items()
        ],
        "adopted_positions": [[symbol, str(q)] for symbol, q in fold.adopted_positions.items()],
        "adopted_fill_ids": sorted(fold.adopted_fill_ids),
    }
    for key, value in facts.items():
        yield b"," + _json(key) + b":" + _json(value)
    yield b"}"


# ---------------------------------------------------------------------- rows: what a table holds of one item
def order_row(o: Order, ref: int) -> Row:
    """Return the order table's row of ``o`` (``ref``: its intent's number)."""
    return (o.client_order_id, ref, o.venue, o.status.value, str(o.filled_quantity), str(o.notional_filled),
            o.venue_order_id, o.reason, o.updated_ms)  # fmt: skip


def entry_row(e: OrderEntry, ref: int) -> Row:
    """Return the entry table's row of ``e`` (``ref``: its intent's number, -1 without one)."""
    return (e.client_order_id, e.first_ts_ms, ref, e.decision is not None, e.venue, e.venue_order_id, e.last_status,
            str(e.fees))  # fmt: skip


def decision_row(d: DecisionRecorded) -> Row:
    """Return the decision table's row of ``d`` (arrival quote: bid, ask, mid, age ms; ``""`` and 0 without one)."""
    a = d.arrival
    if a is None:
        return (d.client_order_id, d.approved, d.code, d.detail, d.venue, "", "", "", 0)
    return (d.client_order_id, d.approved, d.code, d.detail, d.venue, str(a.bid), str(a.ask), str(a.mid), a.age_ms)


def fill_row(f: Fill) -> Row:
    """Return the fill table's row of ``f``."""
    return (f.client_order_id, f.fill_id, f.symbol, f.side.value, str(f.price), str(f.quantity), str(f.fee),
            f.liquidity.value, f.ts_ms, f.venue, f.fee_asset, str(f.fee_in_asset))  # fmt: skip


def intent_row(i: OrderIntent) -> Row:
    """Return the intent table's row of ``i`` (``""`` for no limit price)."""
    return (i.symbol, i.side.value, str(i.quantity), i.order_type.value, "" if i.price is None else str(i.price),
            i.time_in_force.value, i.post_only, i.reduce_only, i.strategy_id, i.seq, i.ts_ms, i.flatten,
            i.outside_rth)  # fmt: skip


def _stored_rows(fold: LedgerFold) -> StoredRows:
    """Return the rows of the checkpoint ``fold`` was read from (empty ones when it was not).

    Raises
    ------
    InvariantViolation
        If the fold's archives come from two checkpoints.
    """
    found = {
        id(items.stored): items.stored
        for items in (fold.portfolio.orders_by_id(), fold.entries, fold.fills, fold.approved_intents)
        if isinstance(items, (Archive, ArchivedList)) and items.stored is not None
    }
    if len(found) > 1:
        raise InvariantViolation("a fold whose archives come from two checkpoints")
    for rows in found.values():
        return rows
    return StoredRows([], [], [], [], [], [], [], [])  # a fold read from no checkpoint asks them nothing


def _walk(items: Any) -> Iterator[tuple[Any, int]]:
    """Return ``items``' values in order as ``(item, -1)``, an unbuilt archived one as ``(None, position)``.

    ``items`` is a mapping or sequence of the fold; a read checkpoint's archive
    (:mod:`livegate.ledger.checkpoint_archive`) walks its items without building them.
    """
    if isinstance(items, (Archive, ArchivedList)) and items.stored is not None:
        return items.walk()
    return zip(items.values() if isinstance(items, dict) else items, repeat(-1))


def _stats_row(stats: EngineStats) -> Json:
    return [
        stats.intents, stats.approved, dict(stats.denied), stats.orders_submitted, dict(stats.orders_by_venue),
        stats.rejected, stats.ambiguous, stats.fills, stats.cancels_requested, stats.duplicate_fills,
    ]  # fmt: skip


def _json(value: Json) -> bytes:
    """Return ``value`` as the body's JSON text (compact, non-ASCII kept, no NaN), UTF-8."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


class _Table:
    """A table's columns filled row by row: a row is dropped once its values are in the columns.

    Parameters
    ----------
    kinds:
        The table's column kinds (``checkpoint_columns``: ``s`` text, ``d`` decimal text, ``i``, ``b``, ``j``).
    """

    __slots__ = ("_adds", "_columns", "_kinds")

    def __init__(self, kinds: str) -> None:
        self._kinds = kinds
        self._columns: list[list[Any]] = [[] for _ in kinds]
        self._adds = [column.append for column in self._columns]

    def add(self, row: tuple[Any, ...]) -> None:
        """Append one row (its values in ``kinds`` order)."""
        for add, value in zip(self._adds, row, strict=True):
            add(value)

    def extend(self, rows: Iterable[tuple[Any, ...]]) -> _Table:
        """Append ``rows``; return this table."""
        add = self.add
        for row in rows:
            add(row)
        return self

    def text(self) -> bytes:
        """Return the table's JSON text (:func:`_encoded`); the columns are let go."""
        columns, self._columns, self._adds = self._columns, [], []
        return _json(_encoded(columns, self._kinds))


def _columns(rows: list[tuple[Any, ...]], kinds: str) -> Json:
    """Return ``rows`` (tuples shaped by ``kinds``) as ``[row count, column, ...]`` (see :func:`_encoded`)."""
    return _encoded([list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in kinds], kinds)


def _encoded(columns: list[list[Any]], kinds: str) -> Json:
    """Return a table's ``columns`` (equal lengths, shaped by ``kinds``) as ``[row count, column, ...]``.

    A text column whose values repeat (on average :data:`CODED_REPEATS` times or more,
    in its first :data:`CODED_SAMPLE` rows and in all; at most ``len(CODE_CHARS)``
    distinct values) is stored as its distinct values and a
    code character per row, read back with one lookup per row instead of a parse per value
    (``checkpoint_columns.decolumns``). Each column list is emptied once stored.
    """
    count = len(columns[0]) if columns else 0
    out: list[Json] = [count]
    for values, kind in zip(columns, kinds, strict=True):
        sample = values[:CODED_SAMPLE]  # a column of ids shows it at once: no dict of all its values
        repeats = kind in "sd" and len(set(sample)) * CODED_REPEATS <= len(sample)
        codes = dict.fromkeys(values) if repeats else {}
        if codes and len(codes) * CODED_REPEATS <= len(values) and len(codes) <= len(CODE_CHARS):
            distinct = list(codes)
            if len(distinct) == 1:
                out.append({"v": distinct})
            else:
                code_of = dict(zip(distinct, CODE_CHARS, strict=False))
                out.append({"v": distinct, "k": "".join(map(code_of.__getitem__, values))})
        elif kind in "sd":
            joined = SEP.join(values)
            packed = count and joined.count(SEP) == len(values) - 1
            out.append(joined if packed else list(values))
        elif kind == "b":
            out.append("".join("1" if v else "0" for v in values))
        else:
            out.append(list(values))
        values.clear()
    return out
