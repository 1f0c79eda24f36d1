"""A session on replayed data: stream the data, pick the simulated venue, replay it through the session loop.

Everything else is composed by :mod:`livegate.runtime.core`, the same path the
venue-stream session takes, and the events run through the one session loop
(:mod:`livegate.runtime.loop`, :class:`~livegate.runtime.sources.ReplaySource`). The mode
picks the venue adapter here, once (STYLE.md: no ``if mode`` in hot paths): paper or shadow.
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
from livegate.control.resume import write_run_inputs
from livegate.control.session_risk import refuse_if_locked
from livegate.domain.clock import ReplayClock
from livegate.domain.enums import Mode
from livegate.domain.errors import ConfigError
from livegate.marketdata.stream import ReaderProcess, ReplayStream
from livegate.modes.resolve import ModeResolution, resolve_mode
from livegate.runtime.artifacts import default_run_dir
from livegate.runtime.compose import build_venue
from livegate.runtime.core import SessionCore, SessionResult, VenueWiring, fresh_session_id, load_strategy, open_session
from livegate.runtime.replay_start import skip_processed
from livegate.runtime.sources import ReplaySource
from livegate.runtime.summary import InputFacts

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
    http: str | None = None
    reader_process: ReaderProcess = ReaderProcess.AUTO


def bundled_sample() -> tuple[Path, Path]:
    """Return the bundled Binance USD-M BTCUSDT 2024-08-08 quotes and trades (MIT, hftbacktest)."""
    root = resources.files("livegate") / "data"
    quotes = Path(str(root / "binance_usdm_btcusdt_20240808_quotes.csv.gz"))
    trades = Path(str(root / "binance_usdm_btcusdt_20240808_trades.csv.gz"))
    return quotes, trades


def prepare(options: RunOptions, env: Mapping[str, str]) -> tuple[ResolvedConfig, ModeResolution]:
    """Load the config and resolve the mode (raises ConfigError on bad input)."""
    cli: dict[str, Any] = {"seed": options.seed, "strategy.spec": options.strategy, "http.bind": options.http}
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
    stream: ReplayStream | None = None,
    on_ready: Callable[[], None] | None = None,
) -> SessionResult:
    """Run one session over replayed data and write the run directory.

    The data is read while it is replayed (:class:`~livegate.marketdata.stream.ReplayStream`):
    memory does not grow with the input's length. ``on_ready`` is called once the session
    is rebuilt (a resume) and reconciled, before its first market event.

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
    if stream is None:
        quotes, trades, capture = options.quotes, options.trades, options.capture
        if quotes is None and trades is None and capture is None:
            quotes, trades = bundled_sample()
        stream = ReplayStream(
            quotes=quotes,
            trades=trades,
            capture=capture,
            venue=cfg.venue.name,
            hash_inputs=True,
            reader_process=options.reader_process,
        )
    try:
        instruments = resolve_instruments(cfg, list(stream.symbols))
        strategy = load_strategy(resolved)
        run_dir = options.out or default_run_dir(mode.mode.value)
        ledger, recovery = open_session(run_dir, resolved, mode, env, resume=options.resume)
        if not options.resume:
            write_run_inputs(run_dir, _run_inputs(options))
        cursor, last_ts_ms = recovery.resume_point()
        begin = skip_processed(stream.blocks(), cursor, last_ts_ms)
        clock = ReplayClock(begin.first_ts_ms)
        if begin.last_skipped_ts_ms is not None:
            clock.advance_to(begin.last_skipped_ts_ms)
        recovery.open_cursor(begin.start)
        identities = stream.content_digests()  # content, not paths (issue 9 item 12)
        session_id = recovery.session_id(fresh_session_id(resolved, *identities))
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
        for quote in begin.last_quotes.values():  # marks for a resumed run
            core.quotes.update(quote)
        core.announce(identities, note="replay", resume_index=begin.start)
        await core.begin(begin.first_ts_ms)
        if on_ready is not None:
            on_ready()
        source = ReplaySource(
            begin.blocks,
            begin.start,
            clock,
            total=stream.rows,
            first_ts_ms=begin.first_ts_ms,
            skipped_quotes=begin.quotes,
            skipped_trades=begin.trades,
            realtime=options.realtime,
            progress=progress,
            cursor=core.recovery.cursor_slot(),
        )
        end_reason = await core.run(source, error_kind="strategy_error", end_reason="end of data")
        for bad in stream.bad_rows[:_BAD_ROW_TELEMETRY_LIMIT]:
            core.telemetry.emit("bad_row", clock.now_ms(), file=bad.file, line=bad.line, reason=bad.reason)
        facts = InputFacts(list(stream.inputs), list(stream.symbols), stream.bad_row_count, stream.data_span_secs)
        return await core.finish(end_reason, facts)
    finally:
        stream.close()  # the reader processes of inputs not read to the end (a stop, a kill, an error)


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
