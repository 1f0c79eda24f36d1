"""Profile sections ``[live]`` and ``[canary]`` (issue 4; docs/runbook.md).

Units are in the key names: ``_secs`` (seconds), ``_usd`` (USD; USDT is treated as USD).
The caps that bound a live session are the ``[risk]`` caps of issue 3; ``[live]``
only says which of them must be present before a real mode may start (docs/architecture.md §3.3).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

#: ``[risk]`` keys that testnet, canary and live refuse to start without (default of
#: ``[live] required_risk_caps``): every notional cap and the daily loss limit.
DEFAULT_REQUIRED_RISK_CAPS: tuple[str, ...] = (
    "max_order_notional_usd",
    "max_symbol_notional_usd",
    "max_gross_notional_usd",
    "max_daily_turnover_usd",
    "daily_loss_limit_usd",
)


class _LiveSection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class LiveConfig(_LiveSection):
    """Arming rules of the real modes (``[live]``).

    Parameters
    ----------
    preflight_max_age_secs:
        Oldest accepted preflight artifact, in seconds (default 3600 = one hour).
    required_risk_caps:
        ``[risk]`` keys that must be set (not absent) before testnet, canary or live
        starts (default :data:`DEFAULT_REQUIRED_RISK_CAPS`).
    """

    preflight_max_age_secs: int = Field(default=3600, gt=0)
    required_risk_caps: list[str] = Field(default_factory=lambda: list(DEFAULT_REQUIRED_RISK_CAPS), min_length=1)


class CanaryConfig(_LiveSection):
    """Canary routing (``[canary]``): a small, capped share of the flow goes live.

    Parameters
    ----------
    size_multiplier:
        Fraction in (0, 1] of the intent's quantity sent live, rounded down to the lot
        (default 1: full size). A quantity that rounds to zero is denied.
    live_fraction:
        Share in [0, 1] of intents routed live by the seeded rule of
        :mod:`livegate.modes.canary`; the rest go to the shadow venue (default 0.1).
    max_live_notional_usd_per_day:
        Ramp cap: live notional approved per UTC day, in USD (no default: canary refuses
        to start without it). An intent beyond it is denied ``CANARY_RAMP_CAP``.
    """

    size_multiplier: Decimal = Field(default=Decimal(1), gt=0, le=1)
    live_fraction: Decimal = Field(default=Decimal("0.1"), ge=0, le=1)
    max_live_notional_usd_per_day: Decimal | None = Field(default=None, gt=0)


def run_overrides(
    *, seed: int | None = None, strategy: str | None = None, venue: str | None = None, symbols: list[str] | None = None
) -> dict[str, Any]:
    """Return the dotted-key CLI overrides shared by ``livegate run`` and ``livegate preflight``.

    Both commands must hash the same configuration, so the preflight artifact's config
    hash matches the run's; None (and an empty symbol list) means "not given".
    """
    return {
        "seed": seed,
        "strategy.spec": strategy,
        "venue.name": venue,
        "venue.symbols": list(symbols) if symbols else None,
    }
