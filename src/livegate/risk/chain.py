"""The gate chain, declared once: which gates a session runs, in the order of docs/architecture.md §1.

``build_gates`` is the one place the chain is assembled (sessions, operator commands,
benchmarks and the property tests all call it); ``RiskParts`` are the stateful pieces the
gates share with the kill side (kill switch, venue health, trading-day book, equity peak).
"""

from __future__ import annotations

from dataclasses import dataclass

from livegate.config.models import LivegateConfig
from livegate.domain.clock import WallClock
from livegate.domain.enums import Mode
from livegate.risk import counters, limits
from livegate.risk.daily import DailyBook, EquityPeak
from livegate.risk.exposure import pad_factor
from livegate.risk.gate import Gate
from livegate.risk.killswitch import KillSwitch, TradingStateGate
from livegate.risk.memo import ExposureMemo
from livegate.risk.structural import StructuralGate
from livegate.risk.tripwires import MarketHoursGate, QuoteTripwireGate, VenueHealthBoard, VenueHealthGate

__all__ = ["RiskParts", "build_gates", "build_risk_parts"]


@dataclass(slots=True)
class RiskParts:
    """The stateful pieces the gates share with the runtime (kill triggers, heartbeats)."""

    kill: KillSwitch
    health: VenueHealthBoard
    daily: DailyBook
    peak: EquityPeak


def build_risk_parts(config: LivegateConfig, kill: KillSwitch) -> RiskParts:
    """Return fresh shared risk state around ``kill`` for one session."""
    tripwires = config.tripwires
    peak = EquityPeak()
    return RiskParts(
        kill=kill,
        health=VenueHealthBoard(tripwires.max_quote_age_ms or 1500, tripwires.heartbeat_stale_checks),
        daily=DailyBook(config.risk.day_boundary_tz, peak),
        peak=peak,
    )


def build_gates(config: LivegateConfig, mode: Mode, parts: RiskParts | None = None) -> list[Gate]:
    """Return the gate chain in docs/architecture.md §1 order for ``mode``; a gate whose key is unset is not built.

    1 mode gate (slot: replayed sessions resolve the mode before composition), 2 trading
    state, then structural checks, 3 tripwires, 4 limits. Without ``parts`` the trading
    state is an in-memory ACTIVE switch (tests and benchmarks).
    """
    del mode  # 1: the mode gate slot; live arming (docs/architecture.md §3.3) plugs in here
    if parts is None:
        parts = build_risk_parts(config, KillSwitch(None, WallClock()))
    risk, tripwires = config.risk, config.tripwires
    pad = pad_factor(risk.price_band_bps)
    memo = ExposureMemo(pad)  # one exposure / equity computation per intent, shared by the limits
    gates: list[Gate] = [TradingStateGate(parts.kill), StructuralGate()]
    gates.append(QuoteTripwireGate(tripwires.max_quote_age_ms, tripwires.max_spread_bps, tripwires.allow_locked_quotes))
    if tripwires.calendar:
        gates.append(MarketHoursGate(tripwires.calendar))
    gates.append(VenueHealthGate(parts.health))
    if risk.allowlist:
        gates.append(limits.AllowlistGate(risk.allowlist))
    gates.append(limits.ReduceOnlyGate())
    if risk.price_band_bps is not None:
        gates.append(limits.PriceBandGate(risk.price_band_bps))
    if risk.duplicate_window_ms is not None:
        gates.append(counters.DuplicateIntentGate(risk.duplicate_window_ms))
    if risk.max_order_rate_per_sec is not None:
        gates.append(counters.OrderRateGate(risk.max_order_rate_per_sec))
    if risk.max_orders_per_day is not None:
        gates.append(counters.DailyOrderCountGate(risk.max_orders_per_day, parts.daily))
    if risk.max_open_orders is not None:
        gates.append(limits.OpenOrdersGate(risk.max_open_orders))
    if risk.max_positions is not None:
        gates.append(limits.PositionsCountGate(risk.max_positions))
    if risk.max_order_notional_usd is not None:
        gates.append(limits.OrderNotionalGate(risk.max_order_notional_usd, pad, memo))
    if risk.max_symbol_notional_usd is not None:
        gates.append(limits.SymbolNotionalGate(risk.max_symbol_notional_usd, pad, memo))
    if risk.max_gross_notional_usd is not None:
        gates.append(limits.GrossNotionalGate(risk.max_gross_notional_usd, pad, memo))
    if risk.max_daily_turnover_usd is not None:
        gates.append(counters.DailyTurnoverGate(risk.max_daily_turnover_usd, pad, parts.daily, memo))
    if risk.daily_loss_limit_usd is not None:
        gates.append(counters.DailyLossGate(risk.daily_loss_limit_usd, parts.daily, memo))
    if risk.max_drawdown_usd is not None:
        gates.append(counters.DrawdownGate(risk.max_drawdown_usd, parts.peak, memo))
    return gates
