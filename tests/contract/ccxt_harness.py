"""Contract harnesses for the CCXT adapter over recorded exchange traffic.

ccxt runs unmodified; only its API URLs point at :mod:`tests.contract.loopback`. Bodies
come from ``tests/data/ccxt_fixtures`` (``response/`` for REST, ``ws/`` for streams,
``markets/`` for the market tables). Where an exchange has no recording for an operation
(no recorded cancel anywhere), the body is *derived* from a recorded body of the same
endpoint family with only the status field (or the client order id) changed; each
builder says which. Where no body of the endpoint family is recorded at all, that one
contract check is marked not applicable (``ContractHarness.not_applicable``) with the
missing recording named, and the test is skipped with that reason.
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

from livegate.domain.clock import Clock
from livegate.domain.enums import Liquidity, OrderStatus, Side
from livegate.domain.orders import Fill, OrderReport
from livegate.venues.ccxt import CcxtAdapter, CcxtConfig, CcxtCredentials
from livegate.venues.ccxt.client_ids import venue_client_id
from tests.contract.base import ContractHarness, ErrorCase, ErrorKind, make_order
from tests.contract.expected import balances_from, positions_from, report_from, snapshot_from
from tests.contract.loopback import LoopbackHttp, LoopbackWs, Reply

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "ccxt_fixtures"
#: Client timeout of the contract adapters: long enough that a loaded CI machine answers every
#: non-hanging request in time (a lookup that times out would leave an order in flight).
TIMEOUT_MS = 1200
HANG = Reply(body={}, delay_secs=3.0)


def without_close_grace(adapter: CcxtAdapter) -> CcxtAdapter:
    """Return ``adapter`` with ccxt's ``timeout_on_exit`` at 0 (loopback only).

    ccxt's ``close()`` sleeps ``timeout_on_exit`` (250 ms) so TLS connections can close;
    the loopback servers speak plain HTTP, so the sleep only slowed every teardown.
    """
    adapter.exchange.timeout_on_exit = 0
    return adapter


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
    lb: Loopback,
    exchange_id: str,
    markets: str | None,
    credentials: CcxtCredentials,
    precision_mode: int | None,
    *,
    order_stream: bool = True,
    options: dict[str, Any] | None = None,
    symbols: tuple[str, ...] = (),
    clock: Clock | None = None,
) -> CcxtAdapter:
    """An adapter on ``lb`` with the recorded market table ``markets`` (None: ccxt's ``load_markets``)."""
    adapter = CcxtAdapter(
        CcxtConfig(
            exchange_id,
            rest_url=lb.http.base_url,
            ws_url=lb.ws.base_url,
            markets=None if markets is None else fixture("markets", markets),
            markets_precision_mode=precision_mode,
            timeout_ms=TIMEOUT_MS,
            requests_per_sec=1000,
            read_retry_attempts=1,
            read_backoff_secs=0.01,
            order_stream=order_stream,
            options=options or {},
            symbols=symbols,
        ),
        credentials,
        clock=clock,
    )
    return without_close_grace(adapter)


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
            serve(
                Reply(
                    {"code": -1003, "msg": "Too many requests; current limit is 1200 per minute."},
                    429,
                    headers={"Retry-After": "0"},
                )
            ),
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
                Reply(
                    {"code": -1003, "msg": "Way too many requests; IP(127.0.0.1) banned until 1700000000000."},
                    418,
                    headers={"Retry-After": "0"},
                )
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
                    fee=Decimal(0),  # paid in BNB, no BNB/USDT price seen yet: valued 0, asset recorded
                    liquidity=Liquidity.TAKER,
                    ts_ms=trade["timestamp"],
                    venue=adapter.name,
                    fee_asset="BNB",
                    fee_in_asset=Decimal(str(trade["fee"]["cost"])),
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
        without_close_grace(adapter)
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


# --------------------------------------------------------------------------- shared n.a. placeholders
#: Expectations of checks a harness marks not applicable: never compared (the test is skipped).
NA_REPORT = OrderReport(client_order_id="", status=OrderStatus.REJECTED, ts_ms=0)


def _no_timeout_scenario(_venue_accepts: bool) -> None:
    raise AssertionError("timeout scenario is not applicable for this harness")


# --------------------------------------------------------------------------- Kraken
KRAKEN_CREDS = CcxtCredentials(api_key="key", secret="c2VjcmV0")  # the secret must be base64


def _kraken_wrap(bucket: str, orders: dict[str, Any]) -> dict[str, Any]:
    """A Kraken OpenOrders/ClosedOrders answer (``{"result": {bucket: {txid: order}}}``)."""
    result: dict[str, Any] = {bucket: orders}
    if bucket == "closed":
        result["count"] = len(orders)
    return {"error": [], "result": result}


@asynccontextmanager
async def kraken_harness() -> AsyncIterator[ContractHarness]:
    """Kraken spot LTC/USDT: recorded createOrder, fetchOpenOrders, fetchPositions; fetchOrder derived.

    * submit: the recorded ``AddOrder`` answer ("create order"); no status, so ACCEPTED.
    * open orders: the three recorded ``OpenOrders`` answers merged into one body (each
      order unchanged); ``open_orders("LTC/USDT")`` must return the two LTC/USDT ones.
    * fetch by client id: ccxt's Kraken ``fetchOrder`` maps clientOrderId to the integer
      ``userref``, so the adapter scans ``OpenOrders`` then ``ClosedOrders``. Derived: the
      ``ClosedOrders`` answer holds the recorded ``QueryOrders`` order "closed market order"
      with ``cl_ord_id`` set to our (UUID-mapped) id; the expectation is that case's
      ``parsedResponse``.
    * positions: the recorded ``OpenPositions`` answer (ADA/USDT margin short).
    * error bodies: Kraken's documented error arrays (HTTP 200 with ``error``), as the
      Binance and Hyperliquid harnesses use their venues' documented refusals.
    * not applicable: cancel and cancel-all (no recorded ``CancelOrder``/``CancelAll``
      answer), balances (no recorded ``Balance``/``BalanceEx`` answer), the private stream
      (``ws/kraken.json`` holds public channels only).
    """
    resp = fixture("response", "kraken")
    create = case(resp, "createOrder", "create order")
    closed = case(resp, "fetchOrder", "closed market order")
    open_cases = resp["methods"]["fetchOpenOrders"]
    positions = case(resp, "fetchPositions", "fetchPositions")
    merged_open: dict[str, Any] = {}
    for item in open_cases:
        merged_open.update(item["httpResponse"]["result"]["open"])
    async with servers() as lb:
        http = lb.http
        adapter = make_adapter(lb, "kraken", "kraken", KRAKEN_CREDS, None, order_stream=False)
        await adapter.connect()
        order = make_order("LTC/USDT", Side.BUY, Decimal("0.1"), None, venue=adapter.name)
        cid = order.client_order_id
        vcid = venue_client_id("kraken", cid)
        ours = copy.deepcopy(closed["httpResponse"]["result"])
        for body in ours.values():
            body["cl_ord_id"] = vcid
        http.route("POST", "/0/private/AddOrder", Reply(create["httpResponse"]))
        http.route("POST", "/0/private/OpenOrders", Reply(_kraken_wrap("open", merged_open)))
        http.route("POST", "/0/private/ClosedOrders", Reply(_kraken_wrap("closed", ours)))
        http.route("POST", "/0/private/OpenPositions", Reply(positions["httpResponse"]))
        submit_route = ("POST", "/0/private/AddOrder")

        def serve(*replies: Reply) -> Callable[[], None]:
            return lambda: http.route(*submit_route, *replies)

        def arrange_timeout(venue_accepts: bool) -> None:
            serve(HANG, Reply(create["httpResponse"]))()
            found = ours if venue_accepts else {}
            http.route("POST", "/0/private/ClosedOrders", Reply(_kraken_wrap("closed", found)))

        def kraken_error(text: str) -> Reply:
            return Reply({"error": [text]})

        errors = [
            ErrorCase(
                "insufficient_funds",
                ErrorKind.REJECTED,
                serve(kraken_error("EOrder:Insufficient funds")),
                "EOrder:Insufficient funds",
            ),
            ErrorCase(
                "invalid_price",
                ErrorKind.REJECTED,
                serve(kraken_error("EGeneral:Invalid arguments:price")),
                "EGeneral:Invalid arguments:price",
            ),
            ErrorCase("http_503", ErrorKind.AMBIGUOUS, serve(Reply(raw="Service Unavailable", status=503))),
            ErrorCase("internal_error", ErrorKind.AMBIGUOUS, serve(kraken_error("EGeneral:Internal error"))),
            ErrorCase("timeout", ErrorKind.AMBIGUOUS, serve(HANG)),
            ErrorCase("rate_limited", ErrorKind.RETRYABLE, serve(kraken_error("EAPI:Rate limit exceeded"))),
            ErrorCase("invalid_key", ErrorKind.FATAL, serve(kraken_error("EAPI:Invalid key")), "EAPI:Invalid key"),
            ErrorCase("permission_denied", ErrorKind.FATAL, serve(kraken_error("EGeneral:Permission denied"))),
        ]
        ltc_open = [c["parsedResponse"][0] for c in open_cases if c["parsedResponse"][0]["symbol"] == "LTC/USDT"]
        harness = ContractHarness(
            adapter=adapter,
            symbol="LTC/USDT",
            order=order,
            expected_submit=report_from(create["parsedResponse"], cid),
            expected_fetch=snapshot_from(closed["parsedResponse"], cid),
            expected_cancel=NA_REPORT,
            expected_cancel_all=frozenset(),
            expected_open_orders=[snapshot_from(p, p["clientOrderId"]) for p in ltc_open],
            expected_positions=positions_from(positions["parsedResponse"]),
            expected_balances=[],
            error_cases=errors,
            arrange_submit_timeout=arrange_timeout,
            submit_request_count=lambda: http.count(*submit_route),
            notes="ClosedOrders body derived from the recorded QueryOrders order with our cl_ord_id",
            not_applicable={
                "cancel": "no recorded Kraken CancelOrder answer in response/kraken.json",
                "cancel_all": "no recorded Kraken CancelAll answer in response/kraken.json",
                "balances": "no recorded Kraken Balance/BalanceEx answer in response/kraken.json",
            },
        )
        try:
            yield harness
        finally:
            await adapter.close()


# --------------------------------------------------------------------------- Coinbase
COINBASE_CREDS = CcxtCredentials(api_key="key", secret="secret")
COINBASE_ORDERS = "/api/v3/brokerage/orders/historical/batch"


@asynccontextmanager
async def coinbase_harness() -> AsyncIterator[ContractHarness]:
    """Coinbase Advanced Trade spot ADA/USDT: recorded fetchClosedOrders and fetchBalance.

    * fetch by client id: ccxt cannot fetch Coinbase orders by client id, so the adapter
      scans open (``order_status=OPEN``) then closed (``FILLED``) orders. Derived: the OPEN
      answer is the recorded ``historical/batch`` answer with ``orders`` emptied; the FILLED
      answer is the recorded "Spot closed order" with ``client_order_id`` set to ours.
    * balances: the recorded "v3 balance" answer on ccxt's default accounts endpoint.
    * timeout found by client id: the submit hangs, the lookup finds the derived order.
    * error bodies: Coinbase's documented ``{"success": false, "error_response": ...}``
      and ``{"error": ..., "message": ...}`` shapes.
    * not applicable: submit and the timed-out-then-resent scenario (no recorded
      ``createOrder`` answer in response/coinbase.json), cancel and cancel-all (no recorded
      ``batch_cancel`` answer), open orders (no recorded OPEN answer: the only
      ``historical/batch`` recording is a FILLED order), positions (the recorded case is
      an INTX portfolio, which ccxt 4.5.90 refuses: "INTX perpetuals were removed from
      Coinbase Advanced Trade", and there is no CFM positions recording), the private
      stream (``ws/coinbase.json`` holds public channels only).
    """
    resp = fixture("response", "coinbase")
    closed = case(resp, "fetchClosedOrders", "Spot closed order")
    balance = case(resp, "fetchBalance", "v3 balance")
    async with servers() as lb:
        http = lb.http
        adapter = make_adapter(lb, "coinbase", "coinbase", COINBASE_CREDS, None, order_stream=False)
        await adapter.connect()
        order = make_order("ADA/USDT", Side.SELL, Decimal("10"), None, venue=adapter.name)
        cid = order.client_order_id
        ours = copy.deepcopy(closed["httpResponse"])
        ours["orders"][0]["client_order_id"] = venue_client_id("coinbase", cid)
        none_open = {**copy.deepcopy(closed["httpResponse"]), "orders": [], "has_next": False, "cursor": ""}
        http.route("GET", COINBASE_ORDERS, Reply(none_open), query={"order_status": "OPEN"})
        http.route("GET", COINBASE_ORDERS, Reply(ours), query={"order_status": "FILLED"})
        http.route("GET", "/v2/accounts", Reply(balance["httpResponse"]))
        submit_route = ("POST", "/api/v3/brokerage/orders")

        def serve(*replies: Reply) -> Callable[[], None]:
            return lambda: http.route(*submit_route, *replies)

        def arrange_timeout(venue_accepts: bool) -> None:
            serve(HANG)()
            found = ours if venue_accepts else none_open
            http.route("GET", COINBASE_ORDERS, Reply(found), query={"order_status": "FILLED"})

        def refused(error: str, message: str, preview: str) -> Reply:
            body = {"error": error, "message": message, "error_details": "", "preview_failure_reason": preview}
            return Reply({"success": False, "failure_reason": "UNKNOWN_FAILURE_REASON", "error_response": body})

        errors = [
            ErrorCase(
                "insufficient_fund",
                ErrorKind.REJECTED,
                serve(
                    refused("INSUFFICIENT_FUND", "Insufficient balance in source account", "PREVIEW_INSUFFICIENT_FUND")
                ),
                "INSUFFICIENT_FUND",
            ),
            ErrorCase(
                "invalid_size",
                ErrorKind.REJECTED,
                serve(refused("INVALID_SIZE_PRECISION", "Invalid size precision", "PREVIEW_INVALID_SIZE_PRECISION")),
                "INVALID_SIZE_PRECISION",
            ),
            ErrorCase("http_503", ErrorKind.AMBIGUOUS, serve(Reply(raw="Service Unavailable", status=503))),
            ErrorCase("timeout", ErrorKind.AMBIGUOUS, serve(HANG)),
            ErrorCase(
                "rate_limited",
                ErrorKind.RETRYABLE,
                serve(Reply({"error": "rate_limit_exceeded", "message": "Too many requests"}, 429)),
            ),
            ErrorCase(
                "authentication_error",
                ErrorKind.FATAL,
                serve(Reply({"errors": [{"id": "authentication_error", "message": "invalid signature"}]}, 401)),
                "authentication_error",
            ),
            ErrorCase("http_401_text", ErrorKind.FATAL, serve(Reply(raw="Unauthorized", status=401))),
        ]
        harness = ContractHarness(
            adapter=adapter,
            symbol="ADA/USDT",
            order=order,
            expected_submit=NA_REPORT,
            expected_fetch=snapshot_from(closed["parsedResponse"][0], cid),
            expected_cancel=NA_REPORT,
            expected_cancel_all=frozenset(),
            expected_open_orders=[],
            expected_positions=[],
            expected_balances=balances_from(balance["parsedResponse"]),
            error_cases=errors,
            arrange_submit_timeout=arrange_timeout,
            submit_request_count=lambda: http.count(*submit_route),
            notes="order lookup bodies derived from the recorded historical/batch answer",
            not_applicable={
                "submit": "no recorded Coinbase createOrder answer in response/coinbase.json",
                "timeout_resend": "the no-resend check needs a recorded Coinbase createOrder answer; there is none",
                "cancel": "no recorded Coinbase batch_cancel answer in response/coinbase.json",
                "cancel_all": "no native cancel-all and no recorded batch_cancel answer to cancel one by one",
                "open_orders": "no recorded Coinbase OPEN orders answer (the only historical/batch one is FILLED)",
                "positions": "the recorded fetchPositions case is an INTX portfolio, refused by ccxt 4.5.90 "
                "(INTX removed from Advanced Trade); no CFM positions recording",
            },
        )
        try:
            yield harness
        finally:
            await adapter.close()


# --------------------------------------------------------------------------- Paradex
PARADEX_CREDS = CcxtCredentials(wallet_address="0x" + "22" * 20, private_key="0x" + "33" * 32)


def paradex_options() -> dict[str, Any]:
    """The recorded ``options`` (system config, JWT) plus a far expiry, so ccxt never signs ``/auth``."""
    return {**fixture("response", "paradex")["options"], "expires": 10**13}


@asynccontextmanager
async def paradex_harness() -> AsyncIterator[ContractHarness]:
    """Paradex SOL/USD:USDC perp: recorded fetchBalance and fetchPositions; fetch by client id derived.

    * fetch by client id: native (``GET /orders/by_client_id/{client_id}``). Derived: the
      recorded ``fetchOrders`` (``/orders-history``) order with ``client_id`` set to ours;
      the expectation is that case's ``parsedResponse`` with one field corrected: the
      recording says ``status: closed`` for a CLOSED order with ``cancel_reason:
      ORDER_SIZE_BELOW_MIN`` and nothing filled; ccxt 4.5.90 (``paradex.parse_order``)
      reads a cancel reason as ``canceled``, which is also what the venue did.
    * positions and balances: the recorded ``/positions`` and ``/balance`` answers.
    * not applicable: submit, errors, both timeout scenarios and the engine's fatal
      path (no recorded Paradex ``createOrder`` answer, and a Paradex order is a signed
      StarkNet message the loopback cannot answer without one), cancel and cancel-all
      (no recorded cancel answer), open orders (no recorded ``GET /orders`` answer: the
      only order recording is a CLOSED order from ``/orders-history``), the private
      stream (no ``ws/paradex.json``).
    """
    resp = fixture("response", "paradex")
    history = case(resp, "fetchOrders", "fetchOrders")
    positions = case(resp, "fetchPositions", "fetchPositions")
    balance = case(resp, "fetchBalance", "fetchBalance")
    async with servers() as lb:
        http = lb.http
        adapter = make_adapter(
            lb, "paradex", "paradex", PARADEX_CREDS, None, order_stream=False, options=paradex_options()
        )
        await adapter.connect()
        order = make_order("SOL/USD:USDC", Side.BUY, Decimal("0.3"), Decimal("50"), venue=adapter.name)
        cid = order.client_order_id
        ours = {**history["httpResponse"]["results"][0], "client_id": venue_client_id("paradex", cid)}
        http.route("GET", f"/v1/orders/by_client_id/{cid}", Reply(ours))
        http.route("GET", "/v1/positions", Reply(positions["httpResponse"]))
        http.route("GET", "/v1/balance", Reply(balance["httpResponse"]))
        na_submit = "no recorded Paradex createOrder answer in response/paradex.json"
        harness = ContractHarness(
            adapter=adapter,
            symbol="SOL/USD:USDC",
            order=order,
            expected_submit=NA_REPORT,
            expected_fetch=snapshot_from({**history["parsedResponse"][0], "status": "canceled"}, cid),
            expected_cancel=NA_REPORT,
            expected_cancel_all=frozenset(),
            expected_open_orders=[],
            expected_positions=positions_from(positions["parsedResponse"]),
            expected_balances=balances_from(balance["parsedResponse"]),
            error_cases=[],
            arrange_submit_timeout=_no_timeout_scenario,
            submit_request_count=lambda: http.count("POST", "/v1/orders"),
            notes="by_client_id body derived from the recorded /orders-history order",
            not_applicable={
                "submit": na_submit,
                "errors": na_submit + " (a submit is a signed StarkNet order)",
                "timeout_found": na_submit,
                "timeout_resend": na_submit,
                "auth_fatal": na_submit,
                "cancel": "no recorded Paradex cancel answer in response/paradex.json",
                "cancel_all": "no recorded Paradex cancel-all answer in response/paradex.json",
                "open_orders": "no recorded Paradex GET /orders answer (the one order recording is CLOSED history)",
            },
        )
        try:
            yield harness
        finally:
            await adapter.close()
