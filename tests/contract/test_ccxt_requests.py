"""Issue 5 item 1: our client order id reaches the exchange's own parameter.

The request fixtures (``ccxt_fixtures/request/<exchange>.json``) give the URL and body
ccxt sends for a given call. Here the adapter's ``submit``/``cancel`` run against the
loopback venue, the request is captured there and compared with the recorded one for the
same input (the file's ``skipKeys`` left out), and the client-id parameter must hold our id
(Binance ``newClientOrderId``/``origClientOrderId``, Kraken ``cl_ord_id``, Coinbase
``client_order_id``), mapped as ``venues/ccxt/client_ids.py`` says.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from livegate.domain.enums import Side
from livegate.domain.errors import Ambiguous
from livegate.venues.ccxt.client_ids import venue_client_id
from tests.contract.base import make_order
from tests.contract.ccxt_harness import (
    BINANCE_CREDS,
    COINBASE_CREDS,
    COINBASE_ORDERS,
    KRAKEN_CREDS,
    case,
    fixture,
    make_adapter,
    servers,
)
from tests.contract.loopback import LoopbackHttp, Reply, Seen


def recorded(exchange: str, method: str, description: str) -> tuple[str, dict[str, Any], list[str]]:
    """Return (path, parameters, skipKeys) of a recorded request: query and body merged."""
    data = fixture("request", exchange)
    item = case(data, method, description)
    url = urlsplit(item["url"])
    params: dict[str, Any] = dict(parse_qsl(url.query))
    output = item.get("output")
    if isinstance(output, str) and output:
        params.update(json.loads(output) if output.startswith("{") else dict(parse_qsl(output)))
    return url.path, params, list(data.get("skipKeys") or [])


def captured(http: LoopbackHttp, method: str, path: str) -> dict[str, Any]:
    """Return the parameters (query and body) of the one request the loopback saw on ``path``."""
    seen: list[Seen] = http.seen(method, path)
    assert len(seen) == 1, f"{method} {path}: {len(seen)} requests"
    params: dict[str, Any] = dict(seen[0].query)
    body = seen[0].body
    if body:
        params.update(json.loads(body) if body.startswith("{") else dict(parse_qsl(body)))
    return params


def without(params: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k not in keys}


async def test_binance_spot_submit_when_limit_buy_then_request_as_recorded_with_our_new_client_order_id() -> None:
    path, want, skip = recorded("binance", "createOrder", "Spot limit buy order")  # LTC/USDT limit buy 0.2 @ 50
    answer = case(
        fixture("response", "binance"),
        "createOrder",
        "spot market buy order with trailingPercent and stopLossOrTakeProfit params",
    )
    async with servers() as lb:
        lb.http.route("POST", path, Reply(answer["httpResponse"]))
        adapter = make_adapter(lb, "binance", "binance", BINANCE_CREDS, 2, order_stream=False)
        await adapter.connect()
        try:
            order = make_order("LTC/USDT", Side.BUY, Decimal("0.2"), Decimal("50"), venue=adapter.name)
            await adapter.submit(order)
            got = captured(lb.http, "POST", path)
        finally:
            await adapter.close()
    assert without(got, skip) == without(want, skip)
    assert got["newClientOrderId"] == order.client_order_id


async def test_binance_usdm_submit_when_limit_buy_then_request_as_recorded_with_our_new_client_order_id() -> None:
    path, want, skip = recorded("binance", "createOrder", "Swap limit buy order")  # LTC/USDT:USDT limit buy 0.1 @ 55
    answer = case(fixture("response", "binance"), "createOrders", "create swap orders")
    async with servers() as lb:
        lb.http.route("POST", path, Reply(answer["httpResponse"][0]))
        adapter = make_adapter(lb, "binanceusdm", "binance", BINANCE_CREDS, 2, order_stream=False)
        await adapter.connect()
        try:
            order = make_order("LTC/USDT:USDT", Side.BUY, Decimal("0.1"), Decimal("55"), venue=adapter.name)
            await adapter.submit(order)
            got = captured(lb.http, "POST", path)
        finally:
            await adapter.close()
    assert without(got, skip) == without(want, skip)
    assert got["newClientOrderId"] == order.client_order_id


async def test_binance_usdm_cancel_when_by_client_id_then_request_as_recorded_with_our_orig_client_order_id() -> None:
    path, want, skip = recorded("binance", "cancelOrder", "cancel swap order with clientOrderId")
    answer = case(fixture("response", "binance"), "fetchOpenOrder", "swap open order")["httpResponse"]
    async with servers() as lb:
        lb.http.route("DELETE", path, Reply({**answer, "status": "CANCELED"}))
        adapter = make_adapter(lb, "binanceusdm", "binance", BINANCE_CREDS, 2, order_stream=False)
        await adapter.connect()
        try:
            cid = make_order("BTC/USDT:USDT", Side.BUY, Decimal("0.01"), Decimal("30000")).client_order_id
            await adapter.cancel(cid, "BTC/USDT:USDT")
            got = captured(lb.http, "DELETE", path)
        finally:
            await adapter.close()
    # the recording's own id ("myswap") is the one value that must differ: ours replaces it
    assert without(got, [*skip, "origClientOrderId"]) == without(want, [*skip, "origClientOrderId"])
    assert got["origClientOrderId"] == cid


async def test_kraken_submit_when_market_buy_then_request_as_recorded_with_our_cl_ord_id() -> None:
    path, want, skip = recorded("kraken", "createOrder", "Spot market buy")  # LTC/USDT market buy 0.1
    answer = case(fixture("response", "kraken"), "createOrder", "create order")
    async with servers() as lb:
        lb.http.route("POST", path, Reply(answer["httpResponse"]))
        adapter = make_adapter(lb, "kraken", "kraken", KRAKEN_CREDS, None, order_stream=False)
        await adapter.connect()
        try:
            order = make_order("LTC/USDT", Side.BUY, Decimal("0.1"), None, venue=adapter.name)
            await adapter.submit(order)
            got = captured(lb.http, "POST", path)
        finally:
            await adapter.close()
    assert without(got, [*skip, "cl_ord_id"]) == without(want, skip)
    assert got["cl_ord_id"] == venue_client_id("kraken", order.client_order_id)


async def test_kraken_cancel_when_by_client_id_then_cl_ord_id_in_place_of_txid() -> None:
    """Kraken's CancelOrder takes ``txid`` or ``cl_ord_id``: the recorded call names a txid,
    ours (by client id) must send our mapped ``cl_ord_id`` and no ``txid``.

    The cancel answer is Kraken's documented ``{"error": [], "result": {"count": 1}}`` (no
    recorded CancelOrder answer); only the request is asserted here.
    """
    path, want, skip = recorded("kraken", "cancelOrder", "cancel open trailing percent order")
    async with servers() as lb:
        lb.http.route("POST", path, Reply({"error": [], "result": {"count": 1}}))
        adapter = make_adapter(lb, "kraken", "kraken", KRAKEN_CREDS, None, order_stream=False)
        await adapter.connect()
        try:
            cid = make_order("LTC/USDT", Side.BUY, Decimal("0.1"), None).client_order_id
            await adapter.cancel(cid, "LTC/USDT")
            got = captured(lb.http, "POST", path)
        finally:
            await adapter.close()
    assert "txid" in want and "txid" not in got
    assert without(got, [*skip, "cl_ord_id"]) == without(want, [*skip, "txid"])
    assert got["cl_ord_id"] == venue_client_id("kraken", cid)


async def test_coinbase_submit_when_limit_buy_then_body_as_recorded_with_our_client_order_id() -> None:
    """No recorded Coinbase createOrder answer: the venue answers 503, so the submit is
    Ambiguous; the request it sent is what is compared."""
    path, want, skip = recorded("coinbase", "createOrder", "spot limit buy")  # ADA/USDT limit buy 4 @ 0.2
    async with servers() as lb:
        lb.http.route("POST", path, Reply(raw="Service Unavailable", status=503))
        adapter = make_adapter(lb, "coinbase", "coinbase", COINBASE_CREDS, None, order_stream=False)
        await adapter.connect()
        try:
            order = make_order("ADA/USDT", Side.BUY, Decimal("4"), Decimal("0.2"), venue=adapter.name)
            with pytest.raises(Ambiguous):
                await adapter.submit(order)
            got = captured(lb.http, "POST", path)
        finally:
            await adapter.close()
    assert without(got, skip) == without(want, skip)
    assert got["client_order_id"] == order.client_order_id


async def test_coinbase_cancel_when_by_client_id_then_looked_up_and_batch_cancel_as_recorded() -> None:
    """Coinbase cancels by venue order id only (``batch_cancel``): the adapter finds the
    order by our client id (derived lookup bodies as in ``coinbase_harness``), then sends the
    recorded request shape with that order's id. The cancel answer is Coinbase's documented
    ``{"results": [{"success": true, ...}]}``; only the request is asserted."""
    path, want, skip = recorded("coinbase", "cancelOrder", "cancel stop order")  # ADA/USDT
    closed = case(fixture("response", "coinbase"), "fetchClosedOrders", "Spot closed order")["httpResponse"]
    cid = make_order("ADA/USDT", Side.SELL, Decimal("10"), None).client_order_id
    ours = json.loads(json.dumps(closed))
    ours["orders"][0]["client_order_id"] = cid
    venue_id = ours["orders"][0]["order_id"]
    async with servers() as lb:
        none_open = {**closed, "orders": [], "has_next": False, "cursor": ""}
        lb.http.route("GET", COINBASE_ORDERS, Reply(none_open), query={"order_status": "OPEN"})
        lb.http.route("GET", COINBASE_ORDERS, Reply(ours), query={"order_status": "FILLED"})
        ok = {"success": True, "failure_reason": "UNKNOWN_CANCEL_FAILURE_REASON", "order_id": venue_id}
        lb.http.route("POST", path, Reply({"results": [ok]}))
        adapter = make_adapter(lb, "coinbase", "coinbase", COINBASE_CREDS, None, order_stream=False)
        await adapter.connect()
        try:
            await adapter.cancel(cid, "ADA/USDT")
            got = captured(lb.http, "POST", path)
        finally:
            await adapter.close()
    assert without(got, skip) == {**without(want, skip), "order_ids": [venue_id]}
