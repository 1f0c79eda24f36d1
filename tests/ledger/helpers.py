"""Helpers shared by the ledger tests: real domain objects and raw-SQL tampering."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

from livegate.domain.enums import Liquidity, OrderType, Side, TimeInForce
from livegate.domain.orders import Fill, OrderIntent
from livegate.ledger.events import GENESIS_HASH, chain_hash


def make_intent(
    seq: int, *, side: Side = Side.BUY, quantity: str = "0.010", price: str | None = "60000.10"
) -> OrderIntent:
    return OrderIntent(
        symbol="BTCUSDT",
        side=side,
        quantity=Decimal(quantity),
        order_type=OrderType.LIMIT if price is not None else OrderType.MARKET,
        price=None if price is None else Decimal(price),
        time_in_force=TimeInForce.GTC,
        post_only=False,
        reduce_only=False,
        strategy_id="demo",
        seq=seq,
        ts_ms=1_723_100_000_000 + seq,
    )


def make_fill(cid: str, fill_id: str, price: str, quantity: str, fee: str, ts_ms: int) -> Fill:
    return Fill(
        client_order_id=cid,
        fill_id=fill_id,
        symbol="BTCUSDT",
        side=Side.BUY,
        price=Decimal(price),
        quantity=Decimal(quantity),
        fee=Decimal(fee),
        liquidity=Liquidity.TAKER,
        ts_ms=ts_ms,
        venue="paper",
    )


def tamper(path: Path, sql: str, params: tuple[object, ...] = ()) -> None:
    """Drop the append-only triggers and run ``sql`` as an attacker with file access would."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("DROP TRIGGER IF EXISTS events_no_update")
        conn.execute("DROP TRIGGER IF EXISTS events_no_delete")
        conn.execute(sql, params)
        conn.commit()
    finally:
        conn.close()


def rewrite_chain(path: Path, seq: int, payload_text: str) -> None:
    """Replace the payload of ``seq`` and recompute every hash after it, as a careful attacker would."""
    tamper(path, "UPDATE events SET payload = ? WHERE seq = ?", (payload_text, seq))
    conn = sqlite3.connect(path)
    try:
        prev = GENESIS_HASH
        rows = conn.execute("SELECT seq, ts_ms, kind, payload FROM events ORDER BY seq").fetchall()
        for row_seq, ts_ms, kind, text in rows:
            digest = chain_hash(prev, row_seq, ts_ms, kind, json.loads(text))
            conn.execute("UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, digest, row_seq))
            prev = digest
        conn.commit()
    finally:
        conn.close()
