"""Profile sections ``[equities]`` and ``[alpaca]``: US equity rules and Alpaca's data feed.

Units are in the key names (``_usd``). docs/venues_equities.md lists every key with its
default and the rule it comes from.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class EquitiesConfig(_Section):
    """US equity gates of an equity venue's session (``[equities]``).

    ``calendar`` is the exchange_calendars name of the regular session (``XNYS``: 09:30 to
    16:00 America/New_York, 13:00 on early-close days). ``allow_outside_rth`` lets an
    order that sets ``outside_rth`` trade in the extended session (04:00 to 09:30 and
    close to 20:00 ET on trading days); without it every order outside the regular
    session is denied. ``allow_fractional`` allows fractional share quantities where the
    venue marks the symbol fractionable. The pattern-day-trader guard (FINRA Rule 4210:
    four or more day trades within five business days in a margin account under
    25,000 USD) denies the order that would make day trade number
    ``pdt_max_day_trades + 1`` within ``pdt_window_business_days`` when the account is a
    margin account with equity below ``pdt_min_equity_usd``.
    """

    calendar: str = "XNYS"
    allow_outside_rth: bool = False
    allow_fractional: bool = False
    pdt_guard: bool = True
    pdt_min_equity_usd: Decimal = Field(default=Decimal(25_000), ge=0)
    pdt_max_day_trades: int = Field(default=3, ge=0)
    pdt_window_business_days: int = Field(default=5, gt=0)


class AlpacaConfig(_Section):
    """Alpaca settings (``[alpaca]``).

    ``feed`` is the stock market-data feed: ``iex`` (free, IEX only) or ``sip`` (all US
    exchanges, needs an Algo Trader Plus subscription); Alpaca "Real-time Stock Data".
    """

    feed: Literal["iex", "sip"] = "iex"
