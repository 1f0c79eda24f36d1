"""Pieces shared by the replayed and the live session loops: fill delivery and heartbeats."""

from __future__ import annotations

from decimal import Decimal

from livegate.execution.context import EngineContext
from livegate.execution.engine import ExecutionEngine
from livegate.marketdata.quote_cache import QuoteCache
from livegate.portfolio import Portfolio
from livegate.runtime.summary import SessionMetrics
from livegate.strategy.api import Strategy
from livegate.telemetry.writer import TelemetryWriter

__all__ = ["deliver_fills", "emit_heartbeat"]


def deliver_fills(strategy: Strategy, ctx: EngineContext, engine: ExecutionEngine) -> None:
    """Hand the fills that arrived since the last call to ``strategy.on_fill``, in arrival order."""
    for fill in engine.take_new_fills():
        strategy.on_fill(ctx, fill)


def emit_heartbeat(
    telemetry: TelemetryWriter,
    ts: int,
    metrics: SessionMetrics,
    engine: ExecutionEngine,
    portfolio: Portfolio,
    quotes: QuoteCache,
) -> None:
    """Observe equity (PnL in USD) and write one ``heartbeat`` telemetry line at clock time ``ts`` (ms)."""
    equity = portfolio.equity_pnl(quotes.mid)
    metrics.observe_equity(equity)
    telemetry.emit(
        "heartbeat",
        ts,
        quotes_processed=metrics.quotes,
        trades_processed=metrics.trades,
        intents=engine.stats.intents,
        fills=engine.stats.fills,
        open_orders=portfolio.working_count(),
        pnl_total_usd=equity if equity is not None else Decimal(0),
        drawdown_usd=metrics.drawdown,
    )
