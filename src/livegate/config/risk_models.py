"""Profile sections ``[risk]``, ``[tripwires]`` and ``[kill]`` (issue 3; docs/risk.md).

Units are in the key names: ``_usd`` (USD; USDT is treated as USD), ``_bps`` (basis
points, 1/10,000), ``_ms``, ``_secs``, ``_per_sec``. A cap set to ``None`` (key absent)
is off; every cap that is given must be positive.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

KillAction = Literal["reducing", "halted"]
"""What an automatic kill trigger moves the trading state to."""


class _RiskSection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class RiskConfig(_RiskSection):
    """Pre-trade limits (``[risk]``); every notional is in USD at a conservative price.

    ``max_symbol_notional_usd`` counts the position plus working orders on the symbol,
    ``max_gross_notional_usd`` the same over all symbols. Daily counters (turnover, order
    count, loss) roll at midnight of ``day_boundary_tz`` (an IANA zone name, default UTC).
    ``allow_short`` lets an equity venue's orders open or grow a short position (no
    locate logic; docs/venues_equities.md "Equity gates"); off by default.
    """

    max_order_notional_usd: Decimal | None = Field(default=None, gt=0)
    max_symbol_notional_usd: Decimal | None = Field(default=None, gt=0)
    max_gross_notional_usd: Decimal | None = Field(default=None, gt=0)
    max_daily_turnover_usd: Decimal | None = Field(default=None, gt=0)
    max_orders_per_day: int | None = Field(default=None, gt=0)
    max_open_orders: int | None = Field(default=None, gt=0)
    max_positions: int | None = Field(default=None, gt=0)
    allowlist: list[str] = Field(default_factory=list)
    price_band_bps: Decimal | None = Field(default=None, gt=0)
    duplicate_window_ms: int | None = Field(default=None, gt=0)
    max_order_rate_per_sec: int | None = Field(default=None, gt=0)
    daily_loss_limit_usd: Decimal | None = Field(default=None, gt=0)
    max_drawdown_usd: Decimal | None = Field(default=None, gt=0)
    day_boundary_tz: str = "UTC"
    allow_short: bool = False

    @field_validator("day_boundary_tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as 'UTC' or 'America/New_York')"
            ) from exc
        return value

    @field_validator("allowlist")
    @classmethod
    def _upper(cls, value: list[str]) -> list[str]:
        return [symbol.upper() for symbol in value]


class TripwireConfig(_RiskSection):
    """Market-data tripwires (``[tripwires]``).

    ``calendar`` empty means 24/7 (crypto); otherwise an exchange_calendars name such as
    ``"XNYS"``. ``heartbeat_stale_checks`` consecutive stale heartbeat checks disable a
    venue; as many consecutive fresh checks enable it again.
    """

    max_quote_age_ms: int | None = Field(default=1500, gt=0)
    max_spread_bps: Decimal | None = Field(default=Decimal(50), gt=0)
    allow_locked_quotes: bool = False
    calendar: str = ""
    heartbeat_stale_checks: int = Field(default=3, gt=0)


class KillConfig(_RiskSection):
    """Automatic kill triggers and what a halt does (``[kill]``).

    The daily-loss and drawdown triggers use ``[risk] daily_loss_limit_usd`` and
    ``[risk] max_drawdown_usd`` as thresholds. A trigger with a ``None`` threshold is off.
    A ledger write failure always halts (docs/architecture.md §3.4), so it has no action key.
    """

    daily_loss_action: KillAction = "halted"
    drawdown_action: KillAction = "halted"
    stale_feed_secs: Decimal | None = Field(default=None, gt=0)
    stale_feed_action: KillAction = "reducing"
    max_venue_errors: int | None = Field(default=5, gt=0)
    venue_error_window_secs: int = Field(default=60, gt=0)
    venue_error_action: KillAction = "halted"
    max_rejects: int | None = Field(default=10, gt=0)
    reject_window_secs: int = Field(default=60, gt=0)
    reject_storm_action: KillAction = "halted"
    invariant_action: KillAction = "halted"
    flatten_on_halt: bool = False
    flatten_timeout_ms: int = Field(default=30_000, gt=0)
    flatten_retry_ms: int = Field(default=500, gt=0)
    cancel_confirm_timeout_ms: int = Field(default=5000, gt=0)
    lock_on_anomaly: bool = False
