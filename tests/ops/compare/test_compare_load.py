"""``load_run`` reads intents, decisions and fills through the ledger fold, and fill slippage where recorded."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from livegate.domain.enums import Liquidity, OrderType, Side, TimeInForce
from livegate.domain.errors import DataError
from livegate.domain.orders import Fill, OrderIntent
from livegate.ledger import events as ev
from livegate.ledger.store import Ledger
from livegate.ops.compare_load import load_run

D = Decimal


def _write_run(run_dir: Path, slippage: list[str | None]) -> None:
    run_dir.mkdir()
    ledger = Ledger.open(run_dir / "ledger.sqlite")
    intent = OrderIntent(
        symbol="BTCUSDT", side=Side.BUY, quantity=D("0.004"), order_type=OrderType.MARKET, price=None,
        time_in_force=TimeInForce.IOC, post_only=False, reduce_only=False, strategy_id="taker", seq=0, ts_ms=1_000,
    )  # fmt: skip
    cid = "sess-taker-0"
    ledger.append(ev.INTENT, 1_000, {"client_order_id": cid, **intent.to_record()})
    ledger.append(ev.DECISION, 1_000, {"client_order_id": cid, "approved": True, "venue": "paper"})
    ledger.append(ev.SUBMIT_REQUESTED, 1_000, {"client_order_id": cid, "venue": "paper"})
    for n, (price, bps) in enumerate(zip(("100", "102"), slippage, strict=True)):
        fill = Fill(cid, f"t{n}", "BTCUSDT", Side.BUY, D(price), D("0.002"), D("0.01"), Liquidity.TAKER, 1_001 + n)
        ledger.append(ev.FILL, 1_001 + n, {**fill.to_record(), "slippage_bps": bps})
    ledger.close()
    (run_dir / "summary.json").write_text(json.dumps({"mode": "live", "pnl_total_usd": "-0.5"}), encoding="utf-8")


def test_load_run_when_fills_record_slippage_then_it_is_quantity_weighted_per_intent(tmp_path: Path) -> None:
    _write_run(tmp_path / "run", ["1.0", "3.0"])

    run = load_run(tmp_path / "run")

    (intent,) = run.intents
    assert (intent.seq, intent.side, intent.order_type, intent.approved) == (0, "buy", "market", True)
    assert (intent.filled_quantity, intent.average_fill_price) == (D("0.004"), D("101"))
    assert intent.slippage_bps == D("2")
    assert (run.mode, run.fills, run.money["pnl_total_usd"]) == ("live", 2, D("-0.5"))


def test_load_run_when_fills_carry_no_slippage_then_slippage_is_unknown(tmp_path: Path) -> None:
    _write_run(tmp_path / "run", [None, None])

    assert load_run(tmp_path / "run").intents[0].slippage_bps is None


def test_load_run_when_the_directory_has_no_ledger_then_data_error_names_it(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="ledger not found"):
        load_run(tmp_path)
