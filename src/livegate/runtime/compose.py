"""Composition helpers: which gates and which venue adapter a session gets, decided once."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from livegate.config.models import LivegateConfig
from livegate.config.paths import state_dir
from livegate.domain.clock import Clock
from livegate.domain.enums import Mode
from livegate.domain.errors import ConfigError
from livegate.domain.instruments import Instrument
from livegate.risk.budget_store import RUN_BUDGET_FILE, BudgetStore
from livegate.venues.paper import PaperParams, PaperVenue
from livegate.venues.paper_store import PaperStore
from livegate.venues.registry import is_real_venue

if TYPE_CHECKING:
    from livegate.venues.shadow import ShadowVenue


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
        from livegate.venues.shadow import ShadowVenue  # shadow replays only

        return ShadowVenue(instruments, clock, name="shadow")
    raise ConfigError(f"mode {mode.value} needs a real venue adapter")
