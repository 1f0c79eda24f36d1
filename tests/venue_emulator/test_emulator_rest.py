"""The emulator answers as Binance does: admission, filters, id rule, balances, commission, faults."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest

from tests.venue_emulator import EXECUTION_UNKNOWN_MSG, Emulator, HttpFault
from tests.venue_emulator.client import call

ORDER = "/api/v3/order"


def _below_bid(emu: Emulator, ticks: int = 1000) -> str:
    bid, _ask = emu.book.quote("BTCUSDT")
    return str(bid - Decimal("0.01") * ticks)


async def test_emulator_when_signature_wrong_then_1022_and_no_order(spot_emulator: Emulator) -> None:
    spot_emulator.step(3)
    answer = await call(
        spot_emulator, "POST", ORDER, secret="wrong", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001"
    )
    assert (answer.status, answer.code) == (400, -1022)
    assert spot_emulator.book.orders == {}


async def test_emulator_when_key_unknown_or_revoked_then_401_2015(spot_emulator: Emulator) -> None:
    assert (await call(spot_emulator, "GET", "/api/v3/account", key="nobody")).code == -2015
    spot_emulator.revoke_key()
    answer = await call(spot_emulator, "GET", "/api/v3/account")
    assert (answer.status, answer.code) == (401, -2015)


async def test_emulator_when_timestamp_outside_recv_window_then_1021(spot_emulator: Emulator) -> None:
    spot_emulator.set_clock_skew(30_000)
    answer = await call(spot_emulator, "GET", "/api/v3/account")
    assert (answer.status, answer.code) == (400, -1021)
    ahead = await call(spot_emulator, "GET", "/api/v3/account", timestamp_ms=int(time.time() * 1000) + 60_000)
    assert ahead.code == -1021
    assert "ahead" in ahead.body["msg"]


async def test_emulator_when_weight_spent_then_header_counts_then_429_retry_after_then_418(
    spot_emulator: Emulator,
) -> None:
    spot_emulator.gate.weight_limit_1m = 45
    first = await call(spot_emulator, "GET", "/api/v3/account")
    assert first.status == 200
    assert first.headers["X-MBX-USED-WEIGHT-1M"] == "20"
    await call(spot_emulator, "GET", "/api/v3/account")
    limited = await call(spot_emulator, "GET", "/api/v3/account")
    assert (limited.status, limited.code) == (429, -1003)
    assert int(limited.headers["Retry-After"]) > 0
    spot_emulator.gate.in_flight_grace_ms = 100_000  # a request already on its way: 429 again, no ban
    in_flight = await call(spot_emulator, "GET", "/api/v3/time", signed=False)
    assert (in_flight.status, in_flight.code) == (429, -1003)
    # sent after the 429 arrived: banned (grace -1 ms: the venue clock is wall ms, and a fast
    # client's next request can land in the very millisecond of the 429)
    spot_emulator.gate.in_flight_grace_ms = -1
    banned = await call(spot_emulator, "GET", "/api/v3/time", signed=False)
    assert (banned.status, banned.code) == (418, -1003)
    assert "banned until" in banned.body["msg"]


async def test_emulator_when_price_off_tick_or_lot_or_notional_then_1013_filter_failure(
    spot_emulator: Emulator,
) -> None:
    spot_emulator.step(3)
    base = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}
    off_tick = await call(spot_emulator, "POST", ORDER, **base, quantity="0.001", price="50000.005")
    off_lot = await call(spot_emulator, "POST", ORDER, **base, quantity="0.000015", price="50000")
    small = await call(spot_emulator, "POST", ORDER, **base, quantity="0.00001", price="50000")
    assert [a.body["msg"] for a in (off_tick, off_lot, small)] == [
        "Filter failure: PRICE_FILTER",
        "Filter failure: LOT_SIZE",
        "Filter failure: NOTIONAL",
    ]
    assert {a.code for a in (off_tick, off_lot, small)} == {-1013}


async def test_emulator_when_post_only_would_cross_then_2010_would_take(spot_emulator: Emulator) -> None:
    spot_emulator.step(3)
    _bid, ask = spot_emulator.book.quote("BTCUSDT")
    answer = await call(
        spot_emulator, "POST", ORDER, symbol="BTCUSDT", side="BUY", type="LIMIT_MAKER", quantity="0.001", price=str(ask)
    )
    assert (answer.code, answer.body["msg"]) == (-2010, "Order would immediately match and take.")


async def test_emulator_when_client_id_reused_then_refused_only_while_first_is_open(spot_emulator: Emulator) -> None:
    spot_emulator.step(3)
    rest = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.001"}
    first = await call(
        spot_emulator, "POST", ORDER, **rest, price=_below_bid(spot_emulator), newClientOrderId="lg-dup-1"
    )
    assert first.body["status"] == "NEW"
    again = await call(
        spot_emulator, "POST", ORDER, **rest, price=_below_bid(spot_emulator), newClientOrderId="lg-dup-1"
    )
    assert (again.code, again.body["msg"]) == (-2010, "Duplicate order sent.")
    await call(spot_emulator, "DELETE", ORDER, symbol="BTCUSDT", origClientOrderId="lg-dup-1")
    reused = await call(
        spot_emulator, "POST", ORDER, **rest, price=_below_bid(spot_emulator), newClientOrderId="lg-dup-1"
    )
    assert reused.body["status"] == "NEW"
    assert spot_emulator.duplicate_client_order_ids() == ["lg-dup-1"]


async def test_emulator_when_limit_buy_rests_then_quote_locked_and_released_on_cancel(spot_emulator: Emulator) -> None:
    spot_emulator.step(3)
    price = Decimal(_below_bid(spot_emulator))
    await call(
        spot_emulator,
        "POST",
        ORDER,
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.01",
        price=str(price),
        newClientOrderId="lg-lock",
    )
    assert spot_emulator.balance("USDT") == (Decimal(10000) - price * Decimal("0.01"), price * Decimal("0.01"))
    cancel = await call(spot_emulator, "DELETE", ORDER, symbol="BTCUSDT", origClientOrderId="lg-lock")
    assert cancel.body["status"] == "CANCELED"
    assert spot_emulator.balance("USDT") == (Decimal(10000), Decimal(0))
    unknown = await call(spot_emulator, "DELETE", ORDER, symbol="BTCUSDT", origClientOrderId="lg-lock")
    assert (unknown.code, unknown.body["msg"]) == (-2011, "Unknown order sent.")


async def test_emulator_when_buy_and_sell_fill_then_commission_in_received_asset(spot_emulator: Emulator) -> None:
    spot_emulator.step(3)
    buy = await call(spot_emulator, "POST", ORDER, symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.01")
    sell = await call(spot_emulator, "POST", ORDER, symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.01")
    assert buy.body["fills"][0]["commissionAsset"] == "BTC"
    assert Decimal(buy.body["fills"][0]["commission"]) == Decimal("0.00001")
    assert sell.body["fills"][0]["commissionAsset"] == "USDT"
    assert spot_emulator.balance("BTC")[0] == Decimal("0.1") - Decimal("0.00001")


async def test_emulator_when_resting_order_reached_by_replayed_trade_then_maker_fill(spot_emulator: Emulator) -> None:
    spot_emulator.step(1)
    bid, _ask = spot_emulator.book.quote("BTCUSDT")
    await call(
        spot_emulator,
        "POST",
        ORDER,
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.001",
        price=str(bid),
        newClientOrderId="lg-rest",
    )
    while not spot_emulator.fills() and spot_emulator.step(1):
        pass
    fill = spot_emulator.fills()[0]
    assert (fill.maker, fill.price, fill.client_order_id) == (True, bid, "lg-rest")


async def test_emulator_when_503_after_accept_then_order_exists_at_venue(spot_emulator: Emulator) -> None:
    spot_emulator.step(3)
    spot_emulator.fail_next(HttpFault("/order", method="POST", after_accept=True))
    answer = await call(
        spot_emulator,
        "POST",
        ORDER,
        symbol="BTCUSDT",
        side="BUY",
        type="MARKET",
        quantity="0.001",
        newClientOrderId="lg-amb",
    )
    assert (answer.status, answer.code, answer.body["msg"]) == (503, -1007, EXECUTION_UNKNOWN_MSG)
    found = await call(spot_emulator, "GET", ORDER, symbol="BTCUSDT", origClientOrderId="lg-amb")
    assert found.body["status"] == "FILLED"


async def test_emulator_when_order_hidden_then_lookup_says_missing_until_lag_passes(spot_emulator: Emulator) -> None:
    spot_emulator.step(3)
    spot_emulator.hide_new_orders(0.3)
    await call(
        spot_emulator,
        "POST",
        ORDER,
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.001",
        price=_below_bid(spot_emulator),
        newClientOrderId="lg-lag",
    )
    missing = await call(spot_emulator, "GET", ORDER, symbol="BTCUSDT", origClientOrderId="lg-lag")
    assert (missing.code, missing.body["msg"]) == (-2013, "Order does not exist.")
    assert (await call(spot_emulator, "GET", "/api/v3/openOrders")).body == []
    time.sleep(0.35)
    assert (await call(spot_emulator, "GET", ORDER, symbol="BTCUSDT", origClientOrderId="lg-lag")).body[
        "status"
    ] == "NEW"


async def test_emulator_usdm_when_reduce_only_would_open_then_2022_and_fills_move_position(
    usdm_emulator: Emulator,
) -> None:
    usdm_emulator.step(3)
    refused = await call(
        usdm_emulator,
        "POST",
        "/fapi/v1/order",
        symbol="BTCUSDT",
        side="SELL",
        type="MARKET",
        quantity="0.002",
        reduceOnly="true",
    )
    assert (refused.code, refused.body["msg"]) == (-2022, "ReduceOnly Order is rejected.")
    await call(usdm_emulator, "POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.002")
    risk = await call(usdm_emulator, "GET", "/fapi/v3/positionRisk")
    assert risk.body[0]["positionAmt"] == "0.002"
    trades = await call(usdm_emulator, "GET", "/fapi/v1/userTrades", symbol="BTCUSDT")
    assert trades.body[0]["commissionAsset"] == "USDT"


async def test_emulator_when_429_injected_on_submit_then_not_placed_and_early_retry_banned_418(
    spot_emulator: Emulator,
) -> None:
    spot_emulator.step(3)
    spot_emulator.fail_next(
        HttpFault(
            "/order", method="POST", status=429, code=-1003, msg="Too many requests.", headers={"Retry-After": "30"}
        )
    )
    limited = await call(spot_emulator, "POST", ORDER, symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001")
    assert (limited.status, limited.headers["Retry-After"]) == (429, "30")
    assert spot_emulator.book.orders == {}  # a 429 is a definite "not placed"
    spot_emulator.gate.in_flight_grace_ms = -1  # sent after the 429 reached the client (even in the same ms)
    early = await call(spot_emulator, "GET", "/api/v3/openOrders", symbol="BTCUSDT")
    assert early.status == 418  # ignoring Retry-After earns a ban, as at Binance


async def test_emulator_when_5xx_or_unparsable_answer_injected_then_served_once(spot_emulator: Emulator) -> None:
    spot_emulator.fail_next(HttpFault("/account", status=502, code=None, raw="<html>Bad Gateway</html>"))
    with pytest.raises(json.JSONDecodeError):  # the body is not JSON
        await call(spot_emulator, "GET", "/api/v3/account")
    assert (await call(spot_emulator, "GET", "/api/v3/account")).status == 200
