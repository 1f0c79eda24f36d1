"""Fees charged in any asset are valued in the quote currency and recorded with their asset (issue 10 §3i).

The trades are the recorded Binance ``GET /api/v3/myTrades`` answer (ccxt_fixtures
``fetchMyTrades`` "Spot private trade"), served on loopback and parsed by the real ccxt;
only ``commissionAsset``/``commission`` and the side are changed per case, as Binance
charges a buy's commission in the asset received (BTC on a BTC/USDT buy).
"""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from livegate.domain.enums import Side
from livegate.domain.positions import Position
from tests.contract.ccxt_harness import BINANCE_CREDS, case, fixture, make_adapter, servers
from tests.contract.loopback import Reply

pytestmark = pytest.mark.asyncio


def _trade(asset: str, commission: str, *, buyer: bool) -> list[dict[str, object]]:
    recorded = case(fixture("response", "binance"), "fetchMyTrades", "Spot private trade")["httpResponse"]
    body = copy.deepcopy(recorded)
    body[0].update(commissionAsset=asset, commission=commission, isBuyer=buyer)
    return body


@pytest.mark.parametrize(
    ("asset", "commission", "buyer", "fee_quote", "fee_asset"),
    [
        ("USDT", "0.01392600", False, Decimal("0.013926"), ""),  # as recorded: sell, fee in the quote
        ("LTC", "0.00020000", True, Decimal("0.00020000") * Decimal("69.63"), "LTC"),  # buy: fee in the base
    ],
)
async def test_recent_fills_when_fee_charged_in_asset_then_valued_in_quote_and_recorded_with_asset(
    asset: str, commission: str, buyer: bool, fee_quote: Decimal, fee_asset: str
) -> None:
    async with servers() as lb:
        lb.http.route("GET", "/api/v3/myTrades", Reply(_trade(asset, commission, buyer=buyer)))
        adapter = make_adapter(lb, "binance", "binance", BINANCE_CREDS, 2, order_stream=False, symbols=("LTC/USDT",))
        await adapter.connect()
        try:
            (fill,) = await adapter.recent_fills()
        finally:
            await adapter.close()
    assert fill.side is (Side.BUY if buyer else Side.SELL)
    assert fill.fee == fee_quote
    assert fill.fee_asset == fee_asset
    if fee_asset:
        assert fill.fee_in_asset == Decimal(commission)
        assert fill.to_record()["fee_asset"] == fee_asset


async def test_portfolio_when_buy_fee_charged_in_base_then_pnl_includes_it() -> None:
    async with servers() as lb:
        lb.http.route("GET", "/api/v3/myTrades", Reply(_trade("LTC", "0.00020000", buyer=True)))
        adapter = make_adapter(lb, "binance", "binance", BINANCE_CREDS, 2, order_stream=False, symbols=("LTC/USDT",))
        await adapter.connect()
        try:
            (fill,) = await adapter.recent_fills()
        finally:
            await adapter.close()
    position = Position("LTC/USDT")
    position.apply_fill(fill)
    assert position.fees == Decimal("0.0139260")  # 0.0002 LTC x 69.63 USDT, no longer 0
    assert position.unrealized_pnl(Decimal("69.63")) - position.fees == -Decimal("0.0139260")
