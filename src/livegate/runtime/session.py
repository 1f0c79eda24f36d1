"""The composition root of a replayed session: wire data, strategy, pipeline, venue, ledger.

The mode picks the venue adapter here, once (STYLE.md: no ``if mode`` in hot paths).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from livegate.config.instruments import resolve_instruments
from livegate.config.loader import ResolvedConfig, load_config
from livegate.domain.clock import ReplayClock, monotonic_secs
from livegate.domain.enums import Mode
from livegate.domain.ids import session_id_for
from livegate.domain.market import Quote, Trade
from livegate.execution.context import EngineContext
from livegate.execution.engine import ExecutionEngine
from livegate.ledger import events as ev
from livegate.ledger.store import Ledger
from livegate.marketdata.quote_cache import QuoteCache
from livegate.marketdata.replay import ReplayData, load_replay
from livegate.modes.resolve import ModeResolution, gate_line, resolve_mode
from livegate.portfolio import Portfolio
from livegate.risk.gate import RiskContext
from livegate.risk.pipeline import RiskPipeline
from livegate.runtime.artifacts import build_info, default_run_dir, livegate_version, write_json, write_report
from livegate.runtime.compose import build_venue
from livegate.runtime.loop_parts import deliver_fills as _deliver_fills
from livegate.runtime.loop_parts import emit_heartbeat as _heartbeat
from livegate.runtime.recovery import SessionRecovery
from livegate.runtime.resume import write_run_inputs
from livegate.runtime.session_risk import SessionRisk, refuse_if_locked
from livegate.runtime.summary import SessionMetrics, build_summary
from livegate.strategy.api import Strategy
from livegate.strategy.loader import load_strategy_class
from livegate.telemetry.writer import TelemetryWriter

log = logging.getLogger("livegate")

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


@dataclass(slots=True)
class SessionResult:
    """What a finished session produced."""

    run_dir: Path
    summary: dict[str, Any]
    exit_code: int
    anomalies: list[dict[str, str]] = field(default_factory=list)


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
    """
    cfg = resolved.config
    refuse_if_locked(env)
    if data is None:
        quotes, trades, capture = options.quotes, options.trades, options.capture
        if quotes is None and trades is None and capture is None:
            quotes, trades = bundled_sample()
        data = load_replay(quotes=quotes, trades=trades, capture=capture, venue=cfg.venue.name)
    symbols = list(data.symbols)
    instruments = resolve_instruments(cfg, symbols)
    strategy_cls = load_strategy_class(cfg.strategy.spec)
    strategy: Strategy = strategy_cls(**cfg.strategy.params)
    strategy_name = getattr(strategy, "name", strategy_cls.__name__)

    run_dir = options.out or default_run_dir(mode.mode.value)
    run_dir.mkdir(parents=True, exist_ok=True)
    session_id = session_id_for(str(cfg.seed), resolved.config_hash, cfg.strategy.spec, *data.inputs)
    write_json(
        run_dir / "config_resolved.json",
        {**resolved.to_record(), "mode": {"value": mode.mode.value, "source": mode.source}},
    )
    write_json(run_dir / "build_info.json", build_info())
    (run_dir / "kill_events.jsonl").touch()
    if not options.resume:
        write_run_inputs(run_dir, _run_inputs(options))

    clock = ReplayClock(data.first_ts_ms)
    ledger = Ledger.open(run_dir / "ledger.sqlite", synchronous=cfg.ledger.synchronous)
    recovery = SessionRecovery(run_dir, resume=options.resume, env=env, ledger=ledger)
    session_id = recovery.session_id(session_id)
    start = recovery.start_index(data.events, clock)
    telemetry = TelemetryWriter(run_dir / "telemetry.jsonl", append=options.resume)
    portfolio = recovery.portfolio()
    quote_cache = QuoteCache()
    recovery.warm_quotes(data.events, start, quote_cache)
    venue = build_venue(mode.mode, cfg, instruments, clock, store=recovery.paper_store(mode.mode))
    risk_ctx = RiskContext(instruments=instruments, quotes=quote_cache, portfolio=portfolio, clock=clock)
    risk = SessionRisk(
        config=cfg,
        env=env,
        clock=clock,
        advance=clock.advance_to,
        quotes=quote_cache,
        portfolio=portfolio,
        instruments=instruments,
        ledger=ledger,
        telemetry=telemetry,
        run_dir=run_dir,
        session_id=session_id,
        report_anomaly=lambda kind, detail: on_anomaly(kind, detail),
    )
    pipeline = RiskPipeline(recovery.with_gate(risk.gates(mode.mode)), risk_ctx)
    engine = ExecutionEngine(
        pipeline=pipeline,
        ledger=ledger,
        telemetry=telemetry,
        portfolio=portfolio,
        venues={venue.name: venue},
        router=lambda _intent: venue.name,
        clock=clock,
        session_id=session_id,
        strategy_name=strategy_name,
        first_seq=recovery.first_seq,
        crash_point=recovery.crash_point,
    )
    recovery.adopt(engine)
    metrics = SessionMetrics()
    anomalies: list[dict[str, str]] = []

    def on_anomaly(kind: str, detail: str) -> None:
        anomalies.append({"kind": kind, "detail": detail})
        telemetry.emit("anomaly", clock.now_ms(), anomaly_kind=kind, detail=detail)
        if kind != "ledger_write_failed":
            ledger.append(ev.ANOMALY, clock.now_ms(), {"kind": kind, "detail": detail})
        risk.on_anomaly(kind, detail)

    engine.add_anomaly_handler(on_anomaly)
    ctx = EngineContext(
        engine=engine,
        portfolio=portfolio,
        quotes=quote_cache,
        instruments=instruments,
        clock=clock,
        strategy_id=strategy_name,
    )
    log.info(gate_line(mode.mode, "PASS", mode.note or "replay", mode.source))
    if not recovery.record_start(ledger, clock.now_ms(), start):
        ledger.append(
            ev.SESSION_STARTED,
            clock.now_ms(),
            {
                "session_id": session_id,
                "mode": mode.mode.value,
                "seed": cfg.seed,
                "config_hash": resolved.config_hash,
                "inputs": list(data.inputs),
                "strategy": cfg.strategy.spec,
                "livegate_version": livegate_version(),
            },
        )
    telemetry.emit(
        "session_started", clock.now_ms(), mode=mode.mode.value, session_id=session_id, inputs=list(data.inputs)
    )
    for i, bad in enumerate(data.bad_rows):
        if i >= _BAD_ROW_TELEMETRY_LIMIT:
            break
        telemetry.emit("bad_row", clock.now_ms(), file=bad.file, line=bad.line, reason=bad.reason)
    risk.start()
    await recovery.startup(
        config=cfg.reconcile,
        mode=mode.mode,
        venue=venue,
        engine=engine,
        portfolio=portfolio,
        pipeline=pipeline,
        ledger=ledger,
        clock=clock,
        instruments=instruments,
        first_event_ms=data.first_ts_ms,
        day_zone=cfg.risk.day_boundary_tz,
        trip=lambda state, reason: risk.kill.trip(state, reason, "reconcile"),
        on_anomaly=on_anomaly,
    )

    started = monotonic_secs()
    end_reason = "end of data"
    try:
        strategy.on_start(ctx)
        await engine.dispatch()
        await _replay_loop(
            data.events,
            strategy,
            ctx,
            engine,
            venue,
            quote_cache,
            clock,
            telemetry,
            portfolio,
            metrics,
            heartbeat_ms=cfg.telemetry.heartbeat_interval_ms,
            realtime=options.realtime,
            progress=progress,
            risk=risk,
            start=start,
            recovery=recovery,
        )
        strategy.on_stop(ctx)
    except Exception as exc:
        end_reason = f"strategy error: {exc!r}"
        log.exception("strategy raised; ending the session")
        on_anomaly("strategy_error", repr(exc))
    if engine.has_pending:
        await engine.dispatch()
    if risk.needs_service(engine):
        await risk.service(engine)
    wall_secs = monotonic_secs() - started
    metrics.observe_equity(portfolio.equity_pnl(quote_cache.mid))
    ledger.append(ev.SESSION_ENDED, clock.now_ms(), {"reason": end_reason})
    summary = build_summary(
        mode=mode.mode.value,
        data=data,
        engine=engine,
        portfolio=portfolio,
        quotes=quote_cache,
        metrics=metrics,
        ledger_hash=ledger.head_hash,
        wall_secs=wall_secs,
        session_id=session_id,
        seed=cfg.seed,
        strategy=cfg.strategy.spec,
        anomalies=len(anomalies) + recovery.prior_anomalies,
    )
    telemetry.emit(
        "session_ended",
        clock.now_ms(),
        quotes_processed=metrics.quotes,
        trades_processed=metrics.trades,
        bad_rows=len(data.bad_rows),
        fills=engine.stats.fills,
    )
    summary["trading_state"] = risk.summary()
    telemetry.close()
    ledger.close()
    recovery.close()
    write_json(run_dir / "summary.json", summary)
    write_report(run_dir / "report.html", summary)
    exit_code = 1 if end_reason.startswith("strategy error") else (3 if anomalies or risk.not_clean else 0)
    return SessionResult(run_dir=run_dir, summary=summary, exit_code=exit_code, anomalies=anomalies)


async def _replay_loop(
    events: list[Quote | Trade],
    strategy: Strategy,
    ctx: EngineContext,
    engine: ExecutionEngine,
    venue: Any,
    quote_cache: QuoteCache,
    clock: ReplayClock,
    telemetry: TelemetryWriter,
    portfolio: Portfolio,
    metrics: SessionMetrics,
    *,
    heartbeat_ms: int,
    realtime: float | None,
    progress: ProgressCallback | None,
    risk: SessionRisk | None = None,
    start: int = 0,
    recovery: SessionRecovery | None = None,
) -> None:
    on_quote, on_trade = strategy.on_quote, strategy.on_trade
    venue_quote, venue_trade = venue.on_quote, venue.on_trade
    cache_update = quote_cache.update
    advance = clock.advance_to
    total = len(events)
    next_heartbeat = events[0].ts_event_ms + heartbeat_ms if events else 0
    progress_every = 5000
    quotes = sum(1 for e in events[:start] if type(e) is Quote)
    trades = start - quotes
    mark = recovery.cursor_mark() if recovery is not None else None
    maintenance = recovery.maintenance if recovery is not None else None
    next_maintenance = maintenance.next_due_ms if maintenance is not None else 2**62
    pace_start_ms = events[start].ts_event_ms if start < total else 0
    pace_wall = monotonic_secs()
    for index, event in enumerate(events[start:], start):
        ts = event.ts_event_ms
        if mark is not None:
            mark(index)
        if risk is not None:
            risk.before_event(ts)
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
                _deliver_fills(strategy, ctx, engine)
            on_quote(ctx, event)
        else:
            trades += 1
            venue_trade(event)
            if engine._new_fills:
                _deliver_fills(strategy, ctx, engine)
            on_trade(ctx, event)  # type: ignore[arg-type]
        while engine.has_pending:
            await engine.dispatch()
            _deliver_fills(strategy, ctx, engine)
        if risk is not None and risk.needs_service(engine):
            await risk.service(engine)
        if ts >= next_maintenance and maintenance is not None:
            await maintenance.run(ts)
            next_maintenance = maintenance.next_due_ms
        if ts >= next_heartbeat:
            metrics.quotes, metrics.trades = quotes, trades
            _heartbeat(telemetry, ts, metrics, engine, portfolio, quote_cache)
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
        from livegate.domain.errors import ConfigError

        raise ConfigError(f"mode {mode.mode.value} needs a real venue; replayed data runs in paper or shadow")
    return asyncio.run(run_replay_session(options, env, resolved=resolved, mode=mode, progress=progress))
