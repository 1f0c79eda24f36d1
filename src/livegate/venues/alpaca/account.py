"""Pure readings of Alpaca's account and clock bodies: readiness, pattern-day-trader facts, market hours.

Fields (Alpaca Trading API "Account" and "Clock"): ``status`` (``ACTIVE`` when the account
may trade; ``ONBOARDING``, ``SUBMITTED``, ``ACCOUNT_UPDATED``, ``APPROVAL_PENDING``,
``REJECTED``, ``DISABLED``... otherwise), ``trading_blocked``, ``account_blocked``,
``equity``, ``multiplier`` (1 = cash account, 2 or 4 = margin), ``daytrade_count`` (day
trades in the last five business days); the clock's ``timestamp``, ``is_open``,
``next_open`` and ``next_close`` (RFC 3339 with the New York offset).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from livegate.risk.pdt import PdtAccount
from livegate.venues.alpaca.mapping import parse_ts_ms

__all__ = ["VenueClockHours", "account_problems", "clock_hours", "pdt_account", "position_cost"]


def account_problems(account: Mapping[str, Any]) -> list[str]:
    """Return why the account cannot trade (empty when it can): status not ACTIVE, blocked flags."""
    problems: list[str] = []
    status = str(account.get("status", ""))
    if status != "ACTIVE":
        problems.append(f"account status {status or 'missing'} (must be ACTIVE)")
    for flag in ("account_blocked", "trading_blocked"):
        if account.get(flag):
            problems.append(f"{flag} is true")
    return problems


def pdt_account(account: Mapping[str, Any]) -> PdtAccount:
    """Return the pattern-day-trader facts of an account body (margin = ``multiplier`` above 1).

    Raises
    ------
    ValueError, ArithmeticError
        If ``equity``, ``multiplier`` or ``daytrade_count`` is missing or not a number.
    """
    return PdtAccount(
        equity_usd=Decimal(str(account["equity"])),
        margin=Decimal(str(account["multiplier"])) > 1,
        day_trades=int(account["daytrade_count"]),
    )


def position_cost(position: Mapping[str, Any]) -> Decimal:
    """Return the signed cost basis of an Alpaca position body in USD (shorts negative).

    ``cost_basis`` when Alpaca sends it, else ``qty x avg_entry_price``.

    Raises
    ------
    KeyError, ArithmeticError
        If ``qty`` is missing or a field is not a number.
    """
    qty = Decimal(str(position["qty"]))
    short = str(position.get("side", "long")) == "short" or qty < 0
    basis = position.get("cost_basis")
    amount = (
        abs(Decimal(str(basis))) if basis not in (None, "") else abs(qty) * Decimal(str(position["avg_entry_price"]))
    )
    return -amount if short else amount


@dataclass(frozen=True, slots=True)
class VenueClockHours:
    """Open/closed by Alpaca's clock as read once (times in ms since the epoch).

    Open until ``next_close`` when the clock said open, else from ``next_open`` to
    ``next_close``.

    Alpaca's clock knows holidays, early closes and whole-market closures; livegate combines
    it with the exchange calendar, and a session skips its cycles when either says closed.
    """

    is_open_now: bool
    read_ms: int
    next_open_ms: int
    next_close_ms: int
    name: str = "alpaca clock"

    def is_open(self, now_ms: int) -> bool:
        """Return True while the venue's market is open at ``now_ms``."""
        if self.is_open_now and now_ms >= self.read_ms:
            return now_ms < self.next_close_ms
        return self.next_open_ms <= now_ms < self.next_close_ms


def clock_hours(clock: Mapping[str, Any]) -> VenueClockHours:
    """Return the market hours of an Alpaca clock body.

    Raises
    ------
    ValueError
        If a time is missing or malformed.
    """
    read_ms = parse_ts_ms(str(clock["timestamp"]))
    next_open = parse_ts_ms(str(clock["next_open"]))
    next_close = parse_ts_ms(str(clock["next_close"]))
    if not (read_ms and next_open and next_close):
        raise ValueError("alpaca clock without timestamp, next_open or next_close")
    return VenueClockHours(bool(clock.get("is_open")), read_ms, next_open, next_close)
