"""The emulator's account endpoints: ``/v2/account``, ``/v2/clock``, ``/v2/assets``, positions, fill activities.

Each is a plain function of the emulator's state and the request (authorization and rate
limits are the server's middlewares). Shapes as alpaca-py 0.44 reads them with
``raw_data=True``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from aiohttp import web

from tests.alpaca_emulator.wire import error, iso, plain

if TYPE_CHECKING:
    from tests.alpaca_emulator.server import AlpacaEmulator

__all__ = ["account", "activities", "asset", "clock", "positions"]


def _equity(emu: AlpacaEmulator) -> Decimal:
    value = emu.cash
    for symbol, qty in emu.positions.items():
        quote = emu.quotes.get(symbol)
        if quote is not None:
            value += qty * (quote.bid + quote.ask) / 2
    return value


async def account(emu: AlpacaEmulator, request: web.Request) -> web.StreamResponse:
    """``GET /v2/account``: status, cash, equity, buying power, multiplier, day trades."""
    cash = plain(emu.cash)
    return web.json_response(
        {
            "id": "emulator-account",
            "account_number": "PAEMULATOR",
            "status": emu.status,
            "currency": "USD",
            "cash": cash,
            "equity": plain(_equity(emu)),
            "buying_power": cash,
            "non_marginable_buying_power": cash,
            "multiplier": emu.multiplier,
            "daytrade_count": emu.daytrade_count,
            "pattern_day_trader": False,
            "trading_blocked": False,
            "account_blocked": False,
            "shorting_enabled": True,
        }
    )


async def clock(emu: AlpacaEmulator, request: web.Request) -> web.StreamResponse:
    """``GET /v2/clock``: now, ``is_open`` (``market_open``), the next open and close."""
    now = datetime.now(tz=UTC)
    if emu.market_open:
        next_open, next_close = now + timedelta(hours=20), now + timedelta(hours=2)
    else:
        next_open, next_close = now + timedelta(hours=14), now + timedelta(hours=20)
    return web.json_response(
        {
            "timestamp": now.isoformat(),
            "is_open": emu.market_open,
            "next_open": next_open.isoformat(),
            "next_close": next_close.isoformat(),
        }
    )


async def asset(emu: AlpacaEmulator, request: web.Request) -> web.StreamResponse:
    """``GET /v2/assets/{symbol}``: an active, tradable, fractionable US equity (404 without data)."""
    symbol = request.match_info["symbol"]
    if symbol not in emu.symbols:
        return error(404, 40410000, f"asset not found for {symbol}")
    return web.json_response(
        {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, symbol)),
            "class": "us_equity",
            "exchange": "ARCA",
            "symbol": symbol,
            "name": symbol,
            "status": "active",
            "tradable": True,
            "marginable": True,
            "shortable": True,
            "easy_to_borrow": True,
            "fractionable": True,
        }
    )


async def positions(emu: AlpacaEmulator, request: web.Request) -> web.StreamResponse:
    """``GET /v2/positions``: every non-zero position with its average entry price."""
    rows = []
    for symbol, qty in emu.positions.items():
        if qty == 0:
            continue
        rows.append(
            {
                "symbol": symbol,
                "qty": plain(qty),
                "side": "long" if qty > 0 else "short",
                "avg_entry_price": plain(abs(emu.cost[symbol] / qty)),
                "asset_class": "us_equity",
            }
        )
    return web.json_response(rows)


async def activities(emu: AlpacaEmulator, request: web.Request) -> web.StreamResponse:
    """``GET /v2/account/activities/FILL``: the account's executions (``after``, ``direction``)."""
    after = request.query.get("after")
    rows = []
    for e in emu.executions:
        stamp = iso(e.ts)
        if after and stamp <= after:
            continue
        rows.append(
            {
                "id": f"{stamp.replace('-', '').replace(':', '').replace('T', '')[:17]}::{e.execution_id}",
                "activity_type": "FILL",
                "transaction_time": stamp,
                "type": "fill",
                "price": plain(e.price),
                "qty": plain(e.qty),
                "side": e.side,
                "symbol": e.symbol,
                "order_id": e.order_id,
            }
        )
    return web.json_response(rows if request.query.get("direction") == "asc" else rows[::-1])
