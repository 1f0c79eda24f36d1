"""REST side of the emulated venue: Binance Spot ``/api/v3`` and USD-M ``/fapi/v1|v2|v3`` as ccxt calls them.

Every request is admitted by :class:`~tests.venue_emulator.gate.Gate` (weight, bans),
private ones also by API key and signature; scripted faults answer before or after the
venue processes the request. Answers carry ``X-MBX-USED-WEIGHT-1M``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from aiohttp import web

from tests.venue_emulator.exchange_info import exchange_info
from tests.venue_emulator.faults import HttpFault
from tests.venue_emulator.gate import weight_of
from tests.venue_emulator.model import Kind, Order, VenueRefusal
from tests.venue_emulator.wire import account_json, order_json, positions_json, trade_json

if TYPE_CHECKING:
    from tests.venue_emulator.server import Emulator

__all__ = ["Rest"]

Handler = Callable[[dict[str, str]], Any]
_KEY_ONLY = ("/api/v3/userDataStream", "/fapi/v1/listenKey")
_PUBLIC = ("/ping", "/time", "/exchangeInfo")


class Rest:
    """The HTTP handler of one :class:`~tests.venue_emulator.server.Emulator`."""

    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        #: Venue time (ms) each entry of ``requests`` arrived at, same index.
        self.request_times_ms: list[int] = []
        spot = emulator.kind is Kind.SPOT
        v = "/api/v3" if spot else "/fapi/v1"
        routes: dict[tuple[str, str], Handler] = {
            ("GET", f"{v}/ping"): lambda p: {},
            ("GET", f"{v}/time"): lambda p: {"serverTime": self.emu.now_ms()},
            ("GET", f"{v}/exchangeInfo"): lambda p: exchange_info(
                self.emu.kind, self.emu.book.markets, self.emu.now_ms()
            ),
            ("POST", f"{v}/order"): self._new_order,
            ("GET", f"{v}/order"): self._get_order,
            ("DELETE", f"{v}/order"): self._cancel_order,
            ("GET", f"{v}/openOrders"): self._open_orders,
            ("GET", f"{v}/allOrders"): self._all_orders,
        }
        if spot:
            routes[("DELETE", "/api/v3/openOrders")] = self._cancel_all
            routes[("GET", "/api/v3/myTrades")] = self._my_trades
            routes[("GET", "/api/v3/account")] = lambda p: account_json(self.emu.book, self.emu.now_ms())
            for method in ("POST", "PUT", "DELETE"):
                routes[(method, "/api/v3/userDataStream")] = self._listen_key
            for other in ("/fapi/v1/exchangeInfo", "/dapi/v1/exchangeInfo"):
                routes[("GET", other)] = lambda p: {
                    "timezone": "UTC",
                    "serverTime": self.emu.now_ms(),
                    "rateLimits": [],
                    "symbols": [],
                }
        else:
            routes[("DELETE", "/fapi/v1/allOpenOrders")] = self._cancel_all
            routes[("GET", "/fapi/v1/userTrades")] = self._my_trades
            routes[("GET", "/fapi/v1/leverageBracket")] = self._brackets
            for ver in ("v2", "v3"):
                routes[("GET", f"/fapi/{ver}/account")] = lambda p: account_json(self.emu.book, self.emu.now_ms())
                routes[("GET", f"/fapi/{ver}/balance")] = self._futures_balance
                routes[("GET", f"/fapi/{ver}/positionRisk")] = lambda p: positions_json(
                    self.emu.book, self.emu.now_ms(), p.get("symbol")
                )
            for method in ("POST", "PUT", "DELETE"):
                routes[(method, "/fapi/v1/listenKey")] = self._listen_key
        self.routes = routes

    # ------------------------------------------------------------------ entry point
    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Admit, fault, dispatch and answer one request."""
        emu = self.emu
        body = await request.text()
        params = dict(request.query)
        if body:
            params.update(dict(_form(body)))
        method, path = request.method, request.path
        self.requests.append((method, path, params))
        self.request_times_ms.append(emu.now_ms())
        handler = self.routes.get((method, path))
        if handler is None:
            return _error(VenueRefusal(404, -1000, f"emulator: no endpoint {method} {path}"), 0)
        now = emu.now_ms()
        fault = emu.faults.take(method, path)
        try:
            if fault is not None and not fault.after_accept:
                return await self._fault_answer(fault, now)
            emu.gate.admit(
                method,
                path,
                _weight(emu.kind, method, path, params),
                now,
                new_order=method == "POST" and path.endswith("/order"),
            )
            if not any(path.endswith(p) for p in _PUBLIC):
                emu.gate.check_key(request.headers.get("X-MBX-APIKEY"), emu.faults.revoked_key)
                if path not in _KEY_ONLY:
                    payload = (
                        request.query_string + body if request.query_string and body else request.query_string or body
                    )
                    emu.gate.check_signed(payload, params, now)
            answer = handler(params)
            if asyncio.iscoroutine(answer):
                answer = await answer
        except VenueRefusal as refusal:
            if fault is not None:
                return await self._fault_answer(fault, now)
            return _error(refusal, emu.gate.used_weight(now))
        if fault is not None and fault.replace_answer:
            return await self._fault_answer(fault, now)
        if fault is not None:
            await self._hold(fault.delay_secs)
        return web.json_response(answer, headers={"X-MBX-USED-WEIGHT-1M": str(emu.gate.used_weight(now))})

    async def _hold(self, secs: float) -> None:
        """Hold an answer back ``secs`` seconds, or until the emulator stops (its teardown waits for no held answer)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.emu.stopping.wait(), secs)

    async def _fault_answer(self, fault: HttpFault, now: int) -> web.StreamResponse:
        if fault.delay_secs:
            await self._hold(fault.delay_secs)
        if fault.status == 429 and fault.code != -1015 and "Retry-After" in fault.headers:
            # a weight 429 (-1003) opens the IP's back-off window (a request inside it is banned);
            # -1015 is the order-count limit: only new orders wait, as with the gate's own -1015
            self.emu.gate.force_limit(now, int(fault.headers["Retry-After"]))
        if fault.status == 418:
            self.emu.gate.ban(now, float(fault.headers.get("Retry-After", "120")))
        headers = {"X-MBX-USED-WEIGHT-1M": str(self.emu.gate.used_weight(now)), **fault.headers}
        if fault.code is None:
            return web.Response(status=fault.status, text=fault.raw or "", headers=headers)
        return web.Response(
            status=fault.status,
            text=json.dumps({"code": fault.code, "msg": fault.msg}),
            content_type="application/json",
            headers=headers,
        )

    # ------------------------------------------------------------------ orders
    def _new_order(self, p: dict[str, str]) -> dict[str, Any]:
        emu = self.emu
        symbol = _need(p, "symbol")
        type_ = _need(p, "type")
        qty = _dec(p, "quantity")
        if qty is None and "quoteOrderQty" in p:
            _bid, ask = emu.book.quote(symbol)
            step = emu.book.markets[symbol].step_size if symbol in emu.book.markets else Decimal("0.00001")
            qty = (Decimal(p["quoteOrderQty"]) / ask // step) * step if ask else Decimal(0)
        if qty is None:
            raise VenueRefusal(400, -1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.")
        default_tif = "" if type_ in ("MARKET", "LIMIT_MAKER") else "GTC"
        order = emu.book.place(
            symbol=symbol,
            side=_need(p, "side"),
            type_=type_,
            quantity=qty,
            price=_dec(p, "price"),
            time_in_force=p.get("timeInForce", default_tif) or ("GTC" if emu.kind is Kind.USDM else default_tif),
            client_order_id=p.get("newClientOrderId") or f"web_{secrets.token_hex(10)}",
            reduce_only=p.get("reduceOnly", "false").lower() == "true",
        )
        if emu.kind is Kind.USDM:
            return order_json(emu.kind, order)
        resp_type = p.get("newOrderRespType", "FULL")
        if resp_type == "ACK":
            return {
                "symbol": symbol,
                "orderId": order.order_id,
                "orderListId": -1,
                "clientOrderId": order.client_order_id,
                "transactTime": order.created_ms,
            }
        fills = [t for t in emu.book.trades if t.order_id == order.order_id]
        return order_json(emu.kind, order, with_fills=fills if resp_type == "FULL" else [])

    def _lookup(self, p: dict[str, str]) -> Order | None:
        symbol = _need(p, "symbol")
        oid = p.get("orderId")
        return self.emu.book.find(
            symbol,
            order_id=int(oid) if oid else None,
            client_order_id=None if oid else p.get("origClientOrderId"),
        )

    def _get_order(self, p: dict[str, str]) -> dict[str, Any]:
        order = self._lookup(p)
        if order is None:
            raise VenueRefusal(400, -2013, "Order does not exist.")
        return order_json(self.emu.kind, order)

    def _cancel_order(self, p: dict[str, str]) -> dict[str, Any]:
        order = self._lookup(p)
        if order is None or not order.is_open:
            raise VenueRefusal(400, -2011, "Unknown order sent.")
        return self._cancel_json(order, p.get("newClientOrderId") or f"web_{secrets.token_hex(10)}")

    def _cancel_json(self, order: Order, cancel_cid: str) -> dict[str, Any]:
        self.emu.book.cancel(order, cancel_cid)
        out = order_json(self.emu.kind, order)
        if self.emu.kind is Kind.SPOT:
            out = {
                "origClientOrderId": order.client_order_id,
                **out,
                "clientOrderId": cancel_cid,
                "transactTime": order.updated_ms,
            }
            for key in (
                "stopPrice",
                "icebergQty",
                "time",
                "updateTime",
                "isWorking",
                "workingTime",
                "origQuoteOrderQty",
            ):
                out.pop(key, None)
        return out

    def _cancel_all(self, p: dict[str, str]) -> Any:
        symbol = _need(p, "symbol")
        open_orders = self.emu.book.open_orders(symbol)
        if self.emu.kind is Kind.USDM:
            for order in open_orders:
                self.emu.book.cancel(order)
            return {"code": 200, "msg": "The operation of cancel all open order is done."}
        if not open_orders:
            raise VenueRefusal(400, -2011, "Unknown order sent.")
        return [self._cancel_json(o, f"web_{secrets.token_hex(10)}") for o in open_orders]

    def _open_orders(self, p: dict[str, str]) -> list[dict[str, Any]]:
        return [order_json(self.emu.kind, o) for o in self.emu.book.open_orders(p.get("symbol"))]

    def _all_orders(self, p: dict[str, str]) -> list[dict[str, Any]]:
        symbol = _need(p, "symbol")
        now = self.emu.now_ms()
        rows = [
            o
            for o in sorted(self.emu.book.orders.values(), key=lambda o: o.order_id)
            if o.symbol == symbol and o.visible_at_ms <= now
        ]
        return [order_json(self.emu.kind, o) for o in rows][-int(p.get("limit", "500")) :]

    def _my_trades(self, p: dict[str, str]) -> list[dict[str, Any]]:
        symbol = _need(p, "symbol")
        rows = [t for t in self.emu.book.trades if t.symbol == symbol]
        if "orderId" in p:
            rows = [t for t in rows if t.order_id == int(p["orderId"])]
        if "fromId" in p:
            rows = [t for t in rows if t.trade_id >= int(p["fromId"])]
        if "startTime" in p:
            rows = [t for t in rows if t.time_ms >= int(p["startTime"])]
        if "endTime" in p:
            rows = [t for t in rows if t.time_ms <= int(p["endTime"])]
        limit = int(p.get("limit", "500"))
        rows = rows[:limit] if ("fromId" in p or "startTime" in p) else rows[-limit:]
        return [trade_json(self.emu.kind, t) for t in rows]

    # ------------------------------------------------------------------ accounts and streams
    def _futures_balance(self, p: dict[str, str]) -> list[dict[str, Any]]:
        acct = account_json(self.emu.book, self.emu.now_ms())
        return [
            {
                "accountAlias": "emu",
                "asset": a["asset"],
                "balance": a["walletBalance"],
                "crossWalletBalance": a["crossWalletBalance"],
                "crossUnPnl": "0.00000000",
                "availableBalance": a["availableBalance"],
                "maxWithdrawAmount": a["maxWithdrawAmount"],
                "marginAvailable": True,
                "updateTime": a["updateTime"],
            }
            for a in acct["assets"]
        ]

    def _brackets(self, p: dict[str, str]) -> list[dict[str, Any]]:
        bracket = {
            "bracket": 1,
            "initialLeverage": 125,
            "notionalCap": 50000,
            "notionalFloor": 0,
            "maintMarginRatio": 0.004,
            "cum": 0.0,
        }
        return [{"symbol": s, "notionalCoef": 1.0, "brackets": [bracket]} for s in self.emu.book.markets]

    def _listen_key(self, p: dict[str, str]) -> dict[str, Any]:
        key = self.emu.listen_key
        self.emu.streams.listen_keys.add(key)
        return {"listenKey": key}


def _weight(kind: Kind, method: str, path: str, params: dict[str, str]) -> int:
    return weight_of(kind, method, path, "symbol" in params)


def _form(body: str) -> list[tuple[str, str]]:
    return parse_qsl(body, keep_blank_values=True)


def _need(p: dict[str, str], key: str) -> str:
    value = p.get(key)
    if not value:
        raise VenueRefusal(400, -1102, f"Mandatory parameter '{key}' was not sent, was empty/null, or malformed.")
    return value


def _dec(p: dict[str, str], key: str) -> Decimal | None:
    raw = p.get(key)
    if raw is None or raw == "":
        return None
    try:
        return Decimal(raw)
    except InvalidOperation as exc:
        raise VenueRefusal(
            400,
            -1100,
            f"Illegal characters found in parameter '{key}'; legal range is '^([0-9]{{1,20}})(\\.[0-9]{{1,20}})?$'.",
        ) from exc


def _error(refusal: VenueRefusal, used: int) -> web.Response:
    return web.Response(
        status=refusal.status,
        text=json.dumps({"code": refusal.code, "msg": refusal.msg}),
        content_type="application/json",
        headers={"X-MBX-USED-WEIGHT-1M": str(used), **refusal.headers},
    )
