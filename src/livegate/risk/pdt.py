"""Pattern-day-trader guard: never make the day trade that flags a small margin account.

FINRA Rule 4210(f)(8)(B): a margin account that makes four or more day trades within five
business days is a pattern day trader and must hold 25,000 USD of equity; below it the
broker restricts the account (Alpaca refuses the order, 403 ``40310100`` "trade denied
due to pattern day trading protection"). A day trade is opening and closing (all or part
of) a position in the same symbol on the same trading day.

:class:`PdtGuard` applies only to a margin account whose equity is below
``[equities] pdt_min_equity_usd``. It starts from the venue's own count of day trades in
the window (Alpaca ``daytrade_count``) and adds each approved order that closes a position
opened that trading day (New York date); the order that would make day trade number
``max_day_trades + 1`` is denied ``PATTERN_DAY_TRADER``. Approved orders count as done
(fail closed): an order that may never fill still uses up a day trade.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from livegate.domain.enums import DenialCode, Side
from livegate.domain.orders import OrderIntent
from livegate.risk.equity_log import DenialLog
from livegate.risk.gate import Deny, RiskContext

__all__ = ["PdtAccount", "PdtGuard", "business_days_between", "trading_date"]

_NEW_YORK = ZoneInfo("America/New_York")
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class PdtAccount:
    """What the venue says about the account at session start.

    Attributes
    ----------
    equity_usd : Decimal
        Account equity in USD (Alpaca ``equity``).
    margin : bool
        True for a margin account (Alpaca ``multiplier`` above 1).
    day_trades : int
        Day trades the venue counts in the current window (Alpaca ``daytrade_count``).
    """

    equity_usd: Decimal
    margin: bool
    day_trades: int


def trading_date(ts_ms: int) -> dt.date:
    """Return the New York calendar date of ``ts_ms`` (ms since the epoch)."""
    return dt.datetime.fromtimestamp(ts_ms / 1000, tz=dt.UTC).astimezone(_NEW_YORK).date()


def business_days_between(earlier: dt.date, later: dt.date) -> int:
    """Return the weekdays after ``earlier`` up to and including ``later`` (0 on the same day).

    Exchange holidays are not skipped, so a window measured this way never runs longer
    than the rule's five business days.
    """
    days = 0
    day = earlier
    while day < later:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            days += 1
    return days


class PdtGuard:
    """Deny ``PATTERN_DAY_TRADER`` for the day trade beyond ``max_day_trades`` in the window.

    Parameters
    ----------
    account:
        The venue's account facts; None (unknown) denies every day trade (fail closed).
    min_equity_usd:
        Equity at or above which the rule does not apply (FINRA: 25,000 USD).
    max_day_trades:
        Day trades allowed within the window (FINRA: 3; the 4th flags the account).
    window_business_days:
        Length of the window in business days (FINRA: 5).
    """

    name = "pattern_day_trader"
    __slots__ = ("_account", "_log", "_max", "_min_equity", "_opened", "_trades", "_window")

    def __init__(
        self, account: PdtAccount | None, min_equity_usd: Decimal, max_day_trades: int, window_business_days: int
    ) -> None:
        self._account = account
        self._min_equity = min_equity_usd
        self._max = max_day_trades
        self._window = window_business_days
        self._opened: dict[str, dt.date] = {}  # symbol -> last trading date an opening order was approved
        self._trades: list[dt.date] = []  # day trades approved in this session
        self._log = DenialLog()

    def applies(self) -> bool:
        """Return True unless the account is known to be a cash account or at/above the equity minimum."""
        account = self._account
        return account is None or (account.margin and account.equity_usd < self._min_equity)

    def check(self, intent: OrderIntent, ctx: RiskContext) -> Deny | None:
        """Allow unless ``intent`` is a day trade beyond the allowed count."""
        if not self.applies():
            return None
        today = trading_date(ctx.clock.now_ms())
        if not self._is_day_trade(intent, ctx, today):
            return None
        if self._account is None:
            detail = "account equity and margin unknown: a day trade is refused (fail closed)"
            return self._log(Deny(DenialCode.PATTERN_DAY_TRADER, detail), intent.symbol, ctx.clock.now_ms())
        count = self._count(today)
        if count < self._max:
            return None
        detail = (
            f"{intent.side.value} {intent.quantity} closes a position opened today: day trade {count + 1} "
            f"within {self._window} business days > {self._max} allowed (margin account, equity "
            f"{self._account.equity_usd:,.2f} USD < {self._min_equity:,.2f} USD)"
        )
        return self._log(Deny(DenialCode.PATTERN_DAY_TRADER, detail), intent.symbol, ctx.clock.now_ms())

    def record_approved(self, intent: OrderIntent, ctx: RiskContext) -> None:
        """Remember an opening order's trading date, or count an approved day trade."""
        today = trading_date(ctx.clock.now_ms())
        if self._is_day_trade(intent, ctx, today):
            self._trades.append(today)
        elif not _reduces(intent, ctx):
            self._opened[intent.symbol] = today

    def _count(self, today: dt.date) -> int:
        venue = self._account.day_trades if self._account is not None else 0
        recent = sum(1 for day in self._trades if business_days_between(day, today) < self._window)
        return venue + recent

    def _is_day_trade(self, intent: OrderIntent, ctx: RiskContext, today: dt.date) -> bool:
        return self._opened.get(intent.symbol) == today and _reduces(intent, ctx)


def _reduces(intent: OrderIntent, ctx: RiskContext) -> bool:
    """Return True when ``intent`` trades against the current position (closing all or part of it)."""
    position = ctx.portfolio.position_quantity(intent.symbol)
    if position == _ZERO:
        return False
    return (position > _ZERO) == (intent.side is Side.SELL)
