"""Spot inventory: what each asset's balance (free + locked) should be, from livegate's own records.

On a spot account the venue reports no positions: the truth is the asset balances
(Binance ``GET /api/v3/account`` ``balances[].free + locked``; ccxt ``fetch_balance()['total']``).
Livegate's expectation for each asset is its balance at the baseline (learned at the
first reconciliation, or restored on resume) plus what livegate's own fills moved:

* base asset of a symbol: ``+ position quantity`` (signed; buys add, sells remove)
  ``- fees charged in that asset`` (Binance charges a buy's commission in the asset received);
* quote asset: ``+ realized PnL - cost basis of the open quantity - fees charged in the quote``
  (the cash spent on what is still held, and the cash back from what was sold);
* any other asset charged as a fee (BNB): ``- fees charged in it``.

Fees charged in an asset are read from the ledger's ``fill`` events (``fee_asset``,
``fee_in_asset``), so they survive restarts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from livegate.domain.positions import Position
from livegate.ledger import events as ev
from livegate.ledger.store import Ledger
from livegate.reconcile.compare import USD_LIKE

__all__ = ["USD_LIKE", "LedgerFeeIndex", "base_asset", "expected_spot_balances", "usd_prices"]

_ZERO = Decimal(0)


def base_asset(symbol: str, quote: str) -> str:
    """Return the base asset of ``symbol`` (``BTC/USDT`` or ``BTCUSDT`` with quote ``USDT`` -> ``BTC``)."""
    if "/" in symbol:
        return symbol.split("/", 1)[0]
    return symbol[: -len(quote)] if quote and symbol.endswith(quote) else symbol


@dataclass(slots=True)
class LedgerFeeIndex:
    """Fees charged in a non-quote asset and the last fill price per symbol, folded from ledger ``fill`` events.

    Read incrementally: each event once.
    """

    ledger: Ledger
    fees_in_asset: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    """(venue, asset) -> fees charged in that asset, in its own units."""
    valued_by_symbol: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    """(venue, symbol) -> quote value of those fees (included in the position's ``fees``)."""
    last_price: dict[str, Decimal] = field(default_factory=dict)
    _last_seq: int = 0

    def refresh(self) -> None:
        """Fold the ``fill`` events appended since the last call."""
        for event in self.ledger.events(ev.FILL, after_seq=self._last_seq):
            self._last_seq = event.seq
            p = event.payload
            venue, symbol = str(p.get("venue") or ""), str(p.get("symbol") or "")
            if p.get("price") is not None:
                self.last_price[symbol] = Decimal(str(p["price"]))
            asset = p.get("fee_asset")
            if not asset:
                continue
            key = (venue, str(asset))
            self.fees_in_asset[key] = self.fees_in_asset.get(key, _ZERO) + Decimal(str(p.get("fee_in_asset") or 0))
            vkey = (venue, symbol)
            self.valued_by_symbol[vkey] = self.valued_by_symbol.get(vkey, _ZERO) + Decimal(str(p.get("fee") or 0))


def expected_spot_balances(
    baseline: Mapping[str, Decimal],
    positions: Iterable[Position],
    currency_of: Mapping[str, str],
    venue: str,
    fees: LedgerFeeIndex | None,
) -> dict[str, Decimal]:
    """Return the expected total balance per asset (own units) of a spot account; see the module doc."""
    expected = dict(baseline)
    fees_in_asset = fees.fees_in_asset if fees is not None else {}
    for position in positions:
        quote = currency_of.get(position.symbol)
        if quote is None:
            continue
        base = base_asset(position.symbol, quote)
        valued = fees.valued_by_symbol.get((venue, position.symbol), _ZERO) if fees is not None else _ZERO
        quote_fees = position.fees - valued  # the part charged in the quote currency itself
        expected[base] = expected.get(base, _ZERO) + position.quantity
        cash = position.realized_pnl - position.cost_basis - quote_fees
        expected[quote] = expected.get(quote, _ZERO) + cash
    for (fee_venue, asset), amount in fees_in_asset.items():
        if fee_venue == venue:
            expected[asset] = expected.get(asset, _ZERO) - amount
    return expected


def usd_prices(
    assets: Iterable[str], currency_of: Mapping[str, str], last_price: Mapping[str, Decimal]
) -> dict[str, Decimal]:
    """Return a USD price per asset where known: 1 for USD-like ones, else the last fill price in a USD-like quote."""
    prices: dict[str, Decimal] = {a: Decimal(1) for a in assets if a in USD_LIKE}
    for symbol, quote in currency_of.items():
        price = last_price.get(symbol)
        if quote in USD_LIKE and price is not None:
            prices.setdefault(base_asset(symbol, quote), price)
    return prices
