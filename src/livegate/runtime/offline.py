"""Operator tools on a run directory while no session runs: ``livegate reconcile`` and ``livegate flatten``.

Both rebuild livegate's view from the ledger (:mod:`livegate.runtime.resume`) and open
the paper venue from its own store, which plays the exchange between sessions. Shadow
runs keep no venue state, so there is nothing to compare or close.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from livegate.config.instruments import resolve_instruments
from livegate.config.loader import ResolvedConfig
from livegate.config.paths import state_dir
from livegate.domain.clock import ReplayClock
from livegate.domain.decisions import Decision
from livegate.domain.enums import Mode, Side
from livegate.domain.errors import ConfigError
from livegate.domain.instruments import Instrument
from livegate.domain.market import Quote
from livegate.execution.engine import ExecutionEngine
from livegate.ledger.store import Ledger
from livegate.marketdata.quote_cache import QuoteCache
from livegate.marketdata.replay import load_replay
from livegate.reconcile.drift import DRIFT_FILE, DriftLog
from livegate.reconcile.reconciler import LedgerFillIndex, Reconciler, ReconcileResult
from livegate.risk.gate import RiskContext
from livegate.risk.killswitch import KillSwitch
from livegate.risk.pipeline import RiskPipeline
from livegate.risk.state_store import TradingStateStore
from livegate.runtime.compose import build_gates, build_risk_parts, build_venue
from livegate.runtime.flatten import FLATTEN_STRATEGY_ID, flatten_positions
from livegate.runtime.resume import RebuiltSession, read_run_inputs, rebuild_from_ledger, resolved_from_run_dir
from livegate.telemetry.writer import TelemetryWriter
from livegate.venues.paper import PaperVenue
from livegate.venues.paper_store import PAPER_STORE_FILE, PaperStore


@dataclass(slots=True)
class OfflineRun:
    """A run directory opened for an operator command."""

    run_dir: Path
    resolved: ResolvedConfig
    ledger: Ledger
    rebuilt: RebuiltSession
    venue: PaperVenue
    instruments: dict[str, Instrument]
    clock: ReplayClock

    def close(self) -> None:
        """Close the ledger."""
        self.ledger.close()


def open_run(run_dir: Path) -> OfflineRun:
    """Open ``run_dir``'s ledger, rebuild its book and reopen its paper venue.

    Raises
    ------
    ConfigError
        If it is not a run directory, or not a paper run (exit 2).
    DataError
        If the ledger or the store cannot be read.
    """
    if not (run_dir / "ledger.sqlite").is_file():
        raise ConfigError(f"{run_dir}: no ledger.sqlite; not a run directory")
    resolved, mode = resolved_from_run_dir(run_dir)
    if mode != Mode.PAPER.value or not (run_dir / PAPER_STORE_FILE).is_file():
        raise ConfigError(f"{run_dir}: a {mode} run keeps no venue state to reconcile or flatten (paper runs only)")
    ledger = Ledger.open(run_dir / "ledger.sqlite", synchronous=resolved.config.ledger.synchronous)
    rebuilt = rebuild_from_ledger(ledger)
    store = PaperStore.open(run_dir / PAPER_STORE_FILE)
    state = store.load()
    symbols = sorted({o.symbol for o in rebuilt.portfolio.all_orders()} | {o.symbol for o in state.orders})
    instruments = resolve_instruments(resolved.config, symbols)
    clock = ReplayClock(rebuilt.last_ts_ms)
    venue = build_venue(Mode.PAPER, resolved.config, instruments, clock, store=store)
    if not isinstance(venue, PaperVenue):  # build_venue returns paper for Mode.PAPER
        raise ConfigError(f"{run_dir}: could not reopen the paper venue")
    return OfflineRun(run_dir, resolved, ledger, rebuilt, venue, instruments, clock)


async def reconcile_run(run: OfflineRun, *, dry_run: bool) -> ReconcileResult:
    """Compare the run's ledger with its paper venue; unless ``dry_run``, append to ``reconcile_drift.jsonl``.

    Raises
    ------
    ReconcileIncomplete
        If the venue cannot be read.
    """
    index = LedgerFillIndex(run.ledger)
    reconciler = Reconciler(
        venue=run.venue,
        portfolio=run.rebuilt.portfolio,
        config=run.resolved.config.reconcile,
        clock=run.clock,
        currency_of={s: i.quote_currency for s, i in run.instruments.items()},
        fill_ids=index.ids,
        balance_baseline=run.rebuilt.balance_baseline,
        drift_log=None if dry_run else DriftLog(run.run_dir / DRIFT_FILE),
    )
    return await reconciler.reconcile("operator")


@dataclass(frozen=True, slots=True)
class FlattenStep:
    """One position to close: reduce-only market IOC on ``side`` for ``quantity`` base units."""

    symbol: str
    position: Decimal
    venue_position: Decimal
    side: Side
    quantity: Decimal


async def flatten_plan(run: OfflineRun) -> list[FlattenStep]:
    """Return the reduce-only orders that would close every position livegate holds."""
    at_venue = {p.symbol: p.quantity for p in await run.venue.positions()}
    steps = []
    for position in run.rebuilt.portfolio.positions():
        if position.quantity == 0:
            continue
        side = Side.SELL if position.quantity > 0 else Side.BUY
        steps.append(
            FlattenStep(
                position.symbol,
                position.quantity,
                at_venue.get(position.symbol, Decimal(0)),
                side,
                abs(position.quantity),
            )
        )
    return steps


async def flatten_run(run: OfflineRun, steps: list[FlattenStep], env: Mapping[str, str]) -> list[Decision]:
    """Send the plan through the risk pipeline (reduce-only is allowed while HALTED) and the engine.

    The paper venue trades against the last quote of the run's data. Every intent,
    decision and fill goes to the run's ledger; the trading state comes from the state dir.
    """
    quotes = QuoteCache()
    last = _last_quotes(run.run_dir, run.resolved)
    for quote in last.values():
        quotes.update(quote)
        run.clock.advance_to(quote.ts_event_ms)
        run.venue.on_quote(quote)
    config = run.resolved.config
    kill = KillSwitch(TradingStateStore(state_dir(env)), run.clock, actor="livegate flatten")
    parts = build_risk_parts(config, kill)
    portfolio = run.rebuilt.portfolio
    ctx = RiskContext(instruments=run.instruments, quotes=quotes, portfolio=portfolio, clock=run.clock)
    pipeline = RiskPipeline(build_gates(config, Mode.PAPER, parts), ctx)
    telemetry = TelemetryWriter(run.run_dir / "telemetry.jsonl", append=True)
    engine = ExecutionEngine(
        pipeline=pipeline,
        ledger=run.ledger,
        telemetry=telemetry,
        portfolio=portfolio,
        venues={run.venue.name: run.venue},
        router=lambda _intent: run.venue.name,
        clock=run.clock,
        session_id=run.rebuilt.session_id,
        strategy_name=FLATTEN_STRATEGY_ID,
        first_seq=run.rebuilt.next_seq,
    )
    try:
        decisions = await flatten_positions(engine, kill, [(s.symbol, s.position) for s in steps], run.clock.now_ms)
    finally:
        telemetry.close()
    return decisions


def _last_quotes(run_dir: Path, resolved: ResolvedConfig) -> dict[str, Quote]:
    inputs = read_run_inputs(run_dir)
    quotes, trades, capture = (
        None if inputs.get(k) is None else Path(str(inputs[k])) for k in ("quotes", "trades", "capture")
    )
    if quotes is None and trades is None and capture is None:
        from livegate.runtime.session import bundled_sample

        quotes, trades = bundled_sample()
    data = load_replay(quotes=quotes, trades=trades, capture=capture, venue=resolved.config.venue.name)
    last: dict[str, Quote] = {}
    for event in reversed(data.events):
        if type(event) is Quote and event.symbol not in last:
            last[event.symbol] = event
    return last
