"""``livegate flatten`` and ``livegate cancel-all``: emergency work on a run directory or a venue (issue 9 §10).

On a run directory (:func:`livegate.runtime.offline.open_run`, lock held) both commands
build the run's risk pipeline and execution engine around its rebuilt book, so every
cancel, intent, decision and fill goes to the run's ledger (write-ahead) and the
trading state comes from the state dir. Flatten then runs
:func:`livegate.control.flatten.flatten_positions`: cancel first, reduce-only pieces at
the per-order cap, retried until flat or the timeout.

Directly against a venue (``--venue ADAPTER:VENUE``, no run directory) cancel-all asks
the venue to cancel every open order (native cancel-all where it has one, else one by
one) and polls its open orders until none remain or the timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from livegate.config.paths import state_dir
from livegate.control.flatten import FLATTEN_STRATEGY_ID, FlattenResult, cancel_working, flatten_positions, plan_for
from livegate.domain.clock import ReplayClock, WallClock, monotonic_secs
from livegate.domain.enums import Mode, Side
from livegate.domain.errors import ConfigError
from livegate.execution.engine import ExecutionEngine
from livegate.marketdata.quote_cache import QuoteCache
from livegate.risk.chain import build_gates, build_risk_parts
from livegate.risk.gate import RiskContext
from livegate.risk.killswitch import KillSwitch
from livegate.risk.pipeline import RiskPipeline
from livegate.risk.state_store import TradingStateStore
from livegate.runtime.offline import OfflineRun, connect_venue
from livegate.telemetry.writer import TelemetryWriter
from livegate.venues.paper import PaperVenue

__all__ = ["FlattenStep", "VenueCancelResult", "cancel_all_run", "cancel_all_venue", "flatten_run", "flatten_steps"]

_POLL_SECS = 0.05


@dataclass(frozen=True, slots=True)
class FlattenStep:
    """One position to close: reduce-only market IOC on ``side`` for ``quantity`` base units."""

    symbol: str
    position: Decimal
    venue_position: Decimal
    side: Side
    quantity: Decimal


async def flatten_steps(run: OfflineRun) -> list[FlattenStep]:
    """Return the positions livegate holds that flatten would close, with the venue's view of each."""
    at_venue = {p.symbol: p.quantity for p in await run.venue.positions()} if run.venue is not None else {}
    return [
        FlattenStep(
            p.symbol,
            p.quantity,
            at_venue.get(p.symbol, Decimal(0)),
            Side.SELL if p.quantity > 0 else Side.BUY,
            abs(p.quantity),
        )
        for p in run.rebuilt.portfolio.positions()
        if p.quantity != 0
    ]


class _Operator:
    """The run's pipeline and engine for an operator action (actor ``livegate <command>``)."""

    def __init__(self, run: OfflineRun, env: Mapping[str, str], command: str) -> None:
        if run.venue is None:
            raise ConfigError(f"{run.run_dir}: a {run.mode.value} run keeps no venue state")
        venue = run.venue
        config = run.resolved.config
        self.run = run
        self._loaded = False
        self.kill = KillSwitch(TradingStateStore(state_dir(env)), run.clock, actor=f"livegate {command}")
        self.quotes = QuoteCache()
        parts = build_risk_parts(config, self.kill)
        self.ctx = RiskContext(
            instruments=run.instruments, quotes=self.quotes, portfolio=run.rebuilt.portfolio, clock=run.clock
        )
        self.telemetry = TelemetryWriter(run.run_dir / "telemetry.jsonl", append=True)
        self.engine = ExecutionEngine(
            pipeline=RiskPipeline(build_gates(config, run.mode, parts), self.ctx),
            ledger=run.ledger,
            telemetry=self.telemetry,
            portfolio=run.rebuilt.portfolio,
            venues={venue.name: venue},
            router=lambda _intent: venue.name,
            clock=run.clock,
            session_id=run.rebuilt.session_id,
            strategy_name=FLATTEN_STRATEGY_ID,
            first_seq=run.rebuilt.next_seq,
        )

    async def refresh_quotes(self) -> None:
        """Load current quotes into the cache (and the paper venue's book); a paper run's are read once."""
        run = self.run
        if isinstance(run.venue, PaperVenue) and self._loaded:
            return
        self._loaded = True
        for quote in (await run.quotes()).values():
            self.quotes.update(quote)
            if isinstance(run.clock, ReplayClock):
                run.clock.advance_to(max(quote.ts_event_ms, run.clock.now_ms()))
            if isinstance(run.venue, PaperVenue):
                run.venue.on_quote(quote)


async def flatten_run(
    run: OfflineRun, env: Mapping[str, str], *, timeout_secs: float, retry_secs: float = 0.5
) -> FlattenResult:
    """Cancel the run's working orders, then close its positions round by round (see the module docstring).

    Each symbol is closed at most down to the venue's own position when the venue holds
    less than the ledger says (the rest is drift for ``livegate reconcile``).
    """
    operator = _Operator(run, env, "flatten")
    try:
        await operator.refresh_quotes()
        limits = None
        if run.venue is not None and run.venue.capabilities.positions:
            venue_positions = {p.symbol: p.quantity for p in await run.venue.positions()}
            limits = {s: venue_positions.get(s, Decimal(0)) for s in run.instruments}
        plan = plan_for(run.resolved.config, timeout_secs=timeout_secs, retry_secs=retry_secs)
        return await flatten_positions(
            operator.engine, operator.kill, operator.ctx, run.clock.now_ms, plan,
            limits=limits, refresh=operator.refresh_quotes,
        )  # fmt: skip
    finally:
        operator.telemetry.close()


async def cancel_all_run(run: OfflineRun, env: Mapping[str, str], *, timeout_secs: float) -> int:
    """Cancel every open order of the run's venue through the engine (recorded); return the open orders left."""
    operator = _Operator(run, env, "cancel-all")
    try:
        remaining = await cancel_working(operator.engine, "operator cancel-all", timeout_secs)
        await operator.engine.dispatch()
        return remaining
    finally:
        operator.telemetry.close()


@dataclass(frozen=True, slots=True)
class VenueCancelResult:
    """What cancel-all did at a venue: open orders found, cancel reports received, open orders left."""

    found: int
    cancelled: int
    remaining: int


async def cancel_all_venue(venue: str, mode: Mode, env: Mapping[str, str], *, timeout_secs: float) -> VenueCancelResult:
    """Cancel every open order at ``venue`` with ``mode``'s credentials; poll until none remain or the timeout.

    Raises
    ------
    ConfigError
        If credentials are missing or the adapter cannot be built.
    """
    adapter = await connect_venue(venue, mode, env, WallClock())
    try:
        found = len(await adapter.open_orders())
        started = monotonic_secs()
        cancelled = 0
        remaining = found
        while remaining:
            if adapter.capabilities.native_cancel_all:
                cancelled += len(await adapter.cancel_all(everything=True))  # outside orders too
            else:
                for order in await adapter.open_orders():
                    await adapter.cancel(order.client_order_id, order.symbol)
                    cancelled += 1
            remaining = len(await adapter.open_orders())
            if not remaining or monotonic_secs() - started >= timeout_secs:
                break
            await asyncio.sleep(_POLL_SECS)
        return VenueCancelResult(found, cancelled, remaining)
    finally:
        await adapter.close()
