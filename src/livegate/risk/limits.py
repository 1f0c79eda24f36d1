"""Gate 4a: order-level limits and notional caps (``[risk]``; docs/risk.md).

Every gate is a small class holding its own threshold; each returns None (allow) or a
:class:`~livegate.risk.gate.Deny` whose detail carries the numbers, e.g.
``would be 12,400.00 USD > cap 10,000.00 USD`` (docs/architecture.md §4). Notionals are in USD
(USDT as USD) at the conservative prices of :mod:`livegate.risk.exposure`. An unknown
price denies with ``UNKNOWN_PRICE`` (fail closed).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from livegate.domain.enums import DenialCode
from livegate.domain.orders import OrderIntent
from livegate.risk.gate import Deny, RiskContext
from livegate.risk.killswitch import reduces_position
from livegate.risk.memo import ExposureMemo

_BPS = Decimal(10_000)
_TWO = Decimal(2)


def _unknown_price(intent: OrderIntent) -> Deny:
    kind = "market order" if intent.price is None else "order"
    return Deny(DenialCode.UNKNOWN_PRICE, f"{kind} on {intent.symbol} with no quote: notional unknown")


class AllowlistGate:
    """Deny symbols not on ``[risk] allowlist`` (an empty list allows every symbol, so this gate is not built)."""

    name = "allowlist"
    __slots__ = ("_allowed",)

    def __init__(self, allowlist: Iterable[str]) -> None:
        self._allowed = frozenset(s.upper() for s in allowlist)

    def check(self, intent: OrderIntent, ctx: RiskContext) -> Deny | None:
        """Deny ``NOT_ALLOWLISTED`` when the symbol is not on the list (compared in upper case)."""
        symbol = intent.symbol
        if symbol in self._allowed or symbol.upper() in self._allowed:  # the list is upper case already
            return None
        return Deny(DenialCode.NOT_ALLOWLISTED, f"{intent.symbol} is not in the allowlist {sorted(self._allowed)}")


class ReduceOnlyGate:
    """Deny a reduce-only order that would open, grow or flip the position (issue 3: reduce-only must reduce)."""

    name = "reduce_only"
    __slots__ = ()

    def check(self, intent: OrderIntent, ctx: RiskContext) -> Deny | None:
        """Deny ``REDUCE_ONLY_VIOLATION`` unless a reduce-only intent reduces."""
        if not intent.reduce_only or reduces_position(intent, ctx):
            return None
        position = ctx.portfolio.position_quantity(intent.symbol)
        return Deny(
            DenialCode.REDUCE_ONLY_VIOLATION,
            f"reduce-only {intent.side.value} {intent.quantity} does not reduce position {position}",
        )


class PriceBandGate:
    """Deny a limit price further than ``price_band_bps`` from the mid (market orders are padded instead)."""

    name = "price_band"
    __slots__ = ("_band_bps",)

    def __init__(self, band_bps: Decimal) -> None:
        self._band_bps = band_bps

    def check(self, intent: OrderIntent, ctx: RiskContext) -> Deny | None:
        """Deny ``PRICE_BAND`` when ``|price - mid| / mid * 10,000 > band``."""
        price = intent.price
        if price is None:
            return None
        quote = ctx.quotes.last(intent.symbol)
        if quote is None:
            return _unknown_price(intent)
        both = quote.bid_price + quote.ask_price  # 2 x mid: compare without dividing
        if abs(price * _TWO - both) * _BPS <= self._band_bps * both:
            return None
        mid = both / _TWO
        off = abs(price - mid) * _BPS
        return Deny(
            DenialCode.PRICE_BAND,
            f"price {price} is {off / mid:,.2f} bps from mid {mid} > band {self._band_bps} bps",
        )


class OrderNotionalGate:
    """Deny an order whose conservative notional exceeds ``max_order_notional_usd``."""

    name = "order_notional"
    __slots__ = ("_cap", "_memo")

    def __init__(self, cap_usd: Decimal, pad: Decimal, memo: ExposureMemo | None = None) -> None:
        self._cap = cap_usd
        self._memo = memo or ExposureMemo(pad)

    def check(self, intent: OrderIntent, ctx: RiskContext) -> Deny | None:
        """Deny ``ORDER_NOTIONAL_CAP`` when quantity x conservative price > cap."""
        memo = self._memo
        if memo.intent is not intent:
            memo.load(intent, ctx)
        price = memo.price
        if price is None:
            return _unknown_price(intent)
        notional = intent.quantity * price
        if notional <= self._cap:
            return None
        return Deny(DenialCode.ORDER_NOTIONAL_CAP, f"would be {notional:,.2f} USD > cap {self._cap:,.2f} USD")


class SymbolNotionalGate:
    """Deny growing a symbol's exposure (position plus working orders) beyond ``max_symbol_notional_usd``.

    An order that shrinks the exposure is allowed even above the cap, so prices that drift
    up never trap a position.
    """

    name = "symbol_notional"
    __slots__ = ("_cap", "_memo")

    def __init__(self, cap_usd: Decimal, pad: Decimal, memo: ExposureMemo | None = None) -> None:
        self._cap = cap_usd
        self._memo = memo or ExposureMemo(pad)

    def check(self, intent: OrderIntent, ctx: RiskContext) -> Deny | None:
        """Deny ``SYMBOL_NOTIONAL_CAP`` when the exposure after the intent grows beyond the cap."""
        memo = self._memo
        if memo.intent is not intent:
            memo.load(intent, ctx)
        if not memo.known:
            return _unknown_price(intent)
        if not memo.grows:
            return None
        after = memo.after_quantity * memo.own_price
        if after <= self._cap:
            return None
        return Deny(
            DenialCode.SYMBOL_NOTIONAL_CAP,
            f"{intent.symbol} would be {after:,.2f} USD > cap {self._cap:,.2f} USD",
        )


class GrossNotionalGate:
    """Deny growing the exposure summed over all symbols beyond ``max_gross_notional_usd``."""

    name = "gross_notional"
    __slots__ = ("_cap", "_memo")

    def __init__(self, cap_usd: Decimal, pad: Decimal, memo: ExposureMemo | None = None) -> None:
        self._cap = cap_usd
        self._memo = memo or ExposureMemo(pad)

    def check(self, intent: OrderIntent, ctx: RiskContext) -> Deny | None:
        """Deny ``GROSS_NOTIONAL_CAP`` when the gross exposure after the intent grows beyond the cap."""
        memo = self._memo
        if memo.intent is not intent:
            memo.load(intent, ctx)
        if not memo.known:
            return _unknown_price(intent)
        if not memo.grows:
            return None
        others, unpriced = memo.others(intent, ctx)
        if unpriced is not None:
            return Deny(DenialCode.UNKNOWN_PRICE, f"no price for open exposure on {unpriced}: gross notional unknown")
        after, before = memo.after_quantity, memo.before_quantity
        total = (after if after > before else before) * memo.own_price + others
        if total <= self._cap:
            return None
        return Deny(DenialCode.GROSS_NOTIONAL_CAP, f"would be {total:,.2f} USD > cap {self._cap:,.2f} USD")


class PositionsCountGate:
    """Deny exposure on a new symbol when ``max_positions`` symbols already hold positions or orders."""

    name = "positions_count"
    __slots__ = ("_cap",)

    def __init__(self, cap: int) -> None:
        self._cap = cap

    def check(self, intent: OrderIntent, ctx: RiskContext) -> Deny | None:
        """Deny ``POSITIONS_CAP`` when the intent would add one symbol too many."""
        exposed = ctx.portfolio.exposed_symbols()  # non-zero position or a working order
        if intent.symbol in exposed:
            return None
        held = len(exposed)
        if held < self._cap:
            return None
        return Deny(DenialCode.POSITIONS_CAP, f"would be {held + 1} symbols with exposure > cap {self._cap}")


class OpenOrdersGate:
    """Deny a new order when ``max_open_orders`` orders are already working."""

    name = "open_orders"
    __slots__ = ("_cap",)

    def __init__(self, cap: int) -> None:
        self._cap = cap

    def check(self, intent: OrderIntent, ctx: RiskContext) -> Deny | None:
        """Deny ``OPEN_ORDERS_CAP`` when working orders + 1 > cap."""
        working = ctx.portfolio.working_count()
        if working < self._cap:
            return None
        return Deny(DenialCode.OPEN_ORDERS_CAP, f"would be {working + 1} open orders > cap {self._cap}")
