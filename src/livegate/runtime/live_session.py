"""A session on a venue's market-data stream: shadow, paper, testnet, canary or live.

Same pipeline, engine, ledger, telemetry and run-directory artifacts as the replayed
session (:mod:`livegate.runtime.session`); what differs is chosen here, once, by the
mode (STYLE.md: no ``if mode`` in hot paths):

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
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from livegate.config.loader import ResolvedConfig
from livegate.config.models import LivegateConfig
from livegate.domain.clock import Clock, monotonic_secs
from livegate.domain.decisions import Approved, Denied
from livegate.domain.enums import Mode
from livegate.domain.errors import ConfigError
from livegate.domain.ids import session_id_for
from livegate.domain.instruments import Instrument
from livegate.domain.market import Quote, Trade
from livegate.domain.orders import OrderIntent
from livegate.execution.context import EngineContext
from livegate.execution.engine import ExecutionEngine
from livegate.ledger import events as ev
from livegate.ledger.store import Ledger
from livegate.marketdata.quote_cache import QuoteCache
from livegate.marketdata.replay import ReplayData
from livegate.modes.canary import CanaryRampGate, CanaryRouter
from livegate.modes.market_hours import MarketHours, market_hours_for
from livegate.modes.resolve import ModeResolution, gate_line
from livegate.portfolio import Portfolio
from livegate.risk.gate import Gate, RiskContext
from livegate.risk.pipeline import RiskPipeline
from livegate.runtime.artifacts import build_info, default_run_dir, livegate_version, write_json, write_report
from livegate.runtime.compose import build_venue
from livegate.runtime.loop_parts import deliver_fills, emit_heartbeat
from livegate.runtime.session import RunOptions, SessionResult
from livegate.runtime.session_risk import SessionRisk, refuse_if_locked
from livegate.runtime.summary import SessionMetrics, build_summary
from livegate.strategy.api import Number, Strategy
from livegate.strategy.loader import load_strategy_class
from livegate.telemetry.writer import TelemetryWriter
from livegate.venues.base import MarketDataStream, SimulatedVenue, VenueAdapter
from livegate.venues.shadow import ShadowVenue

__all__ = ["CanaryContext", "LiveOptions", "LiveWiring", "compose_live", "run_live_session"]

log = logging.getLogger("livegate")

#: Seconds of clock time between two ``market closed; skipping cycle`` lines.
_CLOSED_LOG_EVERY_MS = 60_000
SHADOW_VENUE = "shadow"


@dataclass(frozen=True, slots=True)
class LiveOptions:
    """The ``livegate run`` options of real-venue sessions and the live gate.

    Parameters
    ----------
    enable_live:
        ``--enable-live``, the CLI arming key.
    fallback_shadow:
        ``--fallback-shadow``: run shadow instead of refusing when the gate refuses.
    ignore_market_hours:
        ``--ignore-market-hours``: trade through a closed calendar.
    venue:
        ``--venue``: overrides ``[venue] name`` (e.g. ``fake:demo``).
    symbols:
        ``--symbol`` (repeatable): overrides ``[venue] symbols``.
    max_events:
        Stop after this many market-data events (None: until the stream ends).
    """

    enable_live: bool = False
    fallback_shadow: bool = False
    ignore_market_hours: bool = False
    venue: str | None = None
    symbols: tuple[str, ...] = ()
    max_events: int | None = None


@dataclass(slots=True)
class LiveWiring:
    """What the mode picked: trading venues, router, extra gates and the canary router."""

    venues: dict[str, VenueAdapter]
    router: Callable[[OrderIntent], str]
    extra_gates: list[Gate] = field(default_factory=list)
    canary: CanaryRouter | None = None
    fed_venues: list[SimulatedVenue] = field(default_factory=list)


class CanaryContext(EngineContext):
    """The strategy context of a canary session: live-routed intents are scaled down.

    The router's rule is deterministic in the intent sequence, so the context can tell
    before the intent is built whether it will go live, and size it at
    ``[canary] size_multiplier`` rounded down to the lot.
    """

    def __init__(self, *, canary: CanaryRouter, engine: ExecutionEngine, **kwargs: Any) -> None:
        super().__init__(engine=engine, **kwargs)
        self._canary = canary
        self._canary_engine = engine

    def submit_order(
        self,
        *,
        symbol: str,
        side: str,
        quantity: Number,
        order_type: str = "limit",
        price: Number | None = None,
        time_in_force: str = "gtc",
        post_only: bool = False,
        reduce_only: bool = False,
    ) -> Approved | Denied:
        """Scale the quantity of a live-routed intent, then submit as usual."""
        seq = self._canary_engine.next_seq
        if isinstance(quantity, Decimal | int | str) and not isinstance(quantity, bool):
            if self._canary.goes_live(self._strategy_id, seq):
                quantity = self._canary.live_quantity(Decimal(quantity), self.instrument(symbol))
        return super().submit_order(
            symbol=symbol,
            side=side,
            quantity=quantity,
            order_type=order_type,
            price=price,
            time_in_force=time_in_force,
            post_only=post_only,
            reduce_only=reduce_only,
        )


def _shadow(adapter: VenueAdapter, cfg: LivegateConfig, instruments: dict[str, Instrument], clock: Clock) -> LiveWiring:
    venue = ShadowVenue(instruments, clock, name=SHADOW_VENUE)
    return LiveWiring(venues={venue.name: venue}, router=lambda _i: venue.name, fed_venues=[venue])


def _paper(adapter: VenueAdapter, cfg: LivegateConfig, instruments: dict[str, Instrument], clock: Clock) -> LiveWiring:
    venue = build_venue(Mode.PAPER, cfg, instruments, clock)
    return LiveWiring(venues={venue.name: venue}, router=lambda _i: venue.name, fed_venues=[venue])


def _direct(adapter: VenueAdapter, cfg: LivegateConfig, instruments: dict[str, Instrument], clock: Clock) -> LiveWiring:
    return LiveWiring(venues={adapter.name: adapter}, router=lambda _i: adapter.name)


_WIRING = {Mode.SHADOW: _shadow, Mode.PAPER: _paper, Mode.TESTNET: _direct, Mode.LIVE: _direct}


def compose_live(
    mode: Mode,
    cfg: LivegateConfig,
    adapter: VenueAdapter,
    instruments: dict[str, Instrument],
    clock: Clock,
    session_id: str,
) -> LiveWiring:
    """Return the venues, router and extra gates for ``mode`` (decided once, here).

    Raises
    ------
    ConfigError
        If canary has no ramp cap (the live gate refuses that earlier).
    """
    if mode is not Mode.CANARY:
        return _WIRING[mode](adapter, cfg, instruments, clock)
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
    return LiveWiring(
        venues={adapter.name: adapter, shadow.name: shadow},
        router=router.route,
        extra_gates=[CanaryRampGate(router, canary_cfg.max_live_notional_usd_per_day)],
        canary=router,
        fed_venues=[shadow],
    )


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
) -> SessionResult:
    """Run the strategy on ``adapter``'s market-data stream until it ends; write the run directory.

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
        return await _run(options, live, resolved, mode, adapter, adapter, clock, instruments, hours, env)
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
) -> SessionResult:
    cfg = resolved.config
    strategy_cls = load_strategy_class(cfg.strategy.spec)
    strategy: Strategy = strategy_cls(**cfg.strategy.params)
    strategy_name = getattr(strategy, "name", strategy_cls.__name__)
    started_ms = clock.now_ms()
    session_id = session_id_for(str(cfg.seed), resolved.config_hash, cfg.strategy.spec, adapter.name, str(started_ms))
    wiring = compose_live(mode.mode, cfg, adapter, instruments, clock, session_id)

    run_dir = options.out or default_run_dir(mode.mode.value)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_json(
        run_dir / "config_resolved.json",
        {**resolved.to_record(), "mode": {"value": mode.mode.value, "source": mode.source}},
    )
    write_json(run_dir / "build_info.json", build_info())
    (run_dir / "kill_events.jsonl").touch()
    ledger = Ledger.open(run_dir / "ledger.sqlite", synchronous=cfg.ledger.synchronous)
    telemetry = TelemetryWriter(run_dir / "telemetry.jsonl")
    portfolio = Portfolio()
    quote_cache = QuoteCache()
    risk_ctx = RiskContext(instruments=instruments, quotes=quote_cache, portfolio=portfolio, clock=clock)
    risk = SessionRisk(
        config=cfg,
        env=env,
        clock=clock,
        advance=None,
        quotes=quote_cache,
        portfolio=portfolio,
        instruments=instruments,
        ledger=ledger,
        telemetry=telemetry,
        run_dir=run_dir,
        session_id=session_id,
        report_anomaly=lambda kind, detail: on_anomaly(kind, detail),
    )
    pipeline = RiskPipeline([*risk.gates(mode.mode), *wiring.extra_gates], risk_ctx)
    engine = ExecutionEngine(
        pipeline=pipeline,
        ledger=ledger,
        telemetry=telemetry,
        portfolio=portfolio,
        venues=wiring.venues,
        router=wiring.router,
        clock=clock,
        session_id=session_id,
        strategy_name=strategy_name,
    )
    anomalies: list[dict[str, str]] = []

    def on_anomaly(kind: str, detail: str) -> None:
        anomalies.append({"kind": kind, "detail": detail})
        telemetry.emit("anomaly", clock.now_ms(), anomaly_kind=kind, detail=detail)
        if kind != "ledger_write_failed":
            ledger.append(ev.ANOMALY, clock.now_ms(), {"kind": kind, "detail": detail})
        risk.on_anomaly(kind, detail)

    engine.add_anomaly_handler(on_anomaly)
    ctx_args: dict[str, Any] = {
        "engine": engine,
        "portfolio": portfolio,
        "quotes": quote_cache,
        "instruments": instruments,
        "clock": clock,
        "strategy_id": strategy_name,
    }
    ctx = EngineContext(**ctx_args) if wiring.canary is None else CanaryContext(canary=wiring.canary, **ctx_args)
    inputs = [f"stream:{adapter.name}"]
    log.info(gate_line(mode.mode, "PASS", mode.note or f"stream from {adapter.name}", mode.source))
    ledger.append(
        ev.SESSION_STARTED,
        clock.now_ms(),
        {
            "session_id": session_id,
            "mode": mode.mode.value,
            "seed": cfg.seed,
            "config_hash": resolved.config_hash,
            "inputs": inputs,
            "strategy": cfg.strategy.spec,
            "livegate_version": livegate_version(),
            "venues": sorted(wiring.venues),
        },
    )
    telemetry.emit("session_started", clock.now_ms(), mode=mode.mode.value, session_id=session_id, inputs=inputs)
    risk.start()
    metrics = SessionMetrics()
    started = monotonic_secs()
    end_reason = "end of stream"
    first_ms = last_ms = 0
    try:
        strategy.on_start(ctx)
        await engine.dispatch()
        first_ms, last_ms = await _stream_loop(
            stream, list(instruments), strategy, ctx, engine, wiring, quote_cache, clock, telemetry, portfolio,
            metrics, hours, risk, heartbeat_ms=cfg.telemetry.heartbeat_interval_ms, max_events=live.max_events,
        )  # fmt: skip
        strategy.on_stop(ctx)
    except Exception as exc:  # a strategy or stream failure ends the session with its artifacts written
        end_reason = f"session error: {exc!r}"
        log.exception("session loop raised; ending the session")
        on_anomaly("session_error", repr(exc))
    for order in portfolio.working_orders():
        engine.request_cancel(order.client_order_id, "session end")
    if engine.has_pending:
        await engine.dispatch()
    if risk.needs_service(engine):
        await risk.service(engine)
    wall_secs = monotonic_secs() - started
    metrics.observe_equity(portfolio.equity_pnl(quote_cache.mid))
    ledger.append(ev.SESSION_ENDED, clock.now_ms(), {"reason": end_reason})
    data = ReplayData(
        events=[],
        quotes=metrics.quotes,
        trades=metrics.trades,
        bad_rows=[],
        skipped_messages=0,
        inputs=inputs,
        first_ts_ms=first_ms,
        last_ts_ms=last_ms,
        data_span_secs=(last_ms - first_ms) / 1000,
        symbols=sorted(instruments),
    )
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
        anomalies=len(anomalies),
    )
    summary["venue"] = adapter.name
    summary["trading_state"] = risk.summary()
    if wiring.canary is not None:
        by_venue = engine.stats.orders_by_venue
        summary["canary_live_orders"] = by_venue.get(wiring.canary.live_venue, 0)
        summary["canary_shadow_orders"] = by_venue.get(wiring.canary.shadow_venue, 0)
    telemetry.emit(
        "session_ended",
        clock.now_ms(),
        quotes_processed=metrics.quotes,
        trades_processed=metrics.trades,
        bad_rows=0,
        fills=engine.stats.fills,
    )
    telemetry.close()
    ledger.close()
    write_json(run_dir / "summary.json", summary)
    write_report(run_dir / "report.html", summary)
    exit_code = 1 if end_reason.startswith("session error") else (3 if anomalies or risk.not_clean else 0)
    return SessionResult(run_dir=run_dir, summary=summary, exit_code=exit_code, anomalies=anomalies)


async def _stream_loop(
    adapter: MarketDataStream,
    symbols: list[str],
    strategy: Strategy,
    ctx: EngineContext,
    engine: ExecutionEngine,
    wiring: LiveWiring,
    quote_cache: QuoteCache,
    clock: Clock,
    telemetry: TelemetryWriter,
    portfolio: Portfolio,
    metrics: SessionMetrics,
    hours: MarketHours,
    risk: SessionRisk,
    *,
    heartbeat_ms: int,
    max_events: int | None,
) -> tuple[int, int]:
    """Drive the strategy from the stream; return the first and last event times (ms)."""
    fed_quote = [v.on_quote for v in wiring.fed_venues]
    fed_trade = [v.on_trade for v in wiring.fed_venues]
    first_ms = last_ms = 0
    next_heartbeat = 0
    closed_logged_ms: int | None = None
    count = 0
    async for event in adapter.stream_market_data(symbols):
        count += 1
        risk.before_event(clock.now_ms())
        last_ms = event.ts_event_ms
        first_ms = first_ms or last_ms
        if isinstance(event, Quote):
            metrics.quotes += 1
            quote_cache.update(event)
            for on_quote in fed_quote:
                on_quote(event)
        else:
            metrics.trades += 1
            for on_trade in fed_trade:
                on_trade(event)
        deliver_fills(strategy, ctx, engine)
        now = clock.now_ms()
        if not hours.is_open(now):
            if closed_logged_ms is None or now - closed_logged_ms >= _CLOSED_LOG_EVERY_MS:
                log.info("market closed; skipping cycle")
                closed_logged_ms = now
        else:
            closed_logged_ms = None
            _call_strategy(strategy, ctx, event)
            while engine.has_pending:
                await engine.dispatch()
                deliver_fills(strategy, ctx, engine)
        if risk.needs_service(engine):
            await risk.service(engine)
        if now >= next_heartbeat:
            if engine.ambiguous_orders:
                await engine.resolve_ambiguous()
            emit_heartbeat(telemetry, now, metrics, engine, portfolio, quote_cache)
            next_heartbeat = now + heartbeat_ms
        if max_events is not None and count >= max_events:
            break
    return first_ms, last_ms


def _call_strategy(strategy: Strategy, ctx: EngineContext, event: Quote | Trade) -> None:
    if isinstance(event, Quote):
        strategy.on_quote(ctx, event)
    else:
        strategy.on_trade(ctx, event)
