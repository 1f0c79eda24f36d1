"""Compose the US equity rules of a session on an equity venue (docs/venues_equities.md "Equity gates").

Built once, at composition, for an adapter that is an
:class:`~livegate.venues.base.EquityVenue` (Alpaca; IBKR when it declares it):

* the gates, after the standard chain: regular hours (``[equities] calendar``, per-order
  ``outside_rth``; not built with ``--ignore-market-hours``), short sales (not built when
  ``[risk] allow_short = true``), fractional quantities, and in testnet, canary and live
  the pattern-day-trader guard on the venue's account facts (an account that cannot be
  read makes every day trade denied);
* the hours that skip strategy cycles: closed when the venue's own clock (Alpaca
  ``/v2/clock``; without one, the exchange calendar's regular session) or the configured
  ``[venue] calendar`` says closed; with ``[equities] allow_outside_rth`` the loop runs
  through the extended session too (the regular-hours gate judges each order) and skips
  only outside both sessions.
"""

from __future__ import annotations

import logging

from livegate.config.models import LivegateConfig
from livegate.domain.enums import Mode
from livegate.domain.errors import VenueError
from livegate.modes.market_hours import AllOpen, AlwaysOpen, MarketHours
from livegate.risk.fractional_gate import FractionalGate
from livegate.risk.gate import Gate
from livegate.risk.market_hours_gate import EquitySessions, MarketPhase, RegularHoursGate
from livegate.risk.pdt import PdtAccount, PdtGuard
from livegate.risk.short_gate import ShortSaleGate
from livegate.venues.base import EquityVenue, VenueAdapter

__all__ = ["equity_gates", "equity_hours"]

log = logging.getLogger("livegate")


class _CalendarPhases:
    """Open in the given phases of an exchange calendar (regular only, or regular and extended)."""

    def __init__(self, sessions: EquitySessions, *, extended: bool) -> None:
        self._sessions = sessions
        self._open = {MarketPhase.REGULAR, MarketPhase.EXTENDED} if extended else {MarketPhase.REGULAR}
        self.name = f"{sessions.name} incl. extended hours" if extended else f"{sessions.name} regular hours"

    def is_open(self, now_ms: int) -> bool:
        return self._sessions.phase(now_ms) in self._open


def equity_hours(cfg: LivegateConfig, adapter: VenueAdapter, hours: MarketHours, *, ignore: bool) -> MarketHours:
    """Return the hours that skip strategy cycles on ``adapter`` (``hours`` unchanged for other venues)."""
    if ignore or not isinstance(adapter, EquityVenue):
        return hours
    venue_hours = adapter.market_hours()
    if cfg.equities.allow_outside_rth or venue_hours is None:
        # no venue clock (a market-data-only adapter) or extended hours wanted: the exchange calendar decides
        sessions = EquitySessions(cfg.equities.calendar)
        venue_hours = _CalendarPhases(sessions, extended=cfg.equities.allow_outside_rth)
    return venue_hours if isinstance(hours, AlwaysOpen) else AllOpen(hours, venue_hours)


async def equity_gates(cfg: LivegateConfig, adapter: VenueAdapter, mode: Mode, *, ignore_hours: bool) -> list[Gate]:
    """Return the equity gates for a session on ``adapter`` in ``mode`` (none for other venues)."""
    if not isinstance(adapter, EquityVenue):
        return []
    equities = cfg.equities
    gates: list[Gate] = []
    if not ignore_hours:
        gates.append(RegularHoursGate(EquitySessions(equities.calendar), equities.allow_outside_rth))
    if not cfg.risk.allow_short:
        gates.append(ShortSaleGate())
    gates.append(FractionalGate(equities.allow_fractional, adapter.fractionable_symbols()))
    if equities.pdt_guard and mode.is_real:
        account: PdtAccount | None
        try:
            account = await adapter.pdt_account()
        except VenueError as exc:
            log.warning("pattern-day-trader guard: account unreadable (%s); day trades are denied", exc.message)
            account = None
        gates.append(
            PdtGuard(
                account, equities.pdt_min_equity_usd, equities.pdt_max_day_trades, equities.pdt_window_business_days
            )
        )
    return gates
