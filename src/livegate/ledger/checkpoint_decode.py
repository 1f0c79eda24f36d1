"""Reading a fold checkpoint's body back into a fold, finished orders left archived (issue 14 item 7).

:func:`decode_checkpoint_body` builds only what a resume needs at once: the orders still
working, the positions, the applied fill keys, the counters and the run facts. The
finished orders, every order entry, the intents, the approved intents and the applied
fills stay in the body's columns and are built on first lookup
(:mod:`livegate.ledger.checkpoint_archive`). Every column is checked here, before
anything is built (types, lengths, references, enum values, decimal texts, the intent
rule that a flatten is reduce-only), so building an item later cannot fail.

The body's layout (columnar tables, :mod:`livegate.ledger.checkpoint_columns`; text columns
with few distinct values stored once per value plus an integer code per row, the others
joined) is written by :func:`livegate.ledger.checkpoint_encode.encode_body`; the digest and
the chain are checked by :func:`livegate.ledger.checkpoint.read_checkpoint` before this
runs. The body is parsed with ``msgspec.json.decode`` (the same values as ``json.loads``:
integers, strings, lists, objects; a checkpoint holds no floats), about twice as fast on a
checkpoint's long lists.
"""

from __future__ import annotations

import operator
from collections import Counter, deque
from dataclasses import fields
from itertools import accumulate, compress, repeat
from typing import Any, Final

import msgspec

from livegate.domain.enums import Liquidity, OrderStatus, OrderType, Side, TimeInForce, TradingState
from livegate.domain.orders import Fill, Order, OrderIntent
from livegate.domain.positions import Position
from livegate.ledger.checkpoint_archive import Archive
from livegate.ledger.checkpoint_columns import (
    DECISION_COLUMNS,
    ENTRY_COLUMNS,
    FILL_COLUMNS,
    INTENT_COLUMNS,
    ORDER_COLUMNS,
    Decimals,
    Json,
    decolumns,
)
from livegate.ledger.checkpoint_lists import ArchivedFills, ArchivedList
from livegate.ledger.checkpoint_rows import StoredRows
from livegate.ledger.fold import LedgerFold, OrderEntry
from livegate.ledger.fold_rules import EngineStats
from livegate.ledger.payload_orders import ArrivalQuote, DecisionRecorded
from livegate.ledger.payload_session import FillsMatched, SessionStarted
from livegate.portfolio import Portfolio


def _members(enum: Any) -> dict[str, Any]:
    return {member.value: member for member in enum}


_SIDES, _TYPES, _TIFS = _members(Side), _members(OrderType), _members(TimeInForce)
_STATUSES, _LIQUIDITY = _members(OrderStatus), _members(Liquidity)


class _Intents:
    """The checkpoint's intents, each built once, when first asked for (shared by orders, entries, approved)."""

    __slots__ = ("built", "columns", "count", "times")

    def __init__(self, table: Json, dec: Decimals) -> None:
        enums = {1: (_SIDES, "side"), 3: (_TYPES, "order type"), 5: (_TIFS, "time in force")}
        columns = decolumns(table, INTENT_COLUMNS, dec, frozenset({0, 8}), enums=enums, required=frozenset({2}))
        sym, sides, qty, types, price, tifs, post, reduce, strategy, seq, ts, flat, rth = columns
        if any(map(operator.gt, flat, reduce)):  # True > False: a flatten that is not reduce-only
            raise ValueError("a flatten intent must be reduce-only")
        self.columns = (sym, sides, qty, types, price, tifs, post, reduce, strategy, seq, ts, flat, rth)
        self.count = len(sym)
        self.times: list[int] = ts  # of each intent, ms since the epoch (read without building the intent)
        self.built: list[OrderIntent | None] = [None] * self.count  # by position, once built

    def many(self, refs: list[int]) -> list[OrderIntent]:
        """Return the intents at ``refs`` (each built once, as ``self[ref]`` would), the unbuilt ones built in bulk.

        A bulk build sets each field of all the new intents column by column, without
        ``OrderIntent.__init__`` (its one rule, a flatten is reduce-only, was checked on
        the columns): a trading day's intents out of a long ledger's, for the gates.
        """
        built = self.built
        todo = [ref for ref in dict.fromkeys(refs) if built[ref] is None]
        if todo:
            fresh = list(map(_new_intent, repeat(OrderIntent, len(todo))))
            for set_field, column in zip(_INTENT_FIELD_SETTERS, self.columns, strict=True):
                deque(map(set_field, fresh, map(column.__getitem__, todo)), maxlen=0)
            deque(map(built.__setitem__, todo, fresh), maxlen=0)
        return list(map(built.__getitem__, refs))  # type: ignore[arg-type]

    def __getitem__(self, i: int) -> OrderIntent:
        intent = self.built[i]
        if intent is None:
            c = self.columns
            intent = self.built[i] = OrderIntent(
                c[0][i], c[1][i], c[2][i], c[3][i], c[4][i], c[5][i], c[6][i], c[7][i], c[8][i], c[9][i], c[10][i],
                c[11][i], c[12][i],
            )  # fmt: skip
        return intent


_new_intent = OrderIntent.__new__
#: The slot setters of OrderIntent's fields, in field order (the order of INTENT_COLUMNS).
_INTENT_FIELD_SETTERS: Final = tuple(getattr(OrderIntent, f.name).__set__ for f in fields(OrderIntent))


def decode_checkpoint_body(body: bytes | memoryview) -> LedgerFold:
    """Return the fold encoded in a checkpoint body (no digest or chain check: see ``read_checkpoint``).

    Orders still working are built now; finished ones, order entries, intents, approved
    intents and fills are built on first lookup (:mod:`livegate.ledger.checkpoint_archive`).

    Raises
    ------
    ValueError, KeyError, TypeError, IndexError, decimal.InvalidOperation, InvariantViolation
        If the body is not a checkpoint body of this version.
    """
    try:
        raw = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise ValueError(f"checkpoint body is not JSON ({exc})") from exc
    if type(raw) is not dict:
        raise TypeError("checkpoint body is not a JSON object")
    dec = Decimals()
    intents = _Intents(raw["intents"], dec)
    order_columns = decolumns(
        raw["orders"], ORDER_COLUMNS, dec, frozenset({2, 6, 7}), enums={3: (_STATUSES, "order status")}
    )
    cids, refs, venues, status_list, filled, notional, venue_order_ids, reasons, updated = order_columns
    check_refs(refs, intents.count, allow_none=False)
    new_order = Order.__new__

    def build_order(i: int) -> Order:
        order = new_order(Order)  # every slot is set below, as Order.__init__ would
        order.client_order_id, order.intent, order.venue = cids[i], intents[refs[i]], venues[i]
        order.status, order.filled_quantity, order.notional_filled = status_list[i], filled[i], notional[i]
        order.venue_order_id, order.reason, order.updated_ms = venue_order_ids[i], reasons[i], updated[i]
        return order

    index: Archive[Order] = Archive(cids, build_order)
    working = []
    live = [status for status in _STATUSES.values() if not status.is_terminal]
    for i in compress(range(len(status_list)), map(live.__contains__, status_list)):
        order = build_order(i)
        index.preset(order.client_order_id, order)
        working.append(order)
    positions = [
        Position.restore(sym, dec[q], dec[c], dec[r], dec[f], dec[t]) for sym, q, c, r, f, t in raw["positions"]
    ]
    key_cids, key_fids = decolumns(raw["fill_keys"], "ss", dec)
    portfolio = Portfolio.restored(working, positions, set(zip(key_cids, key_fids, strict=True)), index=index)
    approved = check_refs(raw["approved"], intents.count, allow_none=False)
    n_intents, n_approved, denied, submitted, by_venue, rejected, ambiguous, n_fills, cancels, dups = raw["stats"]
    stats = EngineStats(
        n_intents, n_approved, Counter(denied), submitted, Counter(by_venue), rejected, ambiguous, n_fills, cancels,
        dups,
    )  # fmt: skip
    session = raw["session"]
    baseline = raw["balance_baseline"]
    entries, entry_columns, decision_columns, decision_at = _archived_entries(raw, intents, dec)
    fills, fill_columns = _archived_fills(raw, dec)
    approved_intents = ArchivedList(
        len(approved),
        lambda i: intents[approved[i]],
        list(map(intents.times.__getitem__, approved)),
        lambda positions: intents.many(list(map(approved.__getitem__, positions))),
    )
    index.stored = entries.stored = fills.stored = approved_intents.stored = StoredRows(
        intents.columns, intents.built, order_columns, entry_columns, decision_columns, decision_at, fill_columns,
        approved,
    )  # fmt: skip
    return LedgerFold(
        session=None if session is None else SessionStarted(session[0], session[1], session[2], tuple(session[3])),
        portfolio=portfolio,
        stats=stats,
        entries=entries,
        fills=fills,
        approved_intents=approved_intents,
        next_seq=check_int(raw["next_seq"]),
        trading_state=TradingState(raw["trading_state"]),
        trading_reason=str(raw["trading_reason"]),
        balance_baseline=None if baseline is None else {str(c): dec[v] for c, v in baseline},
        anomalies=check_int(raw["anomalies"]),
        refused_fills=check_int(raw["refused_fills"]),
        last_seq=check_int(raw["last_seq"]),
        last_hash=str(raw["last_hash"]),
        last_ts_ms=check_int(raw["last_ts_ms"]),
        resumes=check_int(raw["resumes"]),
        ended=raw["ended"] is True,
        started_ms=check_int(raw["started_ms"]),
        reconciles=check_int(raw["reconciles"]),
        fills_matched={
            str(venue): FillsMatched(check_int(count), check_int(cursor), None if newest is None else check_int(newest))
            for venue, count, cursor, newest in raw["fills_matched"]
        },
        adopted_positions={str(symbol): dec[q] for symbol, q in raw["adopted_positions"]},
        adopted_fill_ids={str(fid) for fid in raw["adopted_fill_ids"]},
    )


def _archived_fills(raw: Json, dec: Decimals) -> tuple[ArchivedFills, list[Any]]:
    """Return the checkpoint's applied fills (each built when the list is first read) and their columns."""
    enums = {3: (_SIDES, "fill side"), 7: (_LIQUIDITY, "liquidity")}
    columns = decolumns(
        raw["fills"], FILL_COLUMNS, dec, frozenset({0, 2, 10}), enums=enums, required=frozenset({4, 5, 6, 11})
    )
    cid, fid, sym, sides, price, qty, fee, liquidity, ts, venue, fee_asset, fia = columns

    def build(i: int) -> Fill:
        return Fill(
            cid[i], fid[i], sym[i], sides[i], price[i], qty[i], fee[i], liquidity[i], ts[i], venue[i], fee_asset[i],
            fia[i],
        )  # fmt: skip

    return ArchivedFills(len(cid), build, fid, venue), columns


def _archived_entries(
    raw: Json, intents: _Intents, dec: Decimals
) -> tuple[Archive[OrderEntry], list[Any], list[Any], list[int]]:
    """Return the checkpoint's order entries, each built (with its decision) when first asked for.

    Also returns the entry and decision columns, and the position in the decision table
    of each entry's decision. Every column is checked here, before any entry is built.
    """
    entry_columns = decolumns(raw["entries"], ENTRY_COLUMNS, dec, frozenset({4, 5, 6}))
    cids, first_ts, refs, decided, venues, venue_order_ids, last_statuses, fees = entry_columns
    check_refs(refs, intents.count, allow_none=True)
    decision_columns = decolumns(raw["decisions"], DECISION_COLUMNS, dec, frozenset({0, 2, 3, 4}))
    d_cids, approved, codes, details, d_venues, bids, asks, mids, ages = decision_columns
    if sum(decided) != len(d_cids):
        raise ValueError(f"{sum(decided)} entries have a decision, {len(d_cids)} decisions stored")
    for bid, ask, mid in zip(bids, asks, mids, strict=True):
        if (bid is None) != (ask is None) or (bid is None) != (mid is None):
            raise ValueError("arrival quote with a bid, ask or mid missing")
    where = list(accumulate(decided, initial=0))  # position in the decision table of entry i's decision

    def build(i: int) -> OrderEntry:
        decision = None
        if decided[i]:
            k = where[i]
            bid = bids[k]
            arrival = None if bid is None else ArrivalQuote(bid, asks[k], mids[k], ages[k])
            decision = DecisionRecorded(d_cids[k], approved[k], codes[k], details[k], d_venues[k], arrival)
        ref = refs[i]
        intent = None if ref == -1 else intents[ref]
        return OrderEntry(
            cids[i], first_ts[i], intent, decision, venues[i], venue_order_ids[i], last_statuses[i], fees[i]
        )

    return Archive(cids, build), entry_columns, decision_columns, where


def check_refs(refs: list[int], count: int, *, allow_none: bool) -> list[int]:
    """Return ``refs`` when each is an index into a table of ``count`` intents (or -1, none, if allowed)."""
    if not set(map(type, refs)) <= {int}:
        raise TypeError("intent references must be integers")
    if refs and (min(refs) < (-1 if allow_none else 0) or max(refs) >= count):
        raise ValueError(f"intent reference out of range 0..{count - 1}")
    return refs


def check_int(value: object) -> int:
    """Return ``value`` when it is an integer (not a bool)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected an integer, got {value!r}")
    return value
