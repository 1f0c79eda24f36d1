"""What both sessions decide before composing the core: the result type, the venue wiring, strategy and ids.

Split from :mod:`livegate.runtime.core` (which re-exports these names): the session id, the
strategy instance, where approved orders go (:class:`VenueWiring`, chosen once by the
mode) and the run directory's start artifacts with the ledger (:func:`open_session`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from livegate.config.loader import ResolvedConfig
from livegate.config.paths import state_dir
from livegate.control.recovery import SessionRecovery
from livegate.control.run_lock import RunLock, refuse_existing_run
from livegate.domain.ids import session_id_for
from livegate.domain.orders import OrderIntent
from livegate.execution.context import IntentSizer
from livegate.ledger.anchor import anchor_path
from livegate.ledger.store import Ledger
from livegate.modes.resolve import ModeResolution
from livegate.risk.gate import Gate
from livegate.runtime.artifacts import build_info, write_json
from livegate.runtime.compose import budget_store
from livegate.strategy.api import Strategy
from livegate.strategy.loader import load_strategy_class
from livegate.venues.base import SimulatedVenue, VenueAdapter

__all__ = ["SessionResult", "VenueWiring", "fresh_session_id", "load_strategy", "open_session"]


@dataclass(slots=True)
class SessionResult:
    """What a finished session produced."""

    run_dir: Path
    summary: dict[str, Any]
    exit_code: int
    anomalies: list[dict[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class VenueWiring:
    """Where approved orders go, decided once by the mode.

    Parameters
    ----------
    venues:
        Venue adapters by name (the engine's only way out).
    router:
        Picks a venue name for each intent.
    reconcile_venue:
        The venue whose truth the reconciler compares with the ledger.
    extra_gates:
        Gates the mode adds after the standard chain (canary ramp cap).
    sizer:
        Resizes intents once their sequence number is known (canary), or None.
    fed_venues:
        Simulated venues the loop feeds with market data.
    """

    venues: dict[str, VenueAdapter]
    router: Callable[[OrderIntent], str]
    reconcile_venue: VenueAdapter
    extra_gates: list[Gate] = field(default_factory=list)
    sizer: IntentSizer | None = None
    fed_venues: list[SimulatedVenue] = field(default_factory=list)

    @classmethod
    def single(cls, venue: VenueAdapter) -> VenueWiring:
        """Return the wiring that sends every order to ``venue`` (fed with market data when simulated)."""
        fed: list[SimulatedVenue] = [venue] if isinstance(venue, SimulatedVenue) else []
        return cls(venues={venue.name: venue}, router=lambda _intent: venue.name, reconcile_venue=venue, fed_venues=fed)


def load_strategy(resolved: ResolvedConfig) -> tuple[Strategy, str]:
    """Instantiate ``[strategy] spec`` with its params; return it and its name.

    Raises
    ------
    ConfigError
        If the spec cannot be loaded.
    """
    cfg = resolved.config
    strategy_cls = load_strategy_class(cfg.strategy.spec)
    strategy: Strategy = strategy_cls(**cfg.strategy.params)
    return strategy, getattr(strategy, "name", strategy_cls.__name__)


def fresh_session_id(resolved: ResolvedConfig, *parts: str) -> str:
    """Return the deterministic session id of seed, config hash, strategy spec and ``parts``."""
    cfg = resolved.config
    return session_id_for(str(cfg.seed), resolved.config_hash, cfg.strategy.spec, *parts)


def open_session(
    run_dir: Path, resolved: ResolvedConfig, mode: ModeResolution, env: Mapping[str, str], *, resume: bool
) -> tuple[Ledger, SessionRecovery]:
    """Create ``run_dir`` with its start artifacts; open the ledger and the recovery wiring.

    A new run refuses an existing run directory; a new run or a resume holds the run
    directory's lock (:mod:`livegate.control.run_lock`) until the session closes.

    Raises
    ------
    ConfigError
        If an ``[alerts]`` URL is unusable (apprise missing or the URL unknown to it), a
        resume is asked of a run that ended normally, ``run_dir`` is an existing run
        directory of a new run, another process holds its lock, or a test-only fault
        variable is malformed.
    LedgerError
        If the ledger cannot be opened.
    """
    if resolved.config.alerts.configured:  # a bad alert URL refuses the start before the run dir exists
        from livegate.alerts.destinations import build_destinations

        build_destinations(resolved.config.alerts)
    if not resume:
        refuse_existing_run(run_dir)
    run_lock = RunLock(run_dir, "resume" if resume else "run")
    write_json(
        run_dir / "config_resolved.json",
        {**resolved.to_record(), "mode": {"value": mode.mode.value, "source": mode.source}},
    )
    write_json(run_dir / "build_info.json", build_info())
    (run_dir / "kill_events.jsonl").touch()
    anchor = anchor_path(state_dir(env), run_dir)  # the head outside the run dir (issue 9 item 8)
    ledger = Ledger.open(run_dir / "ledger.sqlite", synchronous=resolved.config.ledger.synchronous, anchor=anchor)
    budgets = budget_store(mode.mode, resolved.config.venue.name, run_dir, env)
    recovery = SessionRecovery(run_dir, resume=resume, env=env, ledger=ledger, budgets=budgets, run_lock=run_lock)
    return ledger, recovery
