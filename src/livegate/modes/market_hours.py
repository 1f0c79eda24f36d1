"""Market hours of a venue: 24/7 (crypto) or an exchange_calendars calendar (e.g. ``XNYS``).

Chosen once at composition: a session with ``--ignore-market-hours`` or no calendar gets
:class:`AlwaysOpen`; otherwise :class:`CalendarHours`, and the live loop skips strategy
cycles while it says closed (issue 4, item 6).
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from livegate.config.calendars import get_calendar

__all__ = ["AllOpen", "AlwaysOpen", "CalendarHours", "MarketHours", "market_hours_for"]


class MarketHours(Protocol):
    """Whether a market is open at a given time."""

    name: str

    def is_open(self, now_ms: int) -> bool:
        """Return True when the market is open at ``now_ms`` (ms since the epoch, UTC)."""
        ...


class AlwaysOpen:
    """A market that never closes (crypto)."""

    name = "24/7"

    def is_open(self, now_ms: int) -> bool:
        """Return True."""
        del now_ms
        return True


class CalendarHours:
    """Open/closed from an exchange_calendars calendar, minute resolution.

    Parameters
    ----------
    calendar:
        An exchange_calendars name, e.g. ``"XNYS"`` (NYSE), ``"XLON"``.

    Raises
    ------
    ConfigError
        If exchange_calendars does not know the name, or the ``livegate[equities]`` extra
        is not installed.
    """

    def __init__(self, calendar: str) -> None:
        self._calendar = get_calendar(calendar)
        self.name = calendar

    def is_open(self, now_ms: int) -> bool:
        """Return True when ``now_ms`` falls in a trading minute; outside the calendar's range it is closed."""
        import exchange_calendars

        try:
            minute = dt.datetime.fromtimestamp(now_ms // 60_000 * 60, tz=dt.UTC)
            return bool(self._calendar.is_open_on_minute(minute))
        except (ValueError, KeyError, OverflowError, exchange_calendars.errors.CalendarError):
            return False  # outside the calendar's bounds: fail closed


class AllOpen:
    """Open only while every one of ``hours`` says open (a calendar and a venue's own clock).

    Parameters
    ----------
    hours:
        Two or more market-hours sources; closed when any of them says closed (fail closed).
    """

    def __init__(self, *hours: MarketHours) -> None:
        self._hours = hours
        self.name = " and ".join(h.name for h in hours)

    def is_open(self, now_ms: int) -> bool:
        """Return True when every source says open at ``now_ms``."""
        return all(h.is_open(now_ms) for h in self._hours)


def market_hours_for(calendar: str, *, ignore: bool = False) -> MarketHours:
    """Return the market hours of ``calendar`` ('' = 24/7), or always open when ``ignore``."""
    if ignore or not calendar:
        return AlwaysOpen()
    return CalendarHours(calendar)
