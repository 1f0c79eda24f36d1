"""A session on replayed data: load the data, pick the simulated venue, run the replay loop.

Everything else is composed by :mod:`livegate.runtime.core`, the same path the
venue-stream session takes. The mode picks the venue adapter here, once (STYLE.md: no
``if mode`` in hot paths): paper or shadow.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from livegate.config.instruments import resolve_instruments
from livegate.config.loader import ResolvedConfig, load_config
from livegate.domain.clock import ReplayClock, monotonic_secs
from livegate.domain.enums import Mode
from livegate.domain.errors import ConfigError
from livegate.domain.market import Quote, Trade
from livegate.marketdata.digests import input_identities
from livegate.marketdata.replay import ReplayData, load_replay
from livegate.modes.resolve import ModeResolution, resolve_mode
from livegate.runtime.artifacts import default_run_dir
from livegate.runtime.compose import build_venue
from livegate.runtime.core import SessionCore, SessionResult, VenueWiring, fresh_session_id, load_strategy, open_session
from livegate.runtime.resume import write_run_inputs
from livegate.runtime.session_risk import refuse_if_locked
from livegate.runtime.summary import InputFacts
from livegate.venues.paper import PaperVenue
from livegate.venues.shadow import ShadowVenue

__all__ = ["ProgressCallback", "RunOptions", "SessionResult", "bundled_sample", "prepare", "run", "run_replay_session"]

ProgressCallback = Callable[[int, int], None]
_BAD_ROW_TELEMETRY_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Inputs of ``livegate run`` (None means: not given on the command line)."""

    mode: str | None = None
    quotes: Path | None = None
    trades: Path | None = None
    capture: Path | None = None
    strategy: str | None = None
    profile: str | None = None
    seed: int | None = None
    out: Path | None = None
    realtime: float | None = None
    resume: bool = False


def bundled_sample() -> tuple[Path, Path]:
    """Return the bundled Binance USD-M BTCUSDT 2024-08-08 quotes and trades (MIT, hftbacktest)."""
    root = resources.files("livegate") / "data"
    quotes = Path(str(root / "binance_usdm_btcusdt_20240808_quotes.csv.gz"))
    trades = Path(str(root / "binance_usdm_btcusdt_20240808_trades.csv.gz"))
    return quotes, trades


def prepare(options: RunOptions, env: Mapping[str, str]) -> tuple[ResolvedConfig, ModeResolution]:
    """Load the config and resolve the mode (raises ConfigError on bad input)."""
    cli: dict[str, Any] = {"seed": options.seed, "strategy.spec": options.strategy}
    resolved = load_config(options.profile, env, cli)
    mode = resolve_mode(options.mode, env, resolved.config.mode, real_venue_configured=False)
    return resolved, mode


async def run_replay_session(
    options: RunOptions,
    env: Mapping[str, str],
    *,
    resolved: ResolvedConfig,
    mode: ModeResolution,
    progress: ProgressCallback | None = None,
    data: ReplayData | None = None,
) -> SessionResult:
    """Run one session over replayed data and write the run directory.

    Raises
    ------
    DataError
        If an input file is missing or unreadable.
    ConfigError
        If the strategy or instruments cannot be resolved.
    ReconcileIncomplete
        If the paper venue cannot be reconciled before trading (exit 2).
    """
    cfg = resolved.config
    refuse_if_locked(env)
    if data is None:
        quotes, trades, capture = options.quotes, options.trades, options.capture
        if quotes is None and trades is None and capture is None:
            quotes, trades = bundled_sample()
        data = load_replay(quotes=quotes, trades=trades, capture=capture, venue=cfg.venue.name)
    instruments = resolve_instruments(cfg, list(data.symbols))
    strategy = load_strategy(resolved)
    run_dir = options.out or default_run_dir(mode.mode.value)
    ledger, recovery = open_session(run_dir, resolved, mode, env, resume=options.resume)
    if not options.resume:
        write_run_inputs(run_dir, _run_inputs(options))
    clock = ReplayClock(data.first_ts_ms)
    identities = input_identities(data.inputs)  # content, not paths (issue 9 item 12)
    session_id = recovery.session_id(fresh_session_id(resolved, *identities))
    start = recovery.start_index(data.events, clock)
    venue = build_venue(mode.mode, cfg, instruments, clock, store=recovery.paper_store(mode.mode))
    core = SessionCore(
        resolved=resolved,
        mode=mode,
        env=env,
        run_dir=run_dir,
        ledger=ledger,
        recovery=recovery,
        clock=clock,
        advance=clock.advance_to,
        instruments=instruments,
        wiring=VenueWiring.single(venue),
        session_id=session_id,
        strategy=strategy,
    )
    recovery.warm_quotes(data.events, start, core.quotes)
    core.announce(identities, note="replay", resume_index=start)
    for i, bad in enumerate(data.bad_rows):
        if i >= _BAD_ROW_TELEMETRY_LIMIT:
            break
        core.telemetry.emit("bad_row", clock.now_ms(), file=bad.file, line=bad.line, reason=bad.reason)
    await core.begin(data.first_ts_ms)
    events = data.events
    end_reason = await core.run(
        lambda: _replay_loop(core, venue, clock, events, start, realtime=options.realtime, progress=progress),
        error_kind="strategy_error",
        end_reason="end of data",
    )
    facts = InputFacts(list(data.inputs), list(data.symbols), len(data.bad_rows), data.data_span_secs)
    return await core.finish(end_reason, facts)


async def _replay_loop(
    core: SessionCore,
    venue: PaperVenue | ShadowVenue,
    clock: ReplayClock,
    events: list[Quote | Trade],
    start: int,
    *,
    realtime: float | None,
    progress: ProgressCallback | None,
) -> None:
    """Feed ``events[start:]`` to the venue and the strategy in order, at replayed time (the hot path)."""
    strategy, ctx, engine, risk, metrics = core.strategy, core.ctx, core.engine, core.risk, core.metrics
    on_quote, on_trade = strategy.on_quote, strategy.on_trade
    venue_quote, venue_trade = venue.on_quote, venue.on_trade
    cache_update = core.quotes.update
    deliver_fills = core.deliver_fills
    advance = clock.advance_to
    heartbeat_ms = core.resolved.config.telemetry.heartbeat_interval_ms
    total = len(events)
    next_heartbeat = events[0].ts_event_ms + heartbeat_ms if events else 0
    progress_every = 5000
    quotes = sum(1 for e in events[:start] if type(e) is Quote)
    trades = start - quotes
    mark = core.recovery.cursor_mark()
    maintenance = core.recovery.maintenance
    next_maintenance = maintenance.next_due_ms if maintenance is not None else 2**62
    pace_start_ms = events[start].ts_event_ms if start < total else 0
    pace_wall = monotonic_secs()
    # The per-event path avoids method calls where an attribute test says "nothing to do":
    # risk checks run only when a heartbeat is due, and the service step only after
    # something that can need it (a dispatch, delivered fills or a heartbeat).
    for index in range(start, total):
        event = events[index]
        ts = event.ts_event_ms
        if mark is not None:
            mark(index)
        touched = False
        if ts >= risk.next_check_ms:
            risk.before_event(ts)
            touched = True
        advance(ts)
        if realtime:
            delay = (ts - pace_start_ms) / 1000 / realtime - (monotonic_secs() - pace_wall)
            if delay > 0:
                await asyncio.sleep(delay)
        if type(event) is Quote:
            quotes += 1
            cache_update(event)
            venue_quote(event)
            if engine._new_fills:
                deliver_fills()
                touched = True
            on_quote(ctx, event)
        else:
            trades += 1
            venue_trade(event)  # type: ignore[arg-type]
            if engine._new_fills:
                deliver_fills()
                touched = True
            on_trade(ctx, event)  # type: ignore[arg-type]
        while engine._pending_submits or engine._pending_cancels:
            await engine.dispatch()
            deliver_fills()
            touched = True
        if touched and risk.needs_service(engine):
            await risk.service(engine)
        if ts >= next_maintenance and maintenance is not None:
            await maintenance.run(ts)
            next_maintenance = maintenance.next_due_ms
            if risk.needs_service(engine):  # drift may have tripped the kill switch
                await risk.service(engine)
        if ts >= next_heartbeat:
            metrics.quotes, metrics.trades = quotes, trades
            core.heartbeat(ts)
            next_heartbeat = ts + heartbeat_ms
        if progress is not None and index % progress_every == 0:
            progress(index, total)
    metrics.quotes, metrics.trades = quotes, trades
    if progress is not None:
        progress(total, total)


def _run_inputs(options: RunOptions) -> dict[str, Any]:
    """Return what ``livegate run --resume`` needs to load the same data again."""
    return {
        "quotes": None if options.quotes is None else str(options.quotes.resolve()),
        "trades": None if options.trades is None else str(options.trades.resolve()),
        "capture": None if options.capture is None else str(options.capture.resolve()),
    }


def run(options: RunOptions, env: Mapping[str, str], progress: ProgressCallback | None = None) -> SessionResult:
    """Resolve config and mode, then run the session to completion (blocking)."""
    resolved, mode = prepare(options, env)
    if mode.mode not in (Mode.PAPER, Mode.SHADOW):
        raise ConfigError(f"mode {mode.mode.value} needs a real venue; replayed data runs in paper or shadow")
    return asyncio.run(run_replay_session(options, env, resolved=resolved, mode=mode, progress=progress))
