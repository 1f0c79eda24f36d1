"""A checkpoint of the ledger fold, verified against the chain (issue 14 item 7).

Folding a long ledger from its first event is what makes ``livegate run --resume`` slow
(seconds per million events). A checkpoint is the :class:`~livegate.ledger.fold.LedgerFold`
of the events up to some seq, saved in ``ledger.checkpoint`` next to ``ledger.sqlite``:
a resume loads it and folds only the events after it.

It is never trusted over the chain. The file holds one header line (JSON: format,
:data:`CHECKPOINT_VERSION`, a digest of the fold's own code, the seq and the chain hash of
the last event it covers, the sha256 and length of the body) and the body (JSON). It is
used only when every check holds: readable, same format and version, same fold code
(any change to the fold's rules, payload decoding, orders, positions or the book ignores
it), the body's sha256 matches, the seq is in the ledger and the ledger's event there has
the recorded hash, and the body decodes into a fold that ends at that seq and hash.
Otherwise :func:`read_checkpoint` says why and the caller folds from the first event.

Money and quantities are stored as exact decimal strings and read back as the same
``Decimal`` (value, exponent and sign), so checkpoint + later events equals the full fold.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections import Counter
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from itertools import accumulate
from pathlib import Path
from typing import Any, Final

from livegate.domain import orders as _orders_module
from livegate.domain import positions as _positions_module
from livegate.domain.enums import Liquidity, OrderStatus, OrderType, Side, TimeInForce, TradingState
from livegate.domain.errors import InvariantViolation
from livegate.domain.orders import Fill, Order, OrderIntent
from livegate.domain.positions import Position
from livegate.ledger import fold as _fold_module
from livegate.ledger import payloads as _payloads_module
from livegate.ledger.checkpoint_entries import ArchivedEntries
from livegate.ledger.fold import EngineStats, LedgerFold, OrderEntry
from livegate.ledger.payloads import ArrivalQuote, DecisionRecorded, SessionStarted
from livegate.portfolio import Portfolio
from livegate.portfolio import book as _book_module

#: File name of the checkpoint, next to the ledger file (``ledger.sqlite``) in a run directory.
CHECKPOINT_FILE: Final = "ledger.checkpoint"
#: First field of the header line.
CHECKPOINT_FORMAT: Final = "livegate-fold-checkpoint"
#: Layout of the body below; bump it when the body changes.
CHECKPOINT_VERSION: Final = 1

Json = Any
HashAt = Callable[[int], str | None]


def _fold_code_digest() -> str:
    """Return the sha256 of the source of every module whose rules shape the fold."""
    digest = hashlib.sha256()
    modules = (_fold_module, _payloads_module, _orders_module, _positions_module, _book_module, sys.modules[__name__])
    for module in modules:
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message says why (the caller folds from the first event)."""


def checkpoint_path(ledger_file: Path) -> Path:
    """Return the checkpoint file of a ledger file (same directory, :data:`CHECKPOINT_FILE`)."""
    return ledger_file.parent / CHECKPOINT_FILE


# ---------------------------------------------------------------------- encode
def encode_checkpoint(fold: LedgerFold) -> bytes:
    """Return the checkpoint file content of ``fold`` (header line and body), for the events up to ``fold.last_seq``.

    Raises
    ------
    ValueError
        If the fold is empty (nothing to checkpoint).
    """
    if fold.last_seq <= 0:
        raise ValueError("an empty fold has nothing to checkpoint")
    intent_index: dict[int, int] = {}
    intents: list[OrderIntent] = []

    def intent_ref(intent: OrderIntent | None) -> int:
        if intent is None:
            return -1
        ref = intent_index.get(id(intent))
        if ref is None:
            ref = intent_index[id(intent)] = len(intents)
            intents.append(intent)
        return ref

    portfolio = fold.portfolio
    orders = [
        (o.client_order_id, intent_ref(o.intent), o.venue, o.status.value, str(o.filled_quantity),
         str(o.notional_filled), o.venue_order_id, o.reason, o.updated_ms)
        for o in portfolio.all_orders()
    ]  # fmt: skip
    entries = list(fold.entries.values())
    decisions = [e.decision for e in entries if e.decision is not None]
    entry_rows = [
        (e.client_order_id, e.first_ts_ms, intent_ref(e.intent), e.decision is not None, e.venue, e.venue_order_id,
         e.last_status, str(e.fees))
        for e in entries
    ]  # fmt: skip
    approved = [intent_ref(i) for i in fold.approved_intents]
    intent_rows = [
        (i.symbol, i.side.value, str(i.quantity), i.order_type.value, "" if i.price is None else str(i.price),
         i.time_in_force.value, i.post_only, i.reduce_only, i.strategy_id, i.seq, i.ts_ms, i.flatten, i.outside_rth)
        for i in intents
    ]  # fmt: skip
    decision_rows = [
        (d.client_order_id, d.approved, d.code, d.detail, d.venue,
         None if d.arrival is None else [str(d.arrival.bid), str(d.arrival.ask), str(d.arrival.mid), d.arrival.age_ms])
        for d in decisions
    ]  # fmt: skip
    fill_rows = [
        (f.client_order_id, f.fill_id, f.symbol, f.side.value, str(f.price), str(f.quantity), str(f.fee),
         f.liquidity.value, f.ts_ms, f.venue, f.fee_asset, str(f.fee_in_asset))
        for f in fold.fills
    ]  # fmt: skip
    stats = fold.stats
    session = fold.session
    body = {
        "session": None
        if session is None
        else [session.session_id, session.mode, session.config_hash, list(session.inputs)],
        "intents": _columns(intent_rows, _INTENT_COLUMNS),
        "orders": _columns(orders, _ORDER_COLUMNS),
        "positions": [
            [p.symbol, str(p.quantity), str(p.cost_basis), str(p.realized_pnl), str(p.fees), str(p.turnover)]
            for p in portfolio.positions()
        ],
        "fill_keys": _columns(sorted(portfolio.fill_keys()), "ss"),
        "entries": _columns(entry_rows, _ENTRY_COLUMNS),
        "decisions": _columns(decision_rows, _DECISION_COLUMNS),
        "fills": _columns(fill_rows, _FILL_COLUMNS),
        "approved": approved,
        "stats": _stats_row(stats),
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
    }
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
    header = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "fold_code": _FOLD_CODE,
        "seq": fold.last_seq,
        "hash": fold.last_hash,
        "body_sha256": hashlib.sha256(text).hexdigest(),
        "body_bytes": len(text),
    }
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode("ascii") + b"\n" + text


def _stats_row(stats: EngineStats) -> Json:
    return [
        stats.intents, stats.approved, dict(stats.denied), stats.orders_submitted, dict(stats.orders_by_venue),
        stats.rejected, stats.ambiguous, stats.fills, stats.cancels_requested, stats.duplicate_fills,
    ]  # fmt: skip


#: Column kinds of each table: ``s`` text, ``d`` decimal text (``""``: None), ``i`` integer, ``b`` bool,
#: ``j`` any JSON value. Text columns are stored joined by :data:`_SEP` when no value holds it
#: (one JSON string to parse instead of one per value), else as a JSON list.
_INTENT_COLUMNS: Final = "ssdsdsbbsiibb"
_ORDER_COLUMNS: Final = "sissddssi"
_ENTRY_COLUMNS: Final = "siibsssd"
_DECISION_COLUMNS: Final = "sbsssj"
_FILL_COLUMNS: Final = "ssssdddsissd"
_SEP: Final = "|"


def _columns(rows: list[tuple[Any, ...]], kinds: str) -> Json:
    """Return ``rows`` (tuples shaped by ``kinds``) as ``[row count, column, ...]``."""
    columns: list[Json] = [len(rows)]
    for index, kind in enumerate(kinds):
        values = [row[index] for row in rows]
        if kind in "sd":
            joined = _SEP.join(values)
            packed = rows and joined.count(_SEP) == len(values) - 1
            columns.append(joined if packed else values)
        elif kind == "b":
            columns.append("".join("1" if v else "0" for v in values))
        else:
            columns.append(values)
    return columns


def _decolumns(table: Json, kinds: str, dec: _Decimals) -> list[list[Any]]:
    """Return the columns of a table written by :func:`_columns` (decimals as ``Decimal``, None for ``""``).

    Raises
    ------
    ValueError
        If a column does not hold the table's row count of values.
    """
    count, *columns = table
    if not isinstance(count, int) or len(columns) != len(kinds):
        raise ValueError(f"table of {len(columns)} columns, expected {len(kinds)}")
    out: list[list[Any]] = []
    for kind, column in zip(kinds, columns, strict=True):
        if kind in "sd" and isinstance(column, str):
            values: list[Any] = column.split(_SEP) if count else []
        elif kind == "b" and isinstance(column, str):
            values = [c == "1" for c in column]
        elif isinstance(column, list):
            values = column
            if kind in "sd" and not all(type(v) is str for v in values):
                raise TypeError("text column holds a non-text value")
            if kind == "i" and not all(type(v) is int for v in values):
                raise TypeError("integer column holds a non-integer value")
        else:
            raise ValueError(f"column of kind {kind!r} is a {type(column).__name__}")
        if len(values) != count:
            raise ValueError(f"column of {len(values)} values in a table of {count} rows")
        if kind == "d":
            values = [None if v == "" else dec[v] for v in values]
        out.append(values)
    return out


def write_checkpoint(path: Path, fold: LedgerFold) -> int:
    """Write the checkpoint of ``fold`` to ``path`` atomically (temp file, fsync, rename); return its size in bytes.

    A crash leaves the previous checkpoint or the new one, never a mix (and a torn file
    fails its digest and is ignored).

    Raises
    ------
    OSError
        If the file cannot be written.
    ValueError
        If the fold is empty.
    """
    data = encode_checkpoint(fold)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return len(data)


# ---------------------------------------------------------------------- read and verify
def read_checkpoint(path: Path, hash_at: HashAt, head_seq: int) -> LedgerFold:
    """Return the fold saved in ``path`` after checking it against the ledger's chain.

    Parameters
    ----------
    path:
        The checkpoint file.
    hash_at:
        Returns the stored chain hash of the ledger event at a seq (None when there is none).
    head_seq:
        Seq of the ledger's last event.

    Raises
    ------
    CheckpointError
        If the file is missing or unreadable, of another format, version or fold code,
        its body does not match its digest, its seq is beyond the ledger's head, the
        ledger's event at its seq has another hash (rewritten or another ledger), or the
        body does not decode into a fold ending at that seq and hash. The message says which.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise CheckpointError("no checkpoint file") from exc
    except OSError as exc:
        raise CheckpointError(f"checkpoint unreadable ({exc})") from exc
    line, sep, body = data.partition(b"\n")
    try:
        header = json.loads(line)
        if not sep or not isinstance(header, dict):
            raise ValueError("no header line")
        seq, expected_hash = int(header["seq"]), str(header["hash"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"checkpoint header unreadable ({exc})") from exc
    if header.get("format") != CHECKPOINT_FORMAT or header.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(
            f"checkpoint format {header.get('format')!r} version {header.get('version')!r}; "
            f"this build reads {CHECKPOINT_FORMAT!r} version {CHECKPOINT_VERSION}"
        )
    if header.get("fold_code") != _FOLD_CODE:
        raise CheckpointError("checkpoint written by a build with other fold rules (fold code digest differs)")
    if header.get("body_bytes") != len(body) or header.get("body_sha256") != hashlib.sha256(body).hexdigest():
        raise CheckpointError("checkpoint body does not match its digest (corrupt or torn write)")
    if seq < 1 or seq > head_seq:
        raise CheckpointError(f"checkpoint covers seq {seq} but the ledger ends at seq {head_seq} (ledger truncated?)")
    stored = hash_at(seq)
    if stored != expected_hash:
        found = "no event" if stored is None else stored[:12] + "..."
        raise CheckpointError(
            f"checkpoint records hash {expected_hash[:12]}... at seq {seq}, the ledger has {found} there "
            "(ledger rewritten, or another run's checkpoint)"
        )
    try:
        fold = decode_checkpoint_body(body)
    except (ValueError, KeyError, TypeError, IndexError, InvalidOperation, InvariantViolation) as exc:
        raise CheckpointError(f"checkpoint body does not decode ({type(exc).__name__}: {exc})") from exc
    if fold.last_seq != seq or fold.last_hash != expected_hash:
        raise CheckpointError(f"checkpoint body ends at seq {fold.last_seq}, its header says {seq}")
    return fold


class _Decimals(dict[str, Decimal]):
    """Exact decimal strings to shared ``Decimal`` values (immutable, so one object per distinct string)."""

    def __missing__(self, text: str) -> Decimal:
        if not isinstance(text, str):
            raise TypeError(f"decimal must be a string, got {text!r}")
        value = self[text] = Decimal(text)
        return value


def _members(enum: Any) -> dict[str, Any]:
    return {member.value: member for member in enum}


_SIDES, _TYPES, _TIFS = _members(Side), _members(OrderType), _members(TimeInForce)
_STATUSES, _LIQUIDITY = _members(OrderStatus), _members(Liquidity)


def decode_checkpoint_body(body: bytes) -> LedgerFold:
    """Return the fold encoded in a checkpoint body (no digest or chain check: see :func:`read_checkpoint`).

    Raises
    ------
    ValueError, KeyError, TypeError, IndexError, decimal.InvalidOperation, InvariantViolation
        If the body is not a checkpoint body of this version.
    """
    raw = json.loads(body)
    dec = _Decimals()
    sides, types, tifs, statuses = _SIDES, _TYPES, _TIFS, _STATUSES
    intents = [
        OrderIntent(sym, sides[side], qty, types[otype], price, tifs[tif], post, reduce, strategy, seq, ts, flat, rth)
        for sym, side, qty, otype, price, tif, post, reduce, strategy, seq, ts, flat, rth in zip(
            *_decolumns(raw["intents"], _INTENT_COLUMNS, dec), strict=True
        )
    ]
    orders: list[Order] = []
    new_order = Order.__new__
    order_columns = _decolumns(raw["orders"], _ORDER_COLUMNS, dec)
    _check_refs(order_columns[1], len(intents), allow_none=False)
    for cid, ref, venue, status, filled, notional, venue_order_id, reason, updated_ms in zip(
        *order_columns, strict=True
    ):
        order = new_order(Order)  # every slot is set below, as Order.__init__ would
        order.client_order_id, order.intent, order.venue = cid, intents[ref], venue
        order.status, order.filled_quantity, order.notional_filled = statuses[status], filled, notional
        order.venue_order_id, order.reason, order.updated_ms = venue_order_id, reason, updated_ms
        orders.append(order)
    positions = [
        Position.restore(sym, dec[q], dec[c], dec[r], dec[f], dec[t]) for sym, q, c, r, f, t in raw["positions"]
    ]
    portfolio = Portfolio.restored(orders, positions, set(zip(*_decolumns(raw["fill_keys"], "ss", dec), strict=True)))
    entries = _archived_entries(raw, intents, dec)
    liquidity = _LIQUIDITY
    fills = [
        Fill(cid, fid, sym, sides[side], price, qty, fee, liquidity[liq], ts, venue, fee_asset, fia)
        for cid, fid, sym, side, price, qty, fee, liq, ts, venue, fee_asset, fia in zip(
            *_decolumns(raw["fills"], _FILL_COLUMNS, dec), strict=True
        )
    ]
    (n_intents, approved, denied, submitted, by_venue, rejected, ambiguous, n_fills, cancels, duplicates) = raw["stats"]
    stats = EngineStats(
        n_intents, approved, Counter(denied), submitted, Counter(by_venue), rejected, ambiguous, n_fills, cancels,
        duplicates,
    )  # fmt: skip
    session = raw["session"]
    baseline = raw["balance_baseline"]
    return LedgerFold(
        session=None if session is None else SessionStarted(session[0], session[1], session[2], tuple(session[3])),
        portfolio=portfolio,
        stats=stats,
        entries=entries,
        fills=fills,
        approved_intents=[intents[ref] for ref in _check_refs(raw["approved"], len(intents), allow_none=False)],
        next_seq=_int(raw["next_seq"]),
        trading_state=TradingState(raw["trading_state"]),
        trading_reason=str(raw["trading_reason"]),
        balance_baseline=None if baseline is None else {str(c): dec[v] for c, v in baseline},
        anomalies=_int(raw["anomalies"]),
        refused_fills=_int(raw["refused_fills"]),
        last_seq=_int(raw["last_seq"]),
        last_hash=str(raw["last_hash"]),
        last_ts_ms=_int(raw["last_ts_ms"]),
        resumes=_int(raw["resumes"]),
        ended=raw["ended"] is True,
    )


def _archived_entries(raw: Json, intents: list[OrderIntent], dec: _Decimals) -> ArchivedEntries:
    """Return the checkpoint's order entries, each built (with its decision) when first asked for.

    Every column is checked here, before any entry is built.
    """
    cids, first_ts, refs, decided, venues, venue_order_ids, last_statuses, fees = _decolumns(
        raw["entries"], _ENTRY_COLUMNS, dec
    )
    _check_refs(refs, len(intents), allow_none=True)
    d_cids, approved, codes, details, d_venues, arrivals = _decolumns(raw["decisions"], _DECISION_COLUMNS, dec)
    if sum(decided) != len(d_cids):
        raise ValueError(f"{sum(decided)} entries have a decision, {len(d_cids)} decisions stored")
    for a in arrivals:
        if a is not None:
            _arrival(a, dec)  # checked now; built again with its entry
    where = list(accumulate(decided, initial=0))  # position in the decision table of entry i's decision

    def build(i: int) -> OrderEntry:
        decision = None
        if decided[i]:
            k = where[i]
            a = arrivals[k]
            arrival = None if a is None else _arrival(a, dec)
            decision = DecisionRecorded(d_cids[k], approved[k], codes[k], details[k], d_venues[k], arrival)
        ref = refs[i]
        intent = None if ref == -1 else intents[ref]
        return OrderEntry(
            cids[i], first_ts[i], intent, decision, venues[i], venue_order_ids[i], last_statuses[i], fees[i]
        )

    return ArchivedEntries(cids, build)


def _arrival(row: Json, dec: _Decimals) -> ArrivalQuote:
    bid, ask, mid, age_ms = row
    return ArrivalQuote(dec[bid], dec[ask], dec[mid], _int(age_ms))


def _check_refs(refs: list[int], count: int, *, allow_none: bool) -> list[int]:
    """Return ``refs`` when each is an index into a table of ``count`` intents (or -1, none, if allowed)."""
    if not all(type(r) is int for r in refs):
        raise TypeError("intent references must be integers")
    if refs and (min(refs) < (-1 if allow_none else 0) or max(refs) >= count):
        raise ValueError(f"intent reference out of range 0..{count - 1}")
    return refs


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected an integer, got {value!r}")
    return value


_FOLD_CODE: Final = _fold_code_digest()
