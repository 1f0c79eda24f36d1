"""Recorded ``fetchMyTrades`` -> ``recent_fills`` (the reconciler's ``FillHistory``) and recorded
market tables / ``fetchMarkets`` -> ``instruments()``, on the loopback venue with ccxt unmodified.

Expected values come from the recordings' ``parsedResponse`` (``tests/contract/expected.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from livegate.domain.errors import Rejected
from livegate.reconcile.fills import FillHistory
from livegate.venues.ccxt import CcxtAdapter, CcxtConfig, CcxtCredentials
from tests.contract.ccxt_harness import (
    BINANCE_CREDS,
    COINBASE_CREDS,
    HL_CREDS,
    KRAKEN_CREDS,
    PARADEX_CREDS,
    case,
    fixture,
    make_adapter,
    paradex_options,
    servers,
)
from tests.contract.expected import fill_from, instrument_from
from tests.contract.loopback import Reply


@dataclass(frozen=True, slots=True)
class TradesCase:
    """One recorded fetchMyTrades case and where ccxt reads it."""

    exchange_id: str
    fixture: str
    description: str
    method: str
    path: str
    precision_mode: int | None
    credentials: CcxtCredentials


TRADES_CASES = [
    TradesCase("binance", "binance", "Spot private trade", "GET", "/api/v3/myTrades", 2, BINANCE_CREDS),
    TradesCase("binanceusdm", "binance", "Swap private trade", "GET", "/fapi/v1/userTrades", 2, BINANCE_CREDS),
    TradesCase(
        "coinbase", "coinbase", "Spot trade", "GET", "/api/v3/brokerage/orders/historical/fills", None, COINBASE_CREDS
    ),
    TradesCase(
        "coinbase", "coinbase", "swap trade", "GET", "/api/v3/brokerage/orders/historical/fills", None, COINBASE_CREDS
    ),
    TradesCase("hyperliquid", "hyperliquid", "user trades", "POST", "/info", 2, HL_CREDS),
]
# Not used: Binance "spot porfolioMargin private trade" (papi; the adapter does not trade
# portfolio margin) and Hyperliquid "trades with builderFee" (HYPE is not in the recorded
# Hyperliquid market table, so ccxt cannot name its symbol offline).


def _recorded_cid(parsed: dict[str, Any]) -> str:
    """The venue's own client id on a recorded trade (Hyperliquid ``cloid``), else none."""
    info = parsed.get("info") or {}
    return str(parsed.get("clientOrderId") or info.get("cloid") or "")


def _quote_currency(exchange_id: str, symbol: str) -> str:
    markets = fixture("markets", {"binanceusdm": "binance"}.get(exchange_id, exchange_id))
    market = markets[symbol]
    return str(market.get("settle") or market["quote"])


@pytest.mark.parametrize(
    "tc",
    [*TRADES_CASES, TradesCase("hyperliquid", "hyperliquid", "user trades#2", "POST", "/info", 2, HL_CREDS)],
    ids=lambda tc: f"{tc.exchange_id}:{tc.description}",
)
async def test_recent_fills_when_recorded_my_trades_then_fills_match_parsed_response(tc: TradesCase) -> None:
    description, _, nth = tc.description.partition("#")
    cases = [c for c in fixture("response", tc.fixture)["methods"]["fetchMyTrades"] if c["description"] == description]
    recorded = cases[int(nth or 1) - 1]
    symbol = recorded["input"][0]
    async with servers() as lb:
        lb.http.route(tc.method, tc.path, Reply(recorded["httpResponse"]))
        adapter = make_adapter(
            lb, tc.exchange_id, tc.fixture, tc.credentials, tc.precision_mode, order_stream=False, symbols=(symbol,)
        )
        await adapter.connect()
        try:
            assert isinstance(adapter, FillHistory)
            fills = await adapter.recent_fills()
            quote = _quote_currency(tc.exchange_id, symbol)
            expected = [fill_from(p, _recorded_cid(p), quote, adapter.name) for p in recorded["parsedResponse"]]
            assert fills == sorted(expected, key=lambda f: (f.ts_ms, f.fill_id))
            assert all(f.fee > 0 for f in fills), "every recorded fee here is in the quote currency"
            # since_ms is passed on and also applied to the answer
            assert await adapter.recent_fills(since_ms=max(f.ts_ms for f in fills) + 1) == []
        finally:
            await adapter.close()


async def test_recent_fills_when_binance_needs_a_symbol_then_one_call_per_traded_symbol() -> None:
    recorded = case(fixture("response", "binance"), "fetchMyTrades", "Spot private trade")
    async with servers() as lb:
        lb.http.route("GET", "/api/v3/myTrades", Reply(recorded["httpResponse"]))
        adapter = make_adapter(
            lb, "binance", "binance", BINANCE_CREDS, 2, order_stream=False, symbols=("LTC/USDT", "BTC/USDT")
        )
        await adapter.connect()
        try:
            await adapter.recent_fills()
            asked = sorted(s.query["symbol"] for s in lb.http.seen("GET", "/api/v3/myTrades"))
            assert asked == ["BTCUSDT", "LTCUSDT"]
        finally:
            await adapter.close()


async def test_recent_fills_when_exchange_has_no_fetch_my_trades_then_refused_not_empty() -> None:
    """ccxt's dydx has no fetchMyTrades: an empty list would read as "the venue lost the ledger's fills"."""
    adapter = CcxtAdapter(CcxtConfig("dydx"))
    try:
        assert adapter.exchange.has.get("fetchMyTrades") is not True
        with pytest.raises(Rejected) as info:
            await adapter.recent_fills()
        assert info.value.code == "NotSupported"
    finally:
        await adapter.close()


# --------------------------------------------------------------------------- instruments
@pytest.mark.parametrize("exchange_id", ["kraken", "coinbase", "paradex"])
async def test_instruments_when_recorded_market_table_then_tick_lot_min_notional_match(exchange_id: str) -> None:
    table = fixture("markets", exchange_id)
    creds = {"kraken": KRAKEN_CREDS, "coinbase": COINBASE_CREDS, "paradex": PARADEX_CREDS}[exchange_id]
    async with servers() as lb:
        adapter = make_adapter(lb, exchange_id, exchange_id, creds, None, order_stream=False)
        await adapter.connect()
        try:
            expected = {
                sym: instrument_from(m, adapter.name)
                for sym, m in table.items()
                if not m.get("inverse") and not m.get("option")
            }
            assert adapter.instruments() == expected
        finally:
            await adapter.close()


async def test_instruments_when_paradex_load_markets_from_recorded_fetch_markets_then_match() -> None:
    recorded = case(fixture("response", "paradex"), "fetchMarkets", "fetchMarkets")
    async with servers() as lb:
        lb.http.route("GET", "/v1/markets", Reply(recorded["httpResponse"]))
        adapter = make_adapter(lb, "paradex", None, PARADEX_CREDS, None, order_stream=False, options=paradex_options())
        await adapter.connect()
        try:
            expected = {p["symbol"]: instrument_from(p, adapter.name) for p in recorded["parsedResponse"]}
            assert adapter.instruments() == expected
            assert expected["BTC/USD:USDC"].min_notional == Decimal(500)
        finally:
            await adapter.close()
