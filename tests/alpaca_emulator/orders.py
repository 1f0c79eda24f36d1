"""The emulator's order endpoints: submit, list, look up (by id or client order id), cancel, cancel all.

Each is a plain function of the emulator and the request (authorization, rate limits and
the record of every submitted client order id are the server's middlewares). The faults
of these endpoints (a refused or hanging submit, lookups lagging the order entry) are
taken from :class:`~tests.alpaca_emulator.faults.AlpacaFaults`.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.alpaca_emulator.wire import WORKING, error

if TYPE_CHECKING:
    from tests.alpaca_emulator.server import AlpacaEmulator

__all__ = ["by_client_id", "cancel", "cancel_all", "get_order", "list_orders", "submit"]


async def submit(emu: AlpacaEmulator, request: web.Request) -> web.StreamResponse:
    """``POST /v2/orders``: place the order (market fills at once, IOC matches or cancels); 422 on a reused id."""
    payload = await request.json()
    cid = str(payload.get("client_order_id", ""))
    fail = emu.faults.take_fail()
    if fail is not None:
        return web.json_response(fail[1], status=fail[0])
    if cid in emu.by_client_id:
        return error(422, 40010001, "client_order_id must be unique")
    order = emu.accept(payload)
    await emu.trade_updates.push("new", order)
    if order["type"] == "market":
        quote = emu.quotes.get(order["symbol"])
        if quote is not None:
            await emu.execute(order, quote.ask if order["side"] == "buy" else quote.bid)
    elif order["time_in_force"] == "ioc":
        await emu.match(order["symbol"])
        if order["status"] in WORKING:
            await emu.cancel_order(order)
    hang = emu.faults.take_hang()
    if hang is not None:
        await asyncio.sleep(hang)
    return web.json_response(order)


async def list_orders(emu: AlpacaEmulator, request: web.Request) -> web.StreamResponse:
    """``GET /v2/orders``: the open orders (of ``symbols``), newest first unless ``direction=asc``."""
    symbols = set(filter(None, request.query.get("symbols", "").split(",")))
    rows = [o for o in emu.open_orders() if not symbols or o["symbol"] in symbols]
    return web.json_response(rows if request.query.get("direction") == "asc" else rows[::-1])


def _visible(emu: AlpacaEmulator, order_id: str | None) -> dict[str, Any] | None:
    """Return the order a lookup finds: None when unknown, or still hidden by the read lag."""
    if order_id is None or order_id not in emu.orders:
        return None
    if emu.faults.hidden(emu.accepted_at.get(order_id, 0.0), time.time()):
        return None
    return emu.orders[order_id]


async def by_client_id(emu: AlpacaEmulator, request: web.Request) -> web.StreamResponse:
    """``GET /v2/orders:by_client_order_id``: the order, or 404 ``40410000``."""
    order = _visible(emu, emu.by_client_id.get(request.query.get("client_order_id", "")))
    if order is None:
        return error(404, 40410000, "order not found")
    return web.json_response(order)


async def get_order(emu: AlpacaEmulator, request: web.Request) -> web.StreamResponse:
    """``GET /v2/orders/{id}``: the order, or 404 ``40410000``."""
    order = _visible(emu, request.match_info["order_id"])
    if order is None:
        return error(404, 40410000, "order not found")
    return web.json_response(order)


async def cancel(emu: AlpacaEmulator, request: web.Request) -> web.StreamResponse:
    """``DELETE /v2/orders/{id}``: 204, 404 unknown, or 422 ``42210000`` when no longer cancelable."""
    order = emu.orders.get(request.match_info["order_id"])
    if order is None:
        return error(404, 40410000, "order not found")
    if order["status"] not in WORKING:
        return error(422, 42210000, f'order is already in "{order["status"]}" state')
    await emu.cancel_order(order)
    return web.Response(status=204)


async def cancel_all(emu: AlpacaEmulator, request: web.Request) -> web.StreamResponse:
    """``DELETE /v2/orders``: cancel every open order of the account; 207 with one status per order."""
    rows = []
    for order in emu.open_orders():
        await emu.cancel_order(order)
        rows.append({"id": order["id"], "status": 200, "body": order})
    return web.json_response(rows, status=207)
