"""``GET /api/v3/exchangeInfo`` and ``GET /fapi/v1/exchangeInfo`` of the emulated venue.

Shapes and filters as recorded in ``ccxt_fixtures/markets/binance.json`` (the ``info`` of
``BTC/USDT`` and ``BTC/USDT:USDT``): PRICE_FILTER, LOT_SIZE and NOTIONAL (spot) or
MIN_NOTIONAL (USD-M); REQUEST_WEIGHT 6000 (spot) / 2400 (USD-M) per minute.
"""

from __future__ import annotations

from typing import Any

from tests.venue_emulator.model import Kind, Market, fmt

__all__ = ["exchange_info"]


def exchange_info(kind: Kind, markets: dict[str, Market], now_ms: int) -> dict[str, Any]:
    """Return ``GET /api/v3/exchangeInfo`` or ``GET /fapi/v1/exchangeInfo`` for ``markets``."""
    symbols = []
    for m in markets.values():
        filters: list[dict[str, Any]] = [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": fmt(m.min_price),
                "maxPrice": fmt(m.max_price),
                "tickSize": fmt(m.tick_size),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": fmt(m.min_qty),
                "maxQty": fmt(m.max_qty),
                "stepSize": fmt(m.step_size),
            },
        ]
        if kind is Kind.SPOT:
            filters.append(
                {
                    "filterType": "NOTIONAL",
                    "minNotional": fmt(m.min_notional),
                    "applyMinToMarket": True,
                    "maxNotional": "9000000.00000000",
                    "applyMaxToMarket": False,
                    "avgPriceMins": 5,
                }
            )
            symbols.append(
                {
                    "symbol": m.symbol,
                    "status": "TRADING",
                    "baseAsset": m.base,
                    "baseAssetPrecision": 8,
                    "quoteAsset": m.quote,
                    "quotePrecision": 8,
                    "quoteAssetPrecision": 8,
                    "baseCommissionPrecision": 8,
                    "quoteCommissionPrecision": 8,
                    "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
                    "icebergAllowed": True,
                    "ocoAllowed": True,
                    "quoteOrderQtyMarketAllowed": True,
                    "allowTrailingStop": True,
                    "cancelReplaceAllowed": True,
                    "isSpotTradingAllowed": True,
                    "isMarginTradingAllowed": False,
                    "filters": filters,
                    "permissions": [],
                    "permissionSets": [["SPOT"]],
                    "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
                    "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
                }
            )
        else:
            filters.append({"filterType": "MIN_NOTIONAL", "notional": fmt(m.min_notional, 0)})
            symbols.append(
                {
                    "symbol": m.symbol,
                    "pair": m.symbol,
                    "contractType": "PERPETUAL",
                    "deliveryDate": 4133404800000,
                    "onboardDate": 1569398400000,
                    "status": "TRADING",
                    "maintMarginPercent": "2.5000",
                    "requiredMarginPercent": "5.0000",
                    "baseAsset": m.base,
                    "quoteAsset": m.quote,
                    "marginAsset": m.quote,
                    "pricePrecision": 2,
                    "quantityPrecision": 3,
                    "baseAssetPrecision": 8,
                    "quotePrecision": 8,
                    "underlyingType": "COIN",
                    "underlyingSubType": ["PoW"],
                    "triggerProtect": "0.0500",
                    "liquidationFee": "0.012500",
                    "marketTakeBound": "0.05",
                    "filters": filters,
                    "orderTypes": [
                        "LIMIT",
                        "MARKET",
                        "STOP",
                        "STOP_MARKET",
                        "TAKE_PROFIT",
                        "TAKE_PROFIT_MARKET",
                        "TRAILING_STOP_MARKET",
                    ],
                    "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
                }
            )
    limits = [
        {
            "rateLimitType": "REQUEST_WEIGHT",
            "interval": "MINUTE",
            "intervalNum": 1,
            "limit": 6000 if kind is Kind.SPOT else 2400,
        },
        {
            "rateLimitType": "ORDERS",
            "interval": "SECOND",
            "intervalNum": 10,
            "limit": 100 if kind is Kind.SPOT else 300,
        },
    ]
    return {"timezone": "UTC", "serverTime": now_ms, "rateLimits": limits, "exchangeFilters": [], "symbols": symbols}
