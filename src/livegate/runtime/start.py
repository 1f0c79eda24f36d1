"""``livegate run``'s start decision: resolve the mode once, run the live gate, pick the session.

1. Load the configuration (CLI > env > profile > default) and resolve the mode
   (docs/architecture.md §3.2); the default is shadow when a real venue (``<adapter>:<venue>``) is
   configured, paper on replayed data.
2. For testnet, canary and live, check every arming key (:mod:`livegate.modes.live_gate`)
   and, when armed, build the adapter with credentials (testnet: sandbox endpoints,
   refused when the adapter declares none). A refusal logs one ``status=FAIL`` gate line
   naming every missing key and raises :class:`GateRefused` (exit 2), unless
   ``--fallback-shadow`` turns the run into shadow, which the gate line then says.
3. Run the session: on a real venue's stream (:mod:`livegate.runtime.live_session`) or on
   replayed data (:mod:`livegate.runtime.session`). Shadow and paper build the adapter
   without credentials and never load them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from livegate.config.live_models import run_overrides
from livegate.config.loader import ResolvedConfig, load_config
from livegate.config.paths import state_dir
from livegate.control.faults import installed_hooks, refuse_test_variables
from livegate.domain.clock import Clock, WallClock
from livegate.domain.enums import Mode
from livegate.domain.errors import ConfigError
from livegate.modes.resolve import ModeResolution, gate_line, resolve_mode
from livegate.runtime.live_options import LiveOptions
from livegate.runtime.session import ProgressCallback, RunOptions, SessionResult, run_replay_session
from livegate.venues.base import VenueAdapter
from livegate.venues.registry import AdapterFactory, VenueRequest, build_adapter, is_real_venue

if TYPE_CHECKING:
    from livegate.modes.live_gate import ArmingResult

__all__ = ["GateRefused", "StartPlan", "plan_start", "prepare_start", "start"]

log = logging.getLogger("livegate")


class GateRefused(ConfigError):
    """The live gate refused to start (exit 2); the message is the gate line's reason."""


class StartPlan:
    """The start decision: the mode to run (with its gate note) and the adapter, if any.

    Parameters
    ----------
    mode:
        The mode to run and the gate line's reason.
    adapter:
        The real venue's adapter (None on replayed data).
    arming:
        The live gate's result for real modes (None otherwise).
    """

    __slots__ = ("adapter", "arming", "mode")

    def __init__(self, mode: ModeResolution, adapter: VenueAdapter | None, arming: ArmingResult | None) -> None:
        self.mode = mode
        self.adapter = adapter
        self.arming = arming


def prepare_start(
    options: RunOptions, live: LiveOptions, env: Mapping[str, str]
) -> tuple[ResolvedConfig, ModeResolution]:
    """Load the configuration and resolve the mode, once.

    Raises
    ------
    ConfigError
        On an invalid configuration or mode.
    """
    cli = run_overrides(seed=options.seed, strategy=options.strategy, venue=live.venue, symbols=list(live.symbols))
    cli["http.bind"] = options.http  # --http: the operator API (not part of the config hash)
    resolved = load_config(options.profile, env, cli)
    real = is_real_venue(resolved.config.venue.name)
    return resolved, resolve_mode(options.mode, env, resolved.config.mode, real_venue_configured=real)


def plan_start(
    resolved: ResolvedConfig,
    resolution: ModeResolution,
    live: LiveOptions,
    env: Mapping[str, str],
    *,
    clock: Clock,
    factories: Mapping[str, AdapterFactory] | None = None,
) -> StartPlan:
    """Run the live gate for real modes and build the adapter the mode needs.

    Raises
    ------
    GateRefused
        When a real mode is not armed and ``--fallback-shadow`` was not given; the one
        ``status=FAIL`` gate line is logged before raising.
    ConfigError
        When the venue's adapter cannot be built.
    """
    cfg = resolved.config
    venue = cfg.venue.name
    symbols = list(cfg.venue.symbols)
    refuse_test_variables(env, resolution.mode)  # production refuses test hooks in real modes (exit 2)
    fault = installed_hooks().venue_fault  # test-only, installed by python -m livegate.testing
    adapter: VenueAdapter | None = None
    arming: ArmingResult | None = None
    if resolution.mode.is_real:
        # the live gate and credentials load only for a real mode or venue (a replay never needs them)
        from livegate.modes.live_gate import ArmingResult, evaluate_arming

        arming = evaluate_arming(
            mode=resolution.mode,
            enable_live_flag=live.enable_live,
            env=env,
            state_dir=state_dir(env),
            config=cfg,
            config_hash=resolved.config_hash,
            now_ms=clock.now_ms(),
        )
        if arming.armed:
            request = VenueRequest(
                venue=venue,
                clock=clock,
                credentials=arming.credentials,
                sandbox=resolution.mode is Mode.TESTNET,
                symbols=symbols,
                fault=fault,
                settings=cfg.venue,
                alpaca_feed=cfg.alpaca.feed,
                allow_fractional=cfg.equities.allow_fractional,
            )
            try:
                adapter = build_adapter(request, factories)
            except ConfigError as exc:
                arming = ArmingResult(mode=resolution.mode, missing=[f"venue adapter ({exc})"])
        if not arming.armed:
            if not live.fallback_shadow:
                log.info(gate_line(resolution.mode, "FAIL", arming.reason(), resolution.source))
                raise GateRefused(arming.reason())
            note = f"fallback-shadow: {resolution.mode.value} refused ({arming.reason()}); running shadow instead"
            resolution = ModeResolution(Mode.SHADOW, resolution.source, note)
        else:
            resolution = ModeResolution(resolution.mode, resolution.source, arming.reason())
    if adapter is None and is_real_venue(venue):
        from livegate.config.credentials import load_market_data_key

        request = VenueRequest(
            venue=venue,
            clock=clock,
            symbols=symbols,
            fault=fault,
            settings=cfg.venue,
            data_credentials=load_market_data_key(venue, env),
            alpaca_feed=cfg.alpaca.feed,
        )
        adapter = build_adapter(request, factories)
    return StartPlan(resolution, adapter, arming)


def start(
    options: RunOptions,
    live: LiveOptions,
    env: Mapping[str, str],
    progress: ProgressCallback | None = None,
    *,
    clock: Clock | None = None,
    factories: Mapping[str, AdapterFactory] | None = None,
) -> SessionResult:
    """Resolve, gate and run one session to completion (blocking).

    Raises
    ------
    GateRefused
        When the live gate refuses (exit 2).
    ConfigError, DataError
        On invalid configuration or input (exit 2).
    """
    wall = clock or WallClock()
    resolved, resolution = prepare_start(options, live, env)
    plan = plan_start(resolved, resolution, live, env, clock=wall, factories=factories)
    if plan.adapter is not None:
        from livegate.runtime.live_session import run_live_session  # a replay never needs it

        session = run_live_session(
            options, live, resolved=resolved, mode=plan.mode, adapter=plan.adapter, clock=wall, env=env
        )
        return asyncio.run(session)
    if plan.mode.mode.is_real:
        raise ConfigError(f"mode {plan.mode.mode.value} needs a real venue")
    return asyncio.run(run_replay_session(options, env, resolved=resolved, mode=plan.mode, progress=progress))
