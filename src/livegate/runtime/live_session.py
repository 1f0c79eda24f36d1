"""A session on a venue's market-data stream: shadow, paper, testnet, canary or live.

Same composition (:mod:`livegate.runtime.core`: pipeline, engine, ledger, telemetry,
startup and periodic reconciliation, run-directory artifacts) as the replayed session
(:mod:`livegate.runtime.session`); what differs is the event source, its loop, and where
approved orders go, chosen here, once, by the mode (STYLE.md: no ``if mode`` in hot
paths):

========  =====================================  ==========================
mode      where approved orders go                market data
========  =====================================  ==========================
shadow    :class:`ShadowVenue` (never fills)     the adapter, no credentials
paper     :class:`PaperVenue` (simulated fills)  the adapter, no credentials
testnet   the adapter, sandbox endpoints          the adapter
canary    the adapter for the canary share,       the adapter
          the shadow venue for the rest
live      the adapter                             the adapter
========  =====================================  ==========================

Events run through the one session loop (:mod:`livegate.runtime.loop`,
:class:`~livegate.runtime.sources.StreamSource`); heartbeats, kill checks and triggers
(``stale_feed``, on by default here), venue health, reconciliation and ambiguous-order
lookups run on the wall-clock timer (:mod:`livegate.runtime.timer`), so a feed that stays
connected but silent is noticed. The trading venue is reconciled before the first event,
every ``[reconcile] interval_secs`` of wall time, and right after the stream reports a reconnect or a
sequence gap (:class:`~livegate.venues.base.StreamInterrupted`); until that
reconciliation completes new orders are denied ``RECONCILING``.

Every quote and trade the loop receives is recorded into ``RUN_DIR/market/``
(:mod:`livegate.marketdata.recorder`, the format ``livegate run --quotes/--trades``
reads), flushed every second and closed on every exit path, so the session can be
replayed in paper and compared (``livegate compare``). Under systemd the session
sends ``READY=1`` after the startup reconciliation and ``STOPPING=1`` when its loop
ends (:mod:`livegate.runtime.sd_notify`; ``WATCHDOG=1`` comes from the timer).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from livegate.config.loader import ResolvedConfig
from livegate.config.models import LivegateConfig
from livegate.control.session_risk import refuse_if_locked
from livegate.domain.clock import Clock
from livegate.domain.enums import Mode
from livegate.domain.errors import ConfigError
from livegate.domain.instruments import Instrument
from livegate.marketdata.recorder import MARKET_DIR, MarketRecorder
from livegate.modes.canary import CanaryRampGate, CanaryRouter
from livegate.modes.market_hours import MarketHours, market_hours_for
from livegate.modes.resolve import ModeResolution
from livegate.runtime.artifacts import default_run_dir
from livegate.runtime.compose import build_venue
from livegate.runtime.core import SessionCore, VenueWiring, fresh_session_id, load_strategy, open_session
from livegate.runtime.equities import equity_gates, equity_hours
from livegate.runtime.live_options import LiveOptions
from livegate.runtime.sd_notify import SdNotifier
from livegate.runtime.session import RunOptions, SessionResult
from livegate.runtime.sources import StreamSource
from livegate.runtime.summary import InputFacts
from livegate.venues.base import MarketDataStream, VenueAdapter
from livegate.venues.shadow import ShadowVenue

__all__ = ["LiveOptions", "compose_live", "run_live_session"]

log = logging.getLogger("livegate")

#: Seconds of clock time between two ``market closed; skipping cycle`` lines.
_CLOSED_LOG_EVERY_MS = 60_000
SHADOW_VENUE = "shadow"


def _shadow(
    adapter: VenueAdapter, cfg: LivegateConfig, instruments: dict[str, Instrument], clock: Clock
) -> VenueWiring:
    return VenueWiring.single(ShadowVenue(instruments, clock, name=SHADOW_VENUE))


def _paper(adapter: VenueAdapter, cfg: LivegateConfig, instruments: dict[str, Instrument], clock: Clock) -> VenueWiring:
    return VenueWiring.single(build_venue(Mode.PAPER, cfg, instruments, clock))


def _direct(
    adapter: VenueAdapter, cfg: LivegateConfig, instruments: dict[str, Instrument], clock: Clock
) -> VenueWiring:
    return VenueWiring.single(adapter)


_WIRING = {Mode.SHADOW: _shadow, Mode.PAPER: _paper, Mode.TESTNET: _direct, Mode.LIVE: _direct}


def compose_live(
    mode: Mode,
    cfg: LivegateConfig,
    adapter: VenueAdapter,
    instruments: dict[str, Instrument],
    clock: Clock,
    session_id: str,
) -> tuple[VenueWiring, CanaryRouter | None]:
    """Return where approved orders go for ``mode`` (decided once, here), and the canary router.

    The canary router is deterministic in the intent sequence, so live-routed intents are
    sized at ``[canary] size_multiplier`` (rounded down to the lot) as they are built.
    Canary reconciles the real venue; the shadow share keeps no venue state.

    Raises
    ------
    ConfigError
        If canary has no ramp cap (the live gate refuses that earlier).
    """
    if mode is not Mode.CANARY:
        return _WIRING[mode](adapter, cfg, instruments, clock), None
    canary_cfg = cfg.canary
    if canary_cfg.max_live_notional_usd_per_day is None:
        raise ConfigError("canary needs [canary] max_live_notional_usd_per_day")
    shadow = ShadowVenue(instruments, clock, name=SHADOW_VENUE)
    router = CanaryRouter(
        seed=cfg.seed,
        session_id=session_id,
        live_fraction=canary_cfg.live_fraction,
        size_multiplier=canary_cfg.size_multiplier,
        live_venue=adapter.name,
        shadow_venue=shadow.name,
    )

    def sizer(strategy_id: str, seq: int, quantity: Decimal, instrument: Instrument | None) -> Decimal:
        return router.live_quantity(quantity, instrument) if router.goes_live(strategy_id, seq) else quantity

    wiring = VenueWiring(
        venues={adapter.name: adapter, shadow.name: shadow},
        router=router.route,
        reconcile_venue=adapter,
        extra_gates=[CanaryRampGate(router, canary_cfg.max_live_notional_usd_per_day)],
        sizer=sizer,
        fed_venues=[shadow],
    )
    return wiring, router


def _select_instruments(adapter: VenueAdapter, symbols: Sequence[str]) -> dict[str, Instrument]:
    known = adapter.instruments()
    wanted = list(symbols) or sorted(known)
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise ConfigError(
            f"venue {adapter.name} has no instrument {', '.join(unknown)}; it has {', '.join(sorted(known))}"
        )
    return {s: known[s] for s in wanted}


async def run_live_session(
    options: RunOptions,
    live: LiveOptions,
    *,
    resolved: ResolvedConfig,
    mode: ModeResolution,
    adapter: VenueAdapter,
    clock: Clock,
    env: Mapping[str, str],
    on_ready: Callable[[], None] | None = None,
) -> SessionResult:
    """Run the strategy on ``adapter``'s market-data stream until it ends; write the run directory.

    ``on_ready`` is called once the session is rebuilt (a resume) and reconciled, before
    its first market event.

    Raises
    ------
    ConfigError
        If the adapter streams no market data, the symbols or the calendar are unknown,
        or the state dir holds a session lock.
    """
    cfg = resolved.config
    refuse_if_locked(env)
    if not isinstance(adapter, MarketDataStream):
        raise ConfigError(f"venue {adapter.name} offers no market-data stream")
    hours: MarketHours = market_hours_for(cfg.venue.calendar or cfg.tripwires.calendar, ignore=live.ignore_market_hours)
    await adapter.connect()
    try:
        instruments = _select_instruments(adapter, cfg.venue.symbols)
        hours = equity_hours(cfg, adapter, hours, ignore=live.ignore_market_hours)
        return await _run(options, live, resolved, mode, adapter, adapter, clock, instruments, hours, env, on_ready)
    finally:
        await adapter.close()


async def _run(
    options: RunOptions,
    live: LiveOptions,
    resolved: ResolvedConfig,
    mode: ModeResolution,
    adapter: VenueAdapter,
    stream: MarketDataStream,
    clock: Clock,
    instruments: dict[str, Instrument],
    hours: MarketHours,
    env: Mapping[str, str],
    on_ready: Callable[[], None] | None,
) -> SessionResult:
    strategy = load_strategy(resolved)
    run_dir = options.out or default_run_dir(mode.mode.value)
    ledger, recovery = open_session(run_dir, resolved, mode, env, resume=options.resume)  # resume: issue 9 §6
    session_id = recovery.session_id(fresh_session_id(resolved, adapter.name, str(clock.now_ms())))
    wiring, canary = compose_live(mode.mode, resolved.config, adapter, instruments, clock, session_id)
    wiring.extra_gates.extend(
        await equity_gates(resolved.config, adapter, mode.mode, ignore_hours=live.ignore_market_hours)
    )
    core = SessionCore(
        resolved=resolved,
        mode=mode,
        env=env,
        run_dir=run_dir,
        ledger=ledger,
        recovery=recovery,
        clock=clock,
        advance=None,
        instruments=instruments,
        wiring=wiring,
        session_id=session_id,
        strategy=strategy,
    )
    inputs = [f"stream:{adapter.name}"]
    core.announce(inputs, note=f"stream from {adapter.name}", venues=sorted(wiring.venues))
    systemd = SdNotifier.from_env(env)
    recorder = MarketRecorder(run_dir / MARKET_DIR, instruments=instruments)
    flusher = asyncio.ensure_future(recorder.run_flusher())
    try:
        await core.begin(clock.now_ms())
        if on_ready is not None:
            on_ready()
        systemd.ready(f"{mode.mode.value} on {adapter.name}: {', '.join(instruments)}")
        max_secs = None if live.max_minutes is None else live.max_minutes * 60
        source = StreamSource(stream, list(core.instruments), hours, live.max_events, max_secs, record=recorder.record)
        end_reason = await core.run(source, error_kind="session_error", end_reason="end of stream")
        if source.timed_out and end_reason == "end of stream":
            end_reason = f"--minutes {live.max_minutes:g} elapsed"
        systemd.stopping(f"stopping: {end_reason}")
    finally:
        flusher.cancel()
        await asyncio.gather(flusher, return_exceptions=True)
        recorded = recorder.close()
        systemd.close()
    stopping = core.stop_signal is not None
    if stopping and core.engine.submits_in_flight():
        # cancel at the venue now, orders whose submit answer is still awaited included; with no
        # such submit the stop cancels once, in finish() (an early pass while a venue is down
        # lets its errors trip a halt whose confirm wait outlasts [shutdown] cancel_timeout_ms)
        await core.stop_cancels()
    await core.engine.settle(stopping=stopping)  # submits still in flight become working orders (or not) first
    await core.end_cancels("session end")
    facts = InputFacts(inputs, sorted(instruments), 0, source.span_secs)

    def extra() -> dict[str, Any]:
        added: dict[str, Any] = {
            "venue": adapter.name,
            "symbols": sorted(instruments),
            "market_recorded": recorded.to_record(),
        }
        if live.max_minutes is not None:
            added["minutes"] = live.max_minutes
        if canary is not None:
            by_venue = core.engine.stats.orders_by_venue
            added["canary_live_orders"] = by_venue.get(canary.live_venue, 0)
            added["canary_shadow_orders"] = by_venue.get(canary.shadow_venue, 0)
        return added

    return await core.finish(end_reason, facts, extra=extra)
