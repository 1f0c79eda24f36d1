"""Composition helpers: which gates and which venue adapter a session gets, decided once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from livegate.config.models import LivegateConfig
from livegate.config.paths import state_dir
from livegate.domain.clock import Clock, WallClock
from livegate.domain.enums import Mode
from livegate.domain.errors import ConfigError
from livegate.domain.instruments import Instrument
from livegate.risk import counters, limits
from livegate.risk.budget_store import RUN_BUDGET_FILE, BudgetStore
from livegate.risk.daily import DailyBook, EquityPeak
from livegate.risk.exposure import ExposureMemo, pad_factor
from livegate.risk.gate import Gate
from livegate.risk.killswitch import KillSwitch, TradingStateGate
from livegate.risk.structural import StructuralGate
from livegate.risk.tripwires import MarketHoursGate, QuoteTripwireGate, VenueHealthBoard, VenueHealthGate
from livegate.venues.paper import PaperParams, PaperVenue
from livegate.venues.paper_store import PaperStore
from livegate.venues.registry import is_real_venue
from livegate.venues.shadow import ShadowVenue


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


def budget_account(mode: Mode, venue: str) -> str | None:
    """Return the venue account whose trading-day budgets a session shares (issue 9 §5).

    ``live`` and ``canary`` trade the venue's account itself (``fake:demo``,
    ``ccxt:binance``); ``testnet`` its sandbox account (``<venue>/testnet``); shadow and
    paper sessions on a venue stream a simulated account per mode (``<venue>/paper``).
    A session on replayed data returns None: its run directory is its own account.
    """
    if not is_real_venue(venue):
        return None
    if mode in (Mode.LIVE, Mode.CANARY):
        return venue
    return f"{venue}/{mode.value}"


def budget_store(mode: Mode, venue: str, run_dir: Path, env: Mapping[str, str]) -> BudgetStore:
    """Return the budget store of the session's account (see :func:`budget_account`).

    Venue accounts live in the state dir (``budgets/<account>.json``, fsynced at each
    approved order); a replayed run's budgets live in its run directory
    (``budgets.json``): two replays never share budgets, a resume continues them.
    """
    account = budget_account(mode, venue)
    if account is None:
        return BudgetStore(run_dir / RUN_BUDGET_FILE, f"run:{run_dir.name}", durable=False)
    return BudgetStore.for_account(state_dir(env), account)


def build_gates(config: LivegateConfig, mode: Mode, parts: RiskParts | None = None) -> list[Gate]:
    """Return the gate chain in DESIGN.md §1 order for ``mode``; a gate whose key is unset is not built.

    1 mode gate (slot: replayed sessions resolve the mode before composition), 2 trading
    state, then structural checks, 3 tripwires, 4 limits. Without ``parts`` the trading
    state is an in-memory ACTIVE switch (tests and benchmarks).
    """
    del mode  # 1: the mode gate slot; live arming (DESIGN.md §3.3) plugs in here
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


def build_venue(
    mode: Mode,
    config: LivegateConfig,
    instruments: dict[str, Instrument],
    clock: Clock,
    store: PaperStore | None = None,
) -> PaperVenue | ShadowVenue:
    """Return the simulated venue for a replayed session: paper or shadow.

    ``store`` gives the paper venue its own durable state (issue 6); shadow keeps none.

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
        return PaperVenue(instruments, params, clock, name="paper", store=store)
    if mode is Mode.SHADOW:
        return ShadowVenue(instruments, clock, name="shadow")
    raise ConfigError(f"mode {mode.value} needs a real venue adapter")
