"""Binance's JSON shapes for the emulated venue (as recorded in ``ccxt_fixtures/response/binance.json``).

Spot: ``GET /api/v3/order`` objects, ``POST /api/v3/order`` FULL answers, ``myTrades``,
``account``, ``executionReport``. USD-M: ``/fapi/v1/order`` objects, ``userTrades``,
``/fapi/v2|v3/account``, ``positionRisk``, ``ORDER_TRADE_UPDATE``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.venue_emulator.book import Book, Execution
from tests.venue_emulator.model import Kind, Order, Trade, fmt

__all__ = ["account_json", "order_json", "positions_json", "private_event", "trade_json"]


def order_json(kind: Kind, order: Order, *, with_fills: list[Trade] | None = None) -> dict[str, Any]:
    """Return ``order`` as Binance's order object (``with_fills``: spot FULL answer of a new order)."""
    if kind is Kind.SPOT:
        out: dict[str, Any] = {
            "symbol": order.symbol,
            "orderId": order.order_id,
            "orderListId": -1,
            "clientOrderId": order.client_order_id,
            "price": fmt(order.price),
            "origQty": fmt(order.quantity),
            "executedQty": fmt(order.executed_qty),
            "cummulativeQuoteQty": fmt(order.cum_quote),
            "status": order.status,
            "timeInForce": order.time_in_force,
            "type": order.type,
            "side": order.side,
            "workingTime": order.created_ms,
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }
        if with_fills is None:
            out.update(
                stopPrice="0.00000000",
                icebergQty="0.00000000",
                time=order.created_ms,
                updateTime=order.updated_ms,
                isWorking=True,
                origQuoteOrderQty="0.00000000",
            )
        else:
            out["transactTime"] = order.created_ms
            out["origQuoteOrderQty"] = "0.00000000"
            out["fills"] = [
                {
                    "price": fmt(t.price),
                    "qty": fmt(t.qty),
                    "commission": fmt(t.commission),
                    "commissionAsset": t.commission_asset,
                    "tradeId": t.trade_id,
                }
                for t in with_fills
            ]
        return out
    return {
        "orderId": order.order_id,
        "symbol": order.symbol,
        "status": order.status,
        "clientOrderId": order.client_order_id,
        "price": fmt(order.price, 2),
        "avgPrice": fmt(order.avg_price, 5),
        "origQty": fmt(order.quantity, 3),
        "executedQty": fmt(order.executed_qty, 3),
        "cumQty": fmt(order.executed_qty, 3),
        "cumQuote": fmt(order.cum_quote, 5),
        "timeInForce": order.time_in_force,
        "type": order.type,
        "reduceOnly": order.reduce_only,
        "closePosition": False,
        "side": order.side,
        "positionSide": "BOTH",
        "stopPrice": "0.00",
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "origType": order.type,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "EXPIRE_MAKER",
        "goodTillDate": 0,
        "time": order.created_ms,
        "updateTime": order.updated_ms,
    }


def trade_json(kind: Kind, trade: Trade) -> dict[str, Any]:
    """Return ``trade`` as a ``myTrades`` (spot) or ``userTrades`` (USD-M) row."""
    if kind is Kind.SPOT:
        return {
            "symbol": trade.symbol,
            "id": trade.trade_id,
            "orderId": trade.order_id,
            "orderListId": -1,
            "price": fmt(trade.price),
            "qty": fmt(trade.qty),
            "quoteQty": fmt(trade.price * trade.qty),
            "commission": fmt(trade.commission),
            "commissionAsset": trade.commission_asset,
            "time": trade.time_ms,
            "isBuyer": trade.side == "BUY",
            "isMaker": trade.maker,
            "isBestMatch": True,
        }
    return {
        "symbol": trade.symbol,
        "id": trade.trade_id,
        "orderId": trade.order_id,
        "side": trade.side,
        "price": fmt(trade.price, 2),
        "qty": fmt(trade.qty, 3),
        "realizedPnl": fmt(trade.realized_pnl),
        "marginAsset": "USDT",
        "quoteQty": fmt(trade.price * trade.qty, 5),
        "commission": fmt(trade.commission),
        "commissionAsset": trade.commission_asset,
        "time": trade.time_ms,
        "positionSide": "BOTH",
        "maker": trade.maker,
        "buyer": trade.side == "BUY",
    }


def account_json(book: Book, now_ms: int) -> dict[str, Any]:
    """Return ``GET /api/v3/account`` (spot) or ``GET /fapi/v2|v3/account`` (USD-M)."""
    if book.kind is Kind.SPOT:
        return {
            "makerCommission": 10,
            "takerCommission": 10,
            "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {
                "maker": "0.00100000",
                "taker": "0.00100000",
                "buyer": "0.00000000",
                "seller": "0.00000000",
            },
            "canTrade": True,
            "canWithdraw": True,
            "canDeposit": True,
            "brokered": False,
            "requireSelfTradePrevention": False,
            "preventSor": False,
            "updateTime": now_ms,
            "accountType": "SPOT",
            "balances": [
                {"asset": asset, "free": fmt(fl[0]), "locked": fmt(fl[1])}
                for asset, fl in sorted(book.balances.items())
            ],
            "permissions": ["SPOT"],
            "uid": 100000001,
        }
    assets = []
    for asset, (free, locked) in sorted(book.balances.items()):
        wallet = free + locked
        assets.append(
            {
                "asset": asset,
                "walletBalance": fmt(wallet),
                "unrealizedProfit": "0.00000000",
                "marginBalance": fmt(wallet),
                "maintMargin": "0.00000000",
                "initialMargin": fmt(locked),
                "positionInitialMargin": "0.00000000",
                "openOrderInitialMargin": fmt(locked),
                "maxWithdrawAmount": fmt(free),
                "crossWalletBalance": fmt(wallet),
                "crossUnPnl": "0.00000000",
                "availableBalance": fmt(free),
                "marginAvailable": True,
                "updateTime": now_ms,
            }
        )
    total = sum((Decimal(a["walletBalance"]) for a in assets), Decimal(0))
    return {
        "feeTier": 0,
        "canTrade": True,
        "canDeposit": True,
        "canWithdraw": True,
        "updateTime": 0,
        "multiAssetsMargin": False,
        "tradeGroupId": -1,
        "totalInitialMargin": "0.00000000",
        "totalMaintMargin": "0.00000000",
        "totalWalletBalance": fmt(total),
        "totalUnrealizedProfit": "0.00000000",
        "totalMarginBalance": fmt(total),
        "availableBalance": fmt(sum((Decimal(a["availableBalance"]) for a in assets), Decimal(0))),
        "maxWithdrawAmount": fmt(total),
        "assets": assets,
        "positions": [],
    }


def positions_json(book: Book, now_ms: int, symbol: str | None) -> list[dict[str, Any]]:
    """Return ``GET /fapi/v2|v3/positionRisk``: non-flat positions (of ``symbol`` when given)."""
    out = []
    for sym, pos in sorted(book.positions.items()):
        if pos.amount == 0 or (symbol and sym != symbol):
            continue
        bid, ask = book.quote(sym)
        mark = (bid + ask) / 2 if bid and ask else pos.entry_price
        out.append(
            {
                "symbol": sym,
                "positionSide": "BOTH",
                "positionAmt": fmt(pos.amount, 3),
                "entryPrice": fmt(pos.entry_price),
                "breakEvenPrice": fmt(pos.entry_price),
                "markPrice": fmt(mark),
                "unRealizedProfit": fmt((mark - pos.entry_price) * pos.amount),
                "liquidationPrice": "0",
                "isolatedMargin": "0",
                "notional": fmt(mark * pos.amount),
                "marginAsset": "USDT",
                "isolatedWallet": "0",
                "initialMargin": fmt(abs(mark * pos.amount) / 20),
                "maintMargin": "0",
                "positionInitialMargin": fmt(abs(mark * pos.amount) / 20),
                "openOrderInitialMargin": "0",
                "adl": 0,
                "bidNotional": "0",
                "askNotional": "0",
                "leverage": "20",
                "marginType": "cross",
                "updateTime": now_ms,
            }
        )
    return out


def private_event(kind: Kind, event: Execution) -> dict[str, Any]:
    """Return ``event`` as a spot ``executionReport`` or a USD-M ``ORDER_TRADE_UPDATE``.

    On a spot cancel Binance puts the cancel request's id in ``c`` and the order's own in ``C``.
    """
    o, t, cancel_client_id = event.order, event.trade, event.cancel_client_id
    if kind is Kind.SPOT:
        cancelled = event.execution_type == "CANCELED"
        return {
            "e": "executionReport",
            "E": event.time_ms,
            "s": o.symbol,
            "c": cancel_client_id if cancelled and cancel_client_id else o.client_order_id,
            "S": o.side,
            "o": o.type,
            "f": o.time_in_force,
            "q": fmt(o.quantity),
            "p": fmt(o.price),
            "P": "0.00000000",
            "F": "0.00000000",
            "g": -1,
            "C": o.client_order_id if cancelled else "",
            "x": event.execution_type,
            "X": o.status,
            "r": "NONE",
            "i": o.order_id,
            "l": fmt(t.qty) if t else "0.00000000",
            "z": fmt(o.executed_qty),
            "L": fmt(t.price) if t else "0.00000000",
            "n": fmt(t.commission) if t else "0",
            "N": t.commission_asset if t else None,
            "T": event.time_ms,
            "t": t.trade_id if t else -1,
            "v": 0,
            "I": 0,
            "w": o.is_open,
            "m": bool(t and t.maker),
            "M": False,
            "O": o.created_ms,
            "Z": fmt(o.cum_quote),
            "Y": fmt(t.price * t.qty) if t else "0.00000000",
            "Q": "0.00000000",
            "W": o.created_ms,
            "V": "EXPIRE_MAKER",
        }
    return {
        "e": "ORDER_TRADE_UPDATE",
        "E": event.time_ms,
        "T": event.time_ms,
        "o": {
            "s": o.symbol,
            "c": o.client_order_id,
            "S": o.side,
            "o": o.type,
            "f": o.time_in_force,
            "q": fmt(o.quantity, 3),
            "p": fmt(o.price, 2),
            "ap": fmt(o.avg_price, 5),
            "sp": "0",
            "x": event.execution_type,
            "X": o.status,
            "i": o.order_id,
            "l": fmt(t.qty, 3) if t else "0",
            "z": fmt(o.executed_qty, 3),
            "L": fmt(t.price, 2) if t else "0",
            "N": t.commission_asset if t else "USDT",
            "n": fmt(t.commission) if t else "0",
            "T": event.time_ms,
            "t": t.trade_id if t else 0,
            "b": "0",
            "a": "0",
            "m": bool(t and t.maker),
            "R": o.reduce_only,
            "wt": "CONTRACT_PRICE",
            "ot": o.type,
            "ps": "BOTH",
            "cp": False,
            "rp": fmt(t.realized_pnl) if t else "0",
            "pP": False,
            "si": 0,
            "ss": 0,
            "V": "EXPIRE_MAKER",
            "pm": "NONE",
            "gtd": 0,
        },
    }
