"""Gate 3: market-data tripwires (``[tripwires]``; docs/architecture.md §1).

* :class:`QuoteTripwireGate` — no quote, zero/NaN/crossed/locked quote, stale quote
  (``max_quote_age_ms``, default 1,500 ms), wide spread (``max_spread_bps``, default 50).
* :class:`MarketHoursGate` — closed market by an exchange_calendars calendar (crypto
  trades 24/7, so no calendar means no gate).
* :class:`VenueHealthBoard` and :class:`VenueHealthGate` — a quote heartbeat: after
  ``heartbeat_stale_checks`` consecutive stale checks a venue is DISABLED with the
  reason and receives no new orders; as many consecutive fresh checks enable it again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from livegate.config.calendars import get_calendar
from livegate.domain.enums import DenialCode, VenueHealth
from livegate.domain.market import Quote, quote_problem
from livegate.domain.orders import OrderIntent
from livegate.marketdata.quote_cache import QuoteCache
from livegate.risk.gate import Deny, RiskContext

_TWO_BPS = Decimal(20_000)
_ZERO = Decimal(0)  # Decimal vs Decimal: no int conversion per comparison
_LOCKED = "locked"


class QuoteTripwireGate:
    """Deny on a missing, bad, stale or wide quote of the intent's symbol.

    Parameters
    ----------
    max_quote_age_ms:
        Oldest usable quote in ms of exchange time; None turns the age check off. A
        quote more than this far in the future (clock skew) is suspect and denied too.
    max_spread_bps:
        Widest usable spread in bps of the mid; None turns the spread check off.
    allow_locked:
        Accept a locked book (bid == ask); off by default.
    """

    name = "quote_tripwire"
    __slots__ = ("_allow_locked", "_max_age_ms", "_max_spread_bps", "_passed")

    def __init__(self, max_quote_age_ms: int | None, max_spread_bps: Decimal | None, allow_locked: bool) -> None:
        self._max_age_ms = max_quote_age_ms
        self._max_spread_bps = max_spread_bps
        self._allow_locked = allow_locked
        # last quote per symbol that passed the shape and spread checks; a Quote is frozen,
        # so the same object passes again and only its age needs judging per intent
        self._passed: dict[str, Quote] = {}

    def check(self, intent: OrderIntent, ctx: RiskContext) -> Deny | None:
        """Deny ``NO_QUOTE``, ``BAD_QUOTE``, ``STALE_QUOTE`` or ``WIDE_SPREAD`` (judged in that order)."""
        symbol = intent.symbol
        quote = ctx.quotes.last(symbol)
        if quote is None:
            return Deny(DenialCode.NO_QUOTE, f"no quote for {symbol}")
        known_good = self._passed.get(symbol) is quote
        if not known_good:
            bid, ask = quote.bid_price, quote.ask_price
            if not (
                bid.is_finite()
                and ask.is_finite()
                and _ZERO < bid < ask
                and quote.bid_size > _ZERO
                and quote.ask_size > _ZERO
            ) and not (
                self._allow_locked and bid == ask and bid > _ZERO and quote.bid_size > _ZERO and quote.ask_size > _ZERO
            ):
                problem = quote_problem(quote) or "unusable"
                return Deny(DenialCode.BAD_QUOTE, f"{symbol} quote is {problem}")
        max_age = self._max_age_ms
        if max_age is not None:
            age = ctx.clock.now_ms() - quote.ts_event_ms
            if age > max_age or age < -max_age:
                return Deny(DenialCode.STALE_QUOTE, f"{symbol} quote is {age:,} ms old > max {max_age:,} ms")
        if known_good:
            return None
        max_spread = self._max_spread_bps
        if max_spread is not None and (ask - bid) * _TWO_BPS > max_spread * (ask + bid):
            spread = (ask - bid) * _TWO_BPS / (ask + bid)
            return Deny(DenialCode.WIDE_SPREAD, f"{symbol} spread {spread:,.2f} bps > max {max_spread} bps")
        self._passed[symbol] = quote
        return None


class MarketHoursGate:
    """Deny while the exchange calendar says the market is closed (one lookup per minute).

    Parameters
    ----------
    calendar_name:
        An exchange_calendars name, e.g. ``"XNYS"`` (New York Stock Exchange).

    Raises
    ------
    ConfigError
        If the calendar is unknown or the ``livegate[equities]`` extra is not installed.
    """

    name = "market_hours"
    __slots__ = ("_calendar", "_calendar_name", "_minute", "_open")

    def __init__(self, calendar_name: str) -> None:
        self._calendar_name = calendar_name
        self._calendar: Any = get_calendar(calendar_name)  # heavy (pandas): only when a calendar is configured
        self._minute = -1
        self._open = False

    def is_open(self, now_ms: int) -> bool:
        """Return True when the market trades at ``now_ms`` (answer cached for the minute)."""
        minute = now_ms // 60_000
        if minute != self._minute:
            stamp = dt.datetime.fromtimestamp(minute * 60, tz=dt.UTC)
            calendar = self._calendar
            inside = calendar.first_minute <= stamp <= calendar.last_minute
            self._open = bool(inside and calendar.is_open_on_minute(stamp))
            self._minute = minute
        return self._open

    def check(self, intent: OrderIntent, ctx: RiskContext) -> Deny | None:
        """Deny ``MARKET_CLOSED`` outside the calendar's sessions."""
        if self.is_open(ctx.clock.now_ms()):
            return None
        return Deny(DenialCode.MARKET_CLOSED, f"market {self._calendar_name} is closed")


@dataclass(frozen=True, slots=True)
class VenueHealthChanged:
    """A venue moved between HEALTHY and DISABLED at ``ts_ms`` (session clock)."""

    venue: str
    health: VenueHealth
    reason: str
    ts_ms: int


class VenueHealthBoard:
    """Track venue health from quote heartbeats.

    Parameters
    ----------
    max_quote_age_ms:
        A venue's check is stale when any of its symbols' quote is older than this (ms).
    stale_checks:
        Consecutive stale checks that disable a venue, and fresh checks that re-enable it.
    """

    __slots__ = ("_fresh", "_listeners", "_max_age_ms", "_stale", "_stale_checks", "health", "reasons")

    def __init__(self, max_quote_age_ms: int, stale_checks: int) -> None:
        self._max_age_ms = max_quote_age_ms
        self._stale_checks = stale_checks
        self._stale: dict[str, int] = {}
        self._fresh: dict[str, int] = {}
        self._listeners: list[Callable[[VenueHealthChanged], None]] = []
        self.health: dict[str, VenueHealth] = {}
        self.reasons: dict[str, str] = {}

    def add_listener(self, listener: Callable[[VenueHealthChanged], None]) -> None:
        """Call ``listener`` on every health change."""
        self._listeners.append(listener)

    def state(self, venue: str) -> VenueHealth:
        """Return the venue's health (HEALTHY until judged otherwise)."""
        return self.health.get(venue, VenueHealth.HEALTHY)

    def disable(self, venue: str, reason: str, ts_ms: int) -> None:
        """Disable ``venue`` now (e.g. on a fatal venue error)."""
        self._set(venue, VenueHealth.DISABLED, reason, ts_ms)

    def heartbeat(self, now_ms: int, quotes: QuoteCache, venue_symbols: Mapping[str, Iterable[str]]) -> None:
        """Run one heartbeat check of every venue's symbols at ``now_ms`` (ms, exchange clock).

        Every heartbeat of a replay runs this (a day: 86,400), so the common case (every
        quote fresh) reads no more than each symbol's age and the venue's two counters.
        """
        age_of, max_age, health = quotes.age_ms, self._max_age_ms, self.health
        stale_counts, fresh_counts = self._stale, self._fresh
        for venue, symbols in venue_symbols.items():
            worst: tuple[str, int | None] | None = None
            for symbol in symbols:
                age = age_of(symbol, now_ms)
                if age is None or age > max_age:
                    worst = (symbol, age)
                    break
            if worst is None:
                stale_counts[venue] = 0
                fresh = fresh_counts.get(venue, 0) + 1
                fresh_counts[venue] = fresh
                if fresh >= self._stale_checks and health.get(venue) is VenueHealth.DISABLED:
                    self._set(venue, VenueHealth.HEALTHY, f"{fresh} consecutive fresh quote checks", now_ms)
                continue
            fresh_counts[venue] = 0
            stale = stale_counts.get(venue, 0) + 1
            stale_counts[venue] = stale
            if stale >= self._stale_checks and self.state(venue) is VenueHealth.HEALTHY:
                symbol, age = worst
                shown = "no quote" if age is None else f"quote {age:,} ms old > max {self._max_age_ms:,} ms"
                self._set(venue, VenueHealth.DISABLED, f"{stale} consecutive stale checks: {symbol} {shown}", now_ms)

    def _set(self, venue: str, health: VenueHealth, reason: str, ts_ms: int) -> None:
        if self.state(venue) is health:
            return
        self.health[venue] = health
        self.reasons[venue] = reason
        change = VenueHealthChanged(venue, health, reason, ts_ms)
        for listener in self._listeners:
            listener(change)


class VenueHealthGate:
    """Deny ``VENUE_DISABLED`` for an intent whose instrument's venue is disabled."""

    name = "venue_health"
    __slots__ = ("_board",)

    def __init__(self, board: VenueHealthBoard) -> None:
        self._board = board

    def check(self, intent: OrderIntent, ctx: RiskContext) -> Deny | None:
        """Deny while the venue is DISABLED, naming the reason."""
        health = self._board.health
        if not health:
            return None
        instrument = ctx.instruments.get(intent.symbol)
        venue = instrument.venue if instrument is not None else ""
        if health.get(venue, VenueHealth.HEALTHY) is VenueHealth.HEALTHY:
            return None
        return Deny(DenialCode.VENUE_DISABLED, f"venue {venue} disabled: {self._board.reasons.get(venue, '')}")
