"""Alpaca instruments: the configured symbols read from ``GET /v2/assets`` (or built without the trading API).

Crypto pairs (``"BTC/USD"``) come from one asset list of class ``crypto``; each equity
from ``GET /v2/assets/{symbol}``. A fractionable equity gets Alpaca's 1e-9 share lot when
``[equities] allow_fractional`` is on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from alpaca.trading.client import TradingClient
from alpaca.trading.enums import AssetClass
from alpaca.trading.requests import GetAssetsRequest

from livegate.domain.errors import ConfigError, Rejected
from livegate.domain.instruments import Instrument
from livegate.venues.alpaca.calls import AlpacaCalls
from livegate.venues.alpaca.errors import AlpacaOp
from livegate.venues.alpaca.mapping import instrument_from_asset

__all__ = ["FRACTIONAL_LOT", "data_only_instrument", "load_instruments"]

#: Alpaca fractional equity orders take up to 9 decimal places (Alpaca "Fractional Trading").
FRACTIONAL_LOT = Decimal("0.000000001")


async def load_instruments(
    client: TradingClient,
    calls: AlpacaCalls,
    symbols: Sequence[str],
    name: str,
    *,
    fractional: bool,
    fractionable: set[str],
) -> dict[str, Instrument]:
    """Return the instruments of ``symbols`` by Alpaca symbol; add the fractionable equities to ``fractionable``.

    Raises
    ------
    ConfigError
        A symbol is not an active, tradable Alpaca asset.
    Ambiguous, Retryable, Fatal
        Translated errors of the asset reads (retried first).
    """
    found: dict[str, Instrument] = {}
    crypto = {s for s in symbols if "/" in s}
    if crypto:
        request = GetAssetsRequest(asset_class=AssetClass.CRYPTO)
        for row in await calls.read(client.get_all_assets, request) or []:
            if row.get("symbol") in crypto and row.get("tradable", True):
                inst = calls.parse(AlpacaOp.READ, instrument_from_asset, row, name)
                found[inst.symbol] = inst
    for symbol in symbols:
        if symbol in crypto:
            continue
        try:
            row = await calls.read(client.get_asset, symbol)
        except Rejected as exc:
            raise ConfigError(f"alpaca: unknown asset {symbol!r}: {exc.message}") from exc
        inst = calls.parse(AlpacaOp.READ, instrument_from_asset, row, name)
        if row.get("fractionable"):
            fractionable.add(symbol)
            if fractional:
                inst = replace(inst, lot_size=FRACTIONAL_LOT, min_quantity=FRACTIONAL_LOT)
        found[symbol] = inst
    missing = sorted(set(symbols) - set(found))
    if missing:
        raise ConfigError(f"alpaca: not tradable or unknown: {', '.join(missing)}")
    return found


def data_only_instrument(symbol: str, venue: str) -> Instrument:
    """Return an equity's instrument without asking the trading API (cent tick, one-share lot)."""
    return instrument_from_asset({"symbol": symbol, "class": "us_equity"}, venue)
