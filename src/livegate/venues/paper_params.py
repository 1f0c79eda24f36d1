"""Parameters of the paper venue's fill model (docs/architecture.md §5), checked when built."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from livegate.venues.paper_matching import FillMode

__all__ = ["PaperParams"]

_FILL_MODES = ("none", "marketable", "mid", "always")


@dataclass(frozen=True, slots=True)
class PaperParams:
    """Parameters of the paper fill model (docs/architecture.md §5).

    Parameters
    ----------
    fill_mode:
        ``none`` accepts and never fills; ``marketable`` (default) fills takers at the far
        side up to displayed size and rests the rest; ``mid`` is ``marketable`` with taker
        fills at the mid price; ``always`` fills every order fully at once at its limit
        price (market orders at the far side).
    maker_fee_bps, taker_fee_bps:
        Fee rates in bps of notional. Defaults are Binance USD-M futures VIP0 regular
        rates, 0.0200% maker / 0.0500% taker (binance.com/en/fee/futureFee, 2024; the
        ccxt market fixture still carries the older 0.04% taker).
    slippage_bps:
        Taker price penalty in bps, applied against the taker before tick rounding.
    touch_fill_probability:
        Chance in [0, 1] that a resting order fills when a trade prints exactly at its
        limit on the side that would hit it (queue position is unknown).
    seed:
        Seed of the venue's ``random.Random`` (touch fills only).
    starting_balance:
        Initial cash per quote currency, USDT-margined perpetual style.
    """

    fill_mode: FillMode = "marketable"
    maker_fee_bps: Decimal = Decimal("2")
    taker_fee_bps: Decimal = Decimal("5")
    slippage_bps: Decimal = Decimal(0)
    touch_fill_probability: Decimal = Decimal("0.5")
    seed: int = 0
    starting_balance: Decimal = Decimal("100000")

    def __post_init__(self) -> None:
        if self.fill_mode not in _FILL_MODES:
            raise ValueError(f"fill_mode must be one of {_FILL_MODES}, got {self.fill_mode!r}")
        for name in ("maker_fee_bps", "taker_fee_bps", "starting_balance"):
            if not getattr(self, name).is_finite():
                raise ValueError(f"{name} must be finite, got {getattr(self, name)}")
        if not self.slippage_bps.is_finite() or self.slippage_bps < 0:
            raise ValueError(f"slippage_bps must be >= 0, got {self.slippage_bps}")
        if not (0 <= self.touch_fill_probability <= 1):
            raise ValueError(f"touch_fill_probability must be in [0, 1], got {self.touch_fill_probability}")
