"""Contract harnesses for the CCXT adapter over recorded exchange traffic.

ccxt runs unmodified; only its API URLs point at :mod:`tests.contract.loopback`. Bodies
come from ``../shared/data/ccxt_fixtures`` (``response/`` for REST, ``ws/`` for streams,
``markets/`` for the market tables). Where an exchange has no recording for an operation
(no recorded cancel anywhere), the body is *derived* from a recorded body of the same
endpoint family with only the status field changed; each builder says which.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from livegate.domain.enums import Liquidity, OrderStatus, Side
from livegate.domain.orders import Fill, OrderReport
from livegate.venues.ccxt import CcxtAdapter, CcxtConfig, CcxtCredentials
from tests.contract.base import ContractHarness, ErrorCase, ErrorKind, make_order
from tests.contract.expected import balances_from, positions_from, report_from, snapshot_from
from tests.contract.loopback import LoopbackHttp, LoopbackWs, Reply

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ccxt_fixtures"
TIMEOUT_MS = 400
HANG = Reply(body={}, delay_secs=1.5)


def fixture(kind: str, exchange: str) -> dict[str, Any]:
    """Load ``ccxt_fixtures/<kind>/<exchange>.json``."""
    return json.loads((FIXTURES / kind / f"{exchange}.json").read_text())


def case(data: dict[str, Any], method: str, description: str) -> dict[str, Any]:
    """Return the recorded case of ``method`` with ``description``."""
    for item in data["methods"][method]:
        if item["description"] == description:
            return item
    raise KeyError(f"{method}: {description}")


@dataclass(slots=True)
class Loopback:
    """The loopback HTTP and websocket servers of one harness."""

    http: LoopbackHttp = field(default_factory=LoopbackHttp)
    ws: LoopbackWs = field(default_factory=LoopbackWs)


@asynccontextmanager
async def servers() -> AsyncIterator[Loopback]:
    lb = Loopback()
    await lb.http.start()
    await lb.ws.start()
    try:
        yield lb
    finally:
        await lb.http.stop()
        await lb.ws.stop()


def make_adapter(
    lb: Loopback, exchange_id: str, markets: str, credentials: CcxtCredentials, precision_mode: int | None
) -> CcxtAdapter:
    return CcxtAdapter(
        CcxtConfig(
            exchange_id,
            rest_url=lb.http.base_url,
            ws_url=lb.ws.base_url,
            markets=fixture("markets", markets),
            markets_precision_mode=precision_mode,
            timeout_ms=TIMEOUT_MS,
            requests_per_sec=1000,
            read_retry_attempts=1,
            read_backoff_secs=0.01,
        ),
        credentials,
    )


# --------------------------------------------------------------------------- Binance
BINANCE_CREDS = CcxtCredentials(api_key="key", secret="secret")


def _binance_errors(http: LoopbackHttp, method: str, path: str) -> list[ErrorCase]:
    def serve(reply: Reply) -> Callable[[], None]:
        return lambda: http.route(method, path, reply)

    return [
        # Binance's documented refusal bodies (developers.binance.com "Error Codes").
        ErrorCase(
            "insufficient_balance",
            ErrorKind.REJECTED,
            serve(Reply({"code": -2010, "msg": "Account has insufficient balance for requested action."}, 400)),
            "-2010",
        ),
        ErrorCase(
            "invalid_quantity",
            ErrorKind.REJECTED,
            serve(Reply({"code": -1013, "msg": "Filter failure: LOT_SIZE"}, 400)),
            "-1013",
        ),
        ErrorCase("http_503", ErrorKind.AMBIGUOUS, serve(Reply(raw="Service Unavailable", status=503))),
        ErrorCase("http_500_unparsable", ErrorKind.AMBIGUOUS, serve(Reply(raw="<html>oops</html>", status=500))),
        ErrorCase("timeout", ErrorKind.AMBIGUOUS, serve(HANG)),
        ErrorCase(
            "rate_limited",
            ErrorKind.RETRYABLE,
            serve(Reply({"code": -1003, "msg": "Too many requests; current limit is 1200 per minute."}, 429)),
        ),
        ErrorCase(
            "bad_api_key",
            ErrorKind.FATAL,
            serve(Reply({"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}, 401)),
            "-2015",
        ),
        ErrorCase(
            "ip_banned",
            ErrorKind.FATAL,
            serve(
                Reply({"code": -1003, "msg": "Way too many requests; IP(127.0.0.1) banned until 1700000000000."}, 418)
            ),
        ),
    ]


def _canceled(body: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(body)
    out["status"] = "CANCELED"
    return out


@asynccontextmanager
async def binance_spot_harness() -> AsyncIterator[ContractHarness]:
    """Binance spot LTC/USDT: recorded createOrder, fetchOrder, fetchOpenOrders, fetchBalance, watchOrders.

    Derived: cancel (DELETE /api/v3/order) and cancel-all (DELETE /api/v3/openOrders) answer
    the recorded open order with ``status: CANCELED``. Spot has no positions (empty).
    """
    resp, ws = fixture("response", "binance"), fixture("ws", "binance")
    create = case(resp, "createOrder", "spot market buy order with trailingPercent and stopLossOrTakeProfit params")
    fetch = case(resp, "fetchOrder", "Fetch spot closed order")
    opened = case(resp, "fetchOpenOrders", "Fetch spot open orders")
    balance = case(resp, "fetchBalance", "Spot balance")
    stream = case(ws, "watchOrders", "spot market order lifecycle from open to closed after fill")
    my_trades = case(ws, "watchMyTrades", "my trades from a filled market buy then a filled market sell")
    async with servers() as lb:
        http = lb.http
        http.route("POST", "/api/v3/order", Reply(create["httpResponse"]))
        http.route("GET", "/api/v3/order", Reply(fetch["httpResponse"]))
        http.route("DELETE", "/api/v3/order", Reply(_canceled(opened["httpResponse"][0])))
        http.route("GET", "/api/v3/openOrders", Reply(opened["httpResponse"]))
        http.route("DELETE", "/api/v3/openOrders", Reply([_canceled(o) for o in opened["httpResponse"]]))
        http.route("GET", "/api/v3/account", Reply(balance["httpResponse"]))
        lb.ws.script("/ws-api/v3", stream["messages"])
        adapter = make_adapter(lb, "binance", "binance", BINANCE_CREDS, 2)
        await adapter.connect()
        order = make_order("LTC/USDT", Side.BUY, Decimal("0.1"), Decimal("90"), venue=adapter.name)
        cid = order.client_order_id

        def arrange_timeout(venue_accepts: bool) -> None:
            http.route("POST", "/api/v3/order", HANG, Reply(create["httpResponse"]))
            if venue_accepts:
                http.route("GET", "/api/v3/order", Reply(fetch["httpResponse"]))
            else:
                http.route("GET", "/api/v3/order", Reply({"code": -2013, "msg": "Order does not exist."}, 400))

        async def replay() -> None:
            lb.ws.release()

        parsed_open = opened["parsedResponse"]
        trade = my_trades["parsedResponses"][0][0]
        harness = ContractHarness(
            adapter=adapter,
            symbol="LTC/USDT",
            order=order,
            expected_submit=report_from(create["parsedResponse"], cid),
            expected_fetch=snapshot_from(fetch["parsedResponse"], cid),
            expected_cancel=report_from(parsed_open[0], cid, OrderStatus.CANCELLED),
            expected_cancel_all=frozenset(p["clientOrderId"] for p in parsed_open),
            expected_open_orders=[snapshot_from(p, p["clientOrderId"]) for p in parsed_open],
            expected_positions=[],
            expected_balances=balances_from(balance["parsedResponse"]),
            error_cases=_binance_errors(http, "POST", "/api/v3/order"),
            arrange_submit_timeout=arrange_timeout,
            submit_request_count=lambda: http.count("POST", "/api/v3/order"),
            replay_order_stream=replay,
            expected_stream_reports=[
                *(
                    OrderReport(
                        client_order_id=p[0]["clientOrderId"],
                        status=report_from(p[0], "").status,
                        ts_ms=p[0]["lastUpdateTimestamp"],
                        venue_order_id=p[0]["id"],
                        filled_quantity=Decimal(str(p[0]["filled"])),
                    )
                    for p in stream["parsedResponses"]
                ),
                Fill(
                    client_order_id=trade["info"]["c"],
                    fill_id=trade["id"],
                    symbol=trade["symbol"],
                    side=Side(trade["side"]),
                    price=Decimal(str(trade["price"])),
                    quantity=Decimal(str(trade["amount"])),
                    fee=Decimal(0),  # paid in BNB, not in the quote currency
                    liquidity=Liquidity.TAKER,
                    ts_ms=trade["timestamp"],
                    venue=adapter.name,
                ),
            ],
            notes="cancel and cancel-all bodies derived from the recorded open order",
        )
        try:
            yield harness
        finally:
            await adapter.close()


# --------------------------------------------------------------------------- Binance USD-M
@asynccontextmanager
async def binance_usdm_harness() -> AsyncIterator[ContractHarness]:
    """Binance USD-M LTC/USDT:USDT: recorded fetchPositions, linear fetchBalance, fetchOpenOrder.

    Derived: the single-order submit answer is the recorded ``createOrders`` (batch) answer's
    order; open orders are the recorded swap open order in a list; cancel/cancel-all answer
    it with ``status: CANCELED`` (USD-M cancel-all answers ``{"code": 200, ...}``, recorded
    shape from Binance's docs). No private stream recording for USD-M.
    """
    resp = fixture("response", "binance")
    create = case(resp, "createOrders", "create swap orders")
    one = case(resp, "fetchOpenOrder", "swap open order")
    positions = case(resp, "fetchPositions", "Fetch linear positions with symbols")
    balance = case(resp, "fetchBalance", "Linear swap balance")
    async with servers() as lb:
        http = lb.http
        http.route("POST", "/fapi/v1/order", Reply(create["httpResponse"][0]))
        http.route("GET", "/fapi/v1/order", Reply(one["httpResponse"]))
        http.route("DELETE", "/fapi/v1/order", Reply(_canceled(one["httpResponse"])))
        http.route("GET", "/fapi/v1/openOrders", Reply([one["httpResponse"]]))
        http.route(
            "DELETE",
            "/fapi/v1/allOpenOrders",
            Reply({"code": 200, "msg": "The operation of cancel all open order is done."}),
        )
        http.route("GET", "/fapi/v3/positionRisk", Reply(positions["httpResponse"]))
        http.route("GET", "/fapi/v3/account", Reply(balance["httpResponse"]))
        adapter = CcxtAdapter(
            CcxtConfig(
                "binanceusdm",
                rest_url=http.base_url,
                ws_url=lb.ws.base_url,
                markets=fixture("markets", "binance"),
                markets_precision_mode=2,
                options={"leverageBrackets": resp["options"]["leverageBrackets"]},
                timeout_ms=TIMEOUT_MS,
                requests_per_sec=1000,
                read_retry_attempts=1,
                order_stream=False,
            ),
            BINANCE_CREDS,
        )
        await adapter.connect()
        order = make_order("LTC/USDT:USDT", Side.BUY, Decimal("0.2"), Decimal("50"), venue=adapter.name)
        cid = order.client_order_id

        def arrange_timeout(venue_accepts: bool) -> None:
            http.route("POST", "/fapi/v1/order", HANG, Reply(create["httpResponse"][0]))
            if venue_accepts:
                http.route("GET", "/fapi/v1/order", Reply(one["httpResponse"]))
            else:
                http.route("GET", "/fapi/v1/order", Reply({"code": -2013, "msg": "Order does not exist."}, 400))

        parsed_one = one["parsedResponse"]
        harness = ContractHarness(
            adapter=adapter,
            symbol="LTC/USDT:USDT",
            order=order,
            expected_submit=report_from(create["parsedResponse"][0], cid),
            expected_fetch=snapshot_from(parsed_one, cid),
            expected_cancel=report_from(parsed_one, cid, OrderStatus.CANCELLED),
            expected_cancel_all=frozenset({parsed_one["clientOrderId"]}),
            expected_open_orders=[snapshot_from(parsed_one, parsed_one["clientOrderId"])],
            expected_positions=positions_from(positions["parsedResponse"]),
            expected_balances=balances_from(balance["parsedResponse"]),
            error_cases=_binance_errors(http, "POST", "/fapi/v1/order"),
            arrange_submit_timeout=arrange_timeout,
            submit_request_count=lambda: http.count("POST", "/fapi/v1/order"),
        )
        try:
            yield harness
        finally:
            await adapter.close()


# --------------------------------------------------------------------------- Hyperliquid
HL_WALLET = "0x15f43D1f2DeE81424aFd891943262aa90F22cc2A"
HL_CREDS = CcxtCredentials(wallet_address=HL_WALLET, private_key="0x" + "11" * 32)


def _hl(kind: str) -> Callable[[Any], bool]:
    def match(body: Any) -> bool:
        if not isinstance(body, dict):
            return False
        return body.get("type") == kind or (body.get("action") or {}).get("type") == kind

    return match


@asynccontextmanager
async def hyperliquid_harness() -> AsyncIterator[ContractHarness]:
    """Hyperliquid SOL/USDC:USDC: recorded createOrder, fetchOrder, fetchOpenOrders, fetchPositions, fetchBalance.

    Derived: ``clearinghouseState`` is the recorded positions body with the recorded balance
    fields laid over it; cancel answers Hyperliquid's documented ``{"status":"ok","response":{"type":"cancel",
    "data":{"statuses":["success"]}}}``; ``userAbstraction`` answers ``"default"``.
    Hyperliquid has no native cancel-all in ccxt, so cancel-all cancels the open order by id.
    """
    resp = fixture("response", "hyperliquid")
    create = case(resp, "createOrder", "create order")
    fetch = case(resp, "fetchOrder", "fetch order")
    opened = case(resp, "fetchOpenOrders", "open orders")
    positions = case(resp, "fetchPositions", "fetch positions")
    balance = case(resp, "fetchBalance", "swap balance")
    cancel_ok = {"status": "ok", "response": {"type": "cancel", "data": {"statuses": ["success"]}}}
    async with servers() as lb:
        http = lb.http
        http.route("POST", "/info", Reply("default"), match=_hl("userAbstraction"))
        http.route("POST", "/exchange", Reply(create["httpResponse"]), match=_hl("order"))
        http.route("POST", "/exchange", Reply(cancel_ok), match=_hl("cancelByCloid"))
        http.route("POST", "/exchange", Reply(cancel_ok), match=_hl("cancel"))
        http.route("POST", "/info", Reply(fetch["httpResponse"]), match=_hl("orderStatus"))
        http.route("POST", "/info", Reply(opened["httpResponse"]), match=_hl("frontendOpenOrders"))
        # positions and balance both read clearinghouseState: serve the recorded positions body
        # with the recorded balance fields laid over it (each parser reads its own fields)
        state = {
            **positions["httpResponse"],
            **{k: v for k, v in balance["httpResponse"].items() if k != "assetPositions"},
        }
        http.route("POST", "/info", Reply(state), match=_hl("clearinghouseState"))
        adapter = make_adapter(lb, "hyperliquid", "hyperliquid", HL_CREDS, 2)
        await adapter.connect()
        order = make_order("SOL/USDC:USDC", Side.BUY, Decimal("0.1"), Decimal("60"), venue=adapter.name)
        cid = order.client_order_id
        submit_route = ("POST", "/exchange")

        def serve_submit(*replies: Reply) -> Callable[[], None]:
            return lambda: http.route(*submit_route, *replies, match=_hl("order"))

        def arrange_timeout(venue_accepts: bool) -> None:
            serve_submit(HANG, Reply(create["httpResponse"]))()
            body = fetch["httpResponse"] if venue_accepts else {"status": "unknownOid"}
            http.route("POST", "/info", Reply(body), match=_hl("orderStatus"))

        errors = [
            ErrorCase(
                "insufficient_margin",
                ErrorKind.REJECTED,
                serve_submit(Reply({"status": "err", "response": "Insufficient margin to place order."})),
            ),
            ErrorCase(
                "tick_size",
                ErrorKind.REJECTED,
                serve_submit(Reply({"status": "err", "response": "Price must be divisible by tick size."})),
            ),
            ErrorCase("http_502", ErrorKind.AMBIGUOUS, serve_submit(Reply(raw="Bad Gateway", status=502))),
            ErrorCase("timeout", ErrorKind.AMBIGUOUS, serve_submit(HANG)),
            ErrorCase("http_429", ErrorKind.RETRYABLE, serve_submit(Reply(raw="Too Many Requests", status=429))),
            ErrorCase(
                "cumulative_rate_limit",
                ErrorKind.RETRYABLE,
                serve_submit(Reply({"status": "err", "response": "Too many cumulative requests sent (37986 > 10436)"})),
            ),
            ErrorCase(
                "unknown_api_wallet",
                ErrorKind.FATAL,
                serve_submit(Reply({"status": "err", "response": f"User or API Wallet {HL_WALLET} does not exist."})),
            ),
        ]
        parsed_open = opened["parsedResponse"]
        harness = ContractHarness(
            adapter=adapter,
            symbol="SOL/USDC:USDC",
            order=order,
            expected_submit=report_from(create["parsedResponse"], cid),
            expected_fetch=snapshot_from(fetch["parsedResponse"], cid),
            expected_cancel=report_from({}, cid, OrderStatus.CANCELLED),
            expected_cancel_all=frozenset(p["id"] for p in parsed_open),
            expected_open_orders=[snapshot_from(p, "") for p in parsed_open],
            expected_positions=positions_from(positions["parsedResponse"]),
            expected_balances=balances_from(balance["parsedResponse"]),
            error_cases=errors,
            arrange_submit_timeout=arrange_timeout,
            submit_request_count=lambda: http.count(*submit_route, match=_hl("order")),
        )
        try:
            yield harness
        finally:
            await adapter.close()
