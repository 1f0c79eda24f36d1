"""Read what ``livegate compare`` needs from one run directory: intents, decisions, fills, PnL.

Intents, decisions and fills come from the one ledger fold
(:func:`livegate.ledger.fold.fold_events`); per-fill slippage from the ``fill`` payloads'
``slippage_bps`` where the ledger records it (issue 13 item 1; absent in older ledgers);
PnL, fees and the mode from ``summary.json`` (missing in a crashed run: PnL then reads as
unknown).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from livegate.domain.errors import DataError
from livegate.ledger import events as ev
from livegate.ledger.db import SELECT_ROWS, connect_readonly
from livegate.ledger.events import LedgerEvent
from livegate.ledger.fold import LedgerFold, fold_events

__all__ = ["IntentFacts", "RunFacts", "load_run"]

_ZERO = Decimal(0)
#: ``summary.json`` money fields compared (exact decimal strings, USD).
PNL_FIELDS = ("pnl_realized_usd", "pnl_unrealized_usd", "pnl_total_usd", "fees_usd", "turnover_usd")


@dataclass(frozen=True, slots=True)
class IntentFacts:
    """One strategy intent of a run, its decision and what filled.

    Attributes
    ----------
    seq, ts_ms:
        Intent sequence number and session clock time (ms since the epoch).
    strategy_id, symbol, side, order_type, quantity, price, time_in_force, post_only, reduce_only:
        The intent as the strategy made it (quantity in base units, price in quote
        currency; ``price`` None for market orders).
    approved, denial_code:
        The risk pipeline's decision; ``denial_code`` is empty when approved.
    client_order_id:
        Differs between runs (it derives from the session id).
    filled_quantity, average_fill_price, fees:
        Base units; quote currency (None when nothing filled); quote currency.
    slippage_bps:
        Quantity-weighted slippage of its fills against the arrival mid (bps, positive =
        cost), None when the ledger records none.
    """

    seq: int
    ts_ms: int
    strategy_id: str
    symbol: str
    side: str
    order_type: str
    quantity: Decimal
    price: Decimal | None
    time_in_force: str
    post_only: bool
    reduce_only: bool
    approved: bool
    denial_code: str
    client_order_id: str
    filled_quantity: Decimal
    average_fill_price: Decimal | None
    fees: Decimal
    slippage_bps: Decimal | None

    @property
    def content(self) -> tuple[object, ...]:
        """Return what the strategy decided (everything but time, ids and outcome): the matching key."""
        return (
            self.strategy_id,
            self.symbol,
            self.side,
            self.order_type,
            self.quantity,
            self.price,
            self.time_in_force,
            self.post_only,
            self.reduce_only,
        )

    @property
    def outcome(self) -> str:
        """Return ``approved`` or ``denied <CODE>``."""
        return "approved" if self.approved else f"denied {self.denial_code}".rstrip()

    def describe(self) -> str:
        """Return a one-line description, e.g. ``#12 buy 0.002 BTCUSDT limit 61800.1 post-only``."""
        price = "" if self.price is None else f" {self.price}"
        flags = "".join((" post-only" if self.post_only else "", " reduce-only" if self.reduce_only else ""))
        return f"#{self.seq} {self.side} {self.quantity} {self.symbol} {self.order_type}{price}{flags}"

    def to_record(self) -> dict[str, object]:
        """Return a JSON-ready dict (decimals as exact strings)."""
        return {
            "seq": self.seq,
            "ts_ms": self.ts_ms,
            "strategy_id": self.strategy_id,
            "symbol": self.symbol,
            "side": self.side,
            "order_type": self.order_type,
            "quantity": str(self.quantity),
            "price": None if self.price is None else str(self.price),
            "time_in_force": self.time_in_force,
            "post_only": self.post_only,
            "reduce_only": self.reduce_only,
            "decision": self.outcome,
            "client_order_id": self.client_order_id,
            "filled_quantity": str(self.filled_quantity),
            "average_fill_price": None if self.average_fill_price is None else str(self.average_fill_price),
            "fees": str(self.fees),
            "slippage_bps": None if self.slippage_bps is None else str(self.slippage_bps),
        }


@dataclass(frozen=True, slots=True)
class RunFacts:
    """What one run did, for comparison.

    Attributes
    ----------
    run_dir, mode:
        The run directory and its mode (``summary.json``, else the ledger's start record).
    intents:
        Every intent with a decision, in ledger order.
    fills:
        Fills counted (once per venue trade id).
    money:
        ``summary.json``'s :data:`PNL_FIELDS` (USD, exact), None where unknown.
    recording:
        ``market/recording.json`` of a venue run (events recorded, out-of-order events), else empty.
    """

    run_dir: Path
    mode: str
    intents: list[IntentFacts]
    fills: int
    money: dict[str, Decimal | None]
    recording: dict[str, Any]


def load_run(run_dir: Path) -> RunFacts:
    """Read a run directory's ledger and ``summary.json``.

    Raises
    ------
    DataError
        If ``run_dir`` is not a directory, its ledger is missing or unreadable, or
        ``summary.json`` is not valid JSON.
    """
    if not run_dir.is_dir():
        raise DataError(f"{run_dir}: not a run directory")
    events = list(_read_events(run_dir))
    fold = fold_events(events)
    slippage = _fill_slippage(events)
    summary = _json_object(run_dir / "summary.json")
    mode = str(summary.get("mode") or (fold.session.mode if fold.session is not None else ""))
    money = {name: _decimal(summary.get(name)) for name in PNL_FIELDS}
    recording = _json_object(run_dir / "market" / "recording.json")
    return RunFacts(run_dir, mode, _intents(fold, slippage), len(fold.fills), money, recording)


def _read_events(run_dir: Path) -> Iterator[LedgerEvent]:
    conn = connect_readonly(run_dir)
    try:
        for seq, ts_ms, kind, payload_text, prev_hash, digest in conn.execute(SELECT_ROWS):
            payload = json.loads(payload_text)
            if not isinstance(payload, dict):
                raise DataError(f"ledger of {run_dir}: payload of seq {seq} is not a JSON object")
            yield LedgerEvent(int(seq), int(ts_ms), str(kind), payload, str(prev_hash), str(digest))
    except (sqlite3.Error, ValueError) as exc:
        raise DataError(f"cannot read the ledger of {run_dir}: {exc}") from exc
    finally:
        conn.close()


def _json_object(path: Path) -> dict[str, Any]:
    """Return the JSON object in ``path``, or {} when the file is absent (a crashed run has no summary)."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: unreadable ({exc})") from exc
    return data if isinstance(data, dict) else {}


def _decimal(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _fill_slippage(events: list[LedgerEvent]) -> dict[str, Decimal]:
    """Return client order id -> quantity-weighted ``slippage_bps`` of its fills (those that record it)."""
    weighted: dict[str, Decimal] = {}
    quantity: dict[str, Decimal] = {}
    seen: set[tuple[str, str]] = set()
    for event in events:
        if event.kind != ev.FILL:
            continue
        payload = event.payload
        cid, fill_id = str(payload.get("client_order_id", "")), str(payload.get("fill_id", ""))
        bps, qty = _decimal(payload.get("slippage_bps")), _decimal(payload.get("quantity"))
        if bps is None or qty is None or (cid, fill_id) in seen:
            continue
        seen.add((cid, fill_id))
        weighted[cid] = weighted.get(cid, _ZERO) + bps * qty
        quantity[cid] = quantity.get(cid, _ZERO) + qty
    return {cid: weighted[cid] / qty for cid, qty in quantity.items() if qty}


def _intents(fold: LedgerFold, slippage: dict[str, Decimal]) -> list[IntentFacts]:
    out: list[IntentFacts] = []
    for entry in fold.entries.values():
        intent, decision = entry.intent, entry.decision
        if intent is None or decision is None:
            continue
        order = fold.order(entry.client_order_id)
        filled = order.filled_quantity if order is not None else _ZERO
        average = order.notional_filled / filled if order is not None and filled else None
        out.append(
            IntentFacts(
                seq=intent.seq,
                ts_ms=intent.ts_ms,
                strategy_id=intent.strategy_id,
                symbol=intent.symbol,
                side=intent.side.value,
                order_type=intent.order_type.value,
                quantity=intent.quantity,
                price=intent.price,
                time_in_force=intent.time_in_force.value,
                post_only=intent.post_only,
                reduce_only=intent.reduce_only,
                approved=decision.approved,
                denial_code="" if decision.approved else decision.code,
                client_order_id=entry.client_order_id,
                filled_quantity=filled,
                average_fill_price=average,
                fees=entry.fees,
                slippage_bps=slippage.get(entry.client_order_id),
            )
        )
    return out
