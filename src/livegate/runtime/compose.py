"""Composition helpers: which gates and which venue adapter a session gets, decided once."""

from __future__ import annotations

from livegate.config.models import LivegateConfig
from livegate.domain.clock import Clock
from livegate.domain.enums import Mode
from livegate.domain.errors import ConfigError
from livegate.domain.instruments import Instrument
from livegate.risk.gate import Gate
from livegate.risk.structural import StructuralGate
from livegate.venues.paper import PaperParams, PaperVenue
from livegate.venues.shadow import ShadowVenue


def build_gates(config: LivegateConfig, mode: Mode) -> list[Gate]:
    """Return the gate chain in DESIGN.md §1 order for ``mode``."""
    del mode
    del config
    return [StructuralGate()]


def build_venue(
    mode: Mode, config: LivegateConfig, instruments: dict[str, Instrument], clock: Clock
) -> PaperVenue | ShadowVenue:
    """Return the simulated venue for a replayed session: paper or shadow.

    Raises
    ------
    ConfigError
        For modes that need a real venue adapter.
    """
    if mode is Mode.PAPER:
        paper = config.paper
        params = PaperParams(
            fill_mode=paper.fill_mode,
            maker_fee_bps=paper.maker_fee_bps,
            taker_fee_bps=paper.taker_fee_bps,
            slippage_bps=paper.slippage_bps,
            touch_fill_probability=paper.touch_fill_probability,
            seed=config.seed,
            starting_balance=paper.starting_balance_usd,
        )
        return PaperVenue(instruments, params, clock, name="paper")
    if mode is Mode.SHADOW:
        return ShadowVenue(instruments, clock, name="shadow")
    raise ConfigError(f"mode {mode.value} needs a real venue adapter")
