"""Built-in instrument filters for the venues of the bundled and shared recordings.

Values are Binance's ``exchangeInfo`` filters as recorded in CCXT's market table
(``ccxt_fixtures/markets/binance.json``): USD-M BTCUSDT tick 0.10, step 0.001,
MIN_NOTIONAL 5; spot BTCUSDT tick 0.01, step 0.00001, NOTIONAL 5.
"""

from __future__ import annotations

from decimal import Decimal

from livegate.config.models import InstrumentConfig, LivegateConfig
from livegate.domain.errors import ConfigError
from livegate.domain.instruments import Instrument

D = Decimal

_BUILTIN: dict[str, dict[str, tuple[Decimal, Decimal, Decimal, Decimal, str]]] = {
    # venue -> symbol -> (tick_size, lot_size, min_notional, min_quantity, base)
    "binanceusdm": {
        "BTCUSDT": (D("0.10"), D("0.001"), D("5"), D("0.001"), "BTC"),
        "ETHUSDT": (D("0.01"), D("0.001"), D("5"), D("0.001"), "ETH"),
    },
    "binance": {
        "BTCUSDT": (D("0.01"), D("0.00001"), D("5"), D("0.00001"), "BTC"),
        "ETHUSDT": (D("0.01"), D("0.0001"), D("5"), D("0.0001"), "ETH"),
    },
}


def builtin_venues() -> list[str]:
    """Return the venue names that have built-in instrument tables."""
    return sorted(_BUILTIN)


def resolve_instruments(config: LivegateConfig, symbols: list[str]) -> dict[str, Instrument]:
    """Return an :class:`Instrument` for each symbol from the profile, else the built-in table.

    Raises
    ------
    ConfigError
        If a symbol has no filters anywhere (trading it would be guessing).
    """
    venue = config.venue.name
    table = _BUILTIN.get(venue, {})
    out: dict[str, Instrument] = {}
    for symbol in symbols:
        cfg: InstrumentConfig | None = config.instruments.get(symbol.upper())
        if cfg is not None:
            out[symbol] = Instrument(
                symbol=symbol,
                venue=venue,
                tick_size=cfg.tick_size,
                lot_size=cfg.lot_size,
                min_notional=cfg.min_notional,
                min_quantity=cfg.min_quantity,
                quote_currency=cfg.quote_currency,
                base_currency=cfg.base_currency,
            )
            continue
        row = table.get(symbol.upper())
        if row is None:
            raise ConfigError(
                f"no instrument filters for {symbol!r} on venue {venue!r}: add [instruments.{symbol}] "
                "with tick_size and lot_size to the profile"
            )
        tick, lot, min_notional, min_qty, base = row
        out[symbol] = Instrument(
            symbol=symbol,
            venue=venue,
            tick_size=tick,
            lot_size=lot,
            min_notional=min_notional,
            min_quantity=min_qty,
            quote_currency="USDT",
            base_currency=base,
        )
    return out
