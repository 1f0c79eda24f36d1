"""US equity regular trading hours from exchange_calendars, and the per-order ``outside_rth`` rule.

:class:`EquitySessions` tells the phase of the equity market at a moment: ``regular``
(the exchange calendar's session: XNYS 09:30 to 16:00 America/New_York, 13:00 on early
closes such as the day after Thanksgiving), ``extended`` (the same trading day from
04:00 to the open and from the close to 20:00 ET, 17:00 after an early close: Alpaca
"Extended Hours Trading", NYSE Arca late session) or ``closed`` (weekends, holidays,
nights). :class:`RegularHoursGate` allows the regular session; in the extended session
only a limit order that sets ``outside_rth`` while ``[equities] allow_outside_rth`` is
on; never while closed.

exchange_calendars (pandas) is imported here only, lazily, when the first
:class:`EquitySessions` is built; it ships in the ``livegate[equities]`` extra, and a
missing extra is a clear :class:`~livegate.domain.errors.ConfigError`.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from livegate.domain.enums import DenialCode, OrderType
from livegate.domain.errors import ConfigError
from livegate.domain.orders import OrderIntent
from livegate.risk.equity_log import DenialLog
from livegate.risk.gate import Deny, RiskContext

__all__ = ["EquitySessions", "MarketPhase", "RegularHoursGate"]

_NEW_YORK = ZoneInfo("America/New_York")
#: Extended session bounds in New York time (Alpaca: pre-market 04:00, after-hours to 20:00).
_PRE_MARKET = dt.time(4, 0)
_AFTER_HOURS_END = dt.time(20, 0)
#: After an early close the late session ends at 17:00 ET (NYSE Arca early-close schedule).
_EARLY_AFTER_HOURS_END = dt.time(17, 0)
_REGULAR_CLOSE = dt.time(16, 0)


class MarketPhase(StrEnum):
    """Where a moment falls in the equity trading day."""

    REGULAR = "regular"
    EXTENDED = "extended"
    CLOSED = "closed"


def _load_calendar(name: str) -> Any:
    try:
        import exchange_calendars
    except ImportError as exc:
        raise ConfigError(
            "the regular-hours gate needs exchange_calendars: pip install 'livegate[equities]' "
            f"(included in livegate[alpaca] and livegate[ibkr]); {exc}"
        ) from exc
    try:
        return exchange_calendars.get_calendar(name)
    except exchange_calendars.errors.InvalidCalendarName as exc:
        raise ConfigError(f"[equities] calendar {name!r} is not an exchange_calendars name (e.g. XNYS)") from exc


class EquitySessions:
    """The phase of an exchange_calendars calendar at a moment, cached per minute.

    Parameters
    ----------
    calendar:
        exchange_calendars name, e.g. ``"XNYS"`` (New York Stock Exchange).

    Raises
    ------
    ConfigError
        If exchange_calendars is not installed or does not know ``calendar``.
    """

    __slots__ = ("_calendar", "_minute", "_phase", "name")

    def __init__(self, calendar: str) -> None:
        self._calendar = _load_calendar(calendar)
        self.name = calendar
        self._minute = -1
        self._phase = MarketPhase.CLOSED

    def phase(self, now_ms: int) -> MarketPhase:
        """Return the phase at ``now_ms`` (ms since the epoch, UTC); outside the calendar's range: closed."""
        minute = now_ms // 60_000
        if minute != self._minute:
            self._phase = self._judge(minute)
            self._minute = minute
        return self._phase

    def _judge(self, minute: int) -> MarketPhase:
        calendar = self._calendar
        stamp = dt.datetime.fromtimestamp(minute * 60, tz=dt.UTC)
        if not (calendar.first_minute <= stamp <= calendar.last_minute):
            return MarketPhase.CLOSED  # fail closed outside the calendar's bounds
        if calendar.is_open_on_minute(stamp):
            return MarketPhase.REGULAR
        local = stamp.astimezone(_NEW_YORK)
        day = local.date().isoformat()
        if not calendar.is_session(day):
            return MarketPhase.CLOSED
        close_local = calendar.session_close(day).to_pydatetime().astimezone(_NEW_YORK).time()
        late_end = _EARLY_AFTER_HOURS_END if close_local < _REGULAR_CLOSE else _AFTER_HOURS_END
        if _PRE_MARKET <= local.time() < late_end:
            return MarketPhase.EXTENDED
        return MarketPhase.CLOSED


class RegularHoursGate:
    """Deny equity orders outside the regular session unless explicitly ``outside_rth`` (limit orders).

    Parameters
    ----------
    sessions:
        The calendar's phases.
    allow_outside_rth:
        ``[equities] allow_outside_rth``: the operator's permission for ``outside_rth`` orders.

    Denials: ``MARKET_CLOSED`` (no trading at all now), ``OUTSIDE_RTH`` (extended session
    and the order did not ask for it, is not a limit order, or the profile does not allow it).
    """

    name = "regular_hours"
    __slots__ = ("_allow", "_log", "_sessions")

    def __init__(self, sessions: EquitySessions, allow_outside_rth: bool) -> None:
        self._sessions = sessions
        self._allow = allow_outside_rth
        self._log = DenialLog()

    def check(self, intent: OrderIntent, ctx: RiskContext) -> Deny | None:
        """Allow in the regular session; in the extended one only an allowed ``outside_rth`` limit order."""
        now = ctx.clock.now_ms()
        phase = self._sessions.phase(now)
        if phase is MarketPhase.REGULAR:
            return None
        name = self._sessions.name
        if phase is MarketPhase.CLOSED:
            closed = Deny(DenialCode.MARKET_CLOSED, f"{name} is closed (no regular or extended session now)")
            return self._log(closed, intent.symbol, now)
        if intent.outside_rth and self._allow and intent.order_type is OrderType.LIMIT:
            return None
        if not intent.outside_rth:
            why = "the order does not set outside_rth"
        elif not self._allow:
            why = "[equities] allow_outside_rth is off"
        else:
            why = "only limit orders trade outside regular hours"
        return self._log(Deny(DenialCode.OUTSIDE_RTH, f"{name} is in its extended session: {why}"), intent.symbol, now)
