"""Trading-day counters and the equity peak shared by the loss limits and the kill triggers.

The trading day starts at midnight of ``day_boundary_tz`` (``[risk]``, default UTC; the
zone rules come from :mod:`zoneinfo`, so DST days are 23 or 25 hours long). At the
boundary the order count resets and the turnover and equity baselines are re-taken, so
"daily" means "since the start of this trading day" (issue 3). The drawdown is measured
from the highest equity seen, not from the start (the Hummingbot mistake).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from livegate.marketdata.quote_cache import QuoteCache
from livegate.portfolio import Portfolio

_ZERO = Decimal(0)


def next_day_boundary_ms(now_ms: int, zone: ZoneInfo) -> int:
    """Return the first midnight of ``zone`` strictly after ``now_ms`` (ms since the epoch, UTC)."""
    local = dt.datetime.fromtimestamp(now_ms / 1000, tz=zone)
    midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return int(midnight.timestamp() * 1000)


class DailyBook:
    """Per-trading-day baselines and counters; :meth:`roll` is O(1) except at the boundary.

    Parameters
    ----------
    zone:
        IANA zone name of the day boundary (``[risk] day_boundary_tz``).
    """

    __slots__ = ("_zone", "day_start_equity", "day_start_turnover", "next_boundary_ms", "orders_today")

    def __init__(self, zone: str = "UTC") -> None:
        self._zone = ZoneInfo(zone)
        self.next_boundary_ms = -1
        self.orders_today = 0
        self.day_start_turnover = _ZERO
        self.day_start_equity: Decimal | None = _ZERO

    def roll(self, now_ms: int, portfolio: Portfolio, quotes: QuoteCache) -> None:
        """Start a new trading day when ``now_ms`` reached the boundary (the first call starts day one)."""
        if now_ms < self.next_boundary_ms:
            return
        first = self.next_boundary_ms < 0
        self.next_boundary_ms = next_day_boundary_ms(now_ms, self._zone)
        self.orders_today = 0
        if first:
            return  # baselines of the session's first day: zero turnover and zero PnL at start
        self.day_start_turnover = portfolio.turnover()
        self.day_start_equity = portfolio.equity_pnl(quotes.mid)

    def turnover_today(self, portfolio: Portfolio) -> Decimal:
        """Return traded notional since the start of the trading day (quote currency, USD)."""
        return portfolio.turnover() - self.day_start_turnover

    def pnl_today(self, portfolio: Portfolio, quotes: QuoteCache) -> Decimal | None:
        """Return realized + unrealized - fees since the start of the trading day; None when unknown.

        When the day rolled while a position had no mark, the baseline is re-taken at the
        first call that can value it.
        """
        return self.pnl_from(portfolio.equity_pnl(quotes.mid))

    def pnl_from(self, equity: Decimal | None) -> Decimal | None:
        """Return ``equity`` (PnL since the session start) minus the day's baseline; None when unknown."""
        if equity is None:
            return None
        if self.day_start_equity is None:
            self.day_start_equity = equity
        return equity - self.day_start_equity


class EquityPeak:
    """The highest equity PnL seen (quote currency) and the fall from it.

    Equity PnL starts at 0 (the session's starting equity), so the peak starts at 0 too.
    """

    __slots__ = ("peak",)

    def __init__(self) -> None:
        self.peak = _ZERO

    def drawdown(self, equity: Decimal) -> Decimal:
        """Record ``equity`` and return peak - equity (>= 0)."""
        if equity > self.peak:
            self.peak = equity
        return self.peak - equity
