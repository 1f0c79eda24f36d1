"""Build ``summary.json`` from the session's engine, portfolio and input statistics."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from livegate.execution.engine import ExecutionEngine
from livegate.marketdata.quote_cache import QuoteCache
from livegate.portfolio import Portfolio

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class InputFacts:
    """What a session read: input names, symbols, bad rows and the span of event time.

    Parameters
    ----------
    inputs:
        Input files of a replay, or ``stream:<venue>`` for a venue stream.
    symbols:
        Symbols the session saw or traded.
    bad_rows:
        Rows of the input that could not be parsed (0 for a stream).
    data_span_secs:
        Seconds between the first and the last event time.
    """

    inputs: list[str]
    symbols: list[str]
    bad_rows: int
    data_span_secs: float


@dataclass(slots=True)
class SessionMetrics:
    """Counters and the equity peak used for ``max_drawdown_usd``."""

    quotes: int = 0
    trades: int = 0
    peak_equity: Decimal = _ZERO
    drawdown: Decimal = _ZERO
    max_drawdown: Decimal = _ZERO

    def observe_equity(self, equity: Decimal | None) -> None:
        """Track peak equity (PnL, quote currency) and the deepest fall from it."""
        if equity is None:
            return
        if equity > self.peak_equity:
            self.peak_equity = equity
        self.drawdown = self.peak_equity - equity
        if self.drawdown > self.max_drawdown:
            self.max_drawdown = self.drawdown


def build_summary(
    *,
    mode: str,
    data: InputFacts,
    engine: ExecutionEngine,
    portfolio: Portfolio,
    quotes: QuoteCache,
    metrics: SessionMetrics,
    ledger_hash: str,
    wall_secs: float,
    session_id: str,
    seed: int,
    strategy: str,
    anomalies: int,
) -> dict[str, Any]:
    """Return the summary dict; money is exact decimal strings in USD (USDT as USD)."""
    stats = engine.stats
    unrealized = portfolio.unrealized_pnl(quotes.mid)
    realized = portfolio.realized_pnl()
    fees = portfolio.fees()
    total = None if unrealized is None else realized + unrealized - fees
    positions = {
        p.symbol: {
            "quantity": str(p.quantity),
            "average_price": str(p.average_price),
            "realized_pnl_usd": str(p.realized_pnl),
            "fees_usd": str(p.fees),
            "mark_price": None if quotes.mid(p.symbol) is None else str(quotes.mid(p.symbol)),
        }
        for p in portfolio.positions()
    }
    return {
        "mode": mode,
        "session_id": session_id,
        "seed": seed,
        "strategy": strategy,
        "inputs": list(data.inputs),
        "symbols": list(data.symbols),
        "quotes_processed": metrics.quotes,
        "trades_processed": metrics.trades,
        "bad_rows": data.bad_rows,
        "intents": stats.intents,
        "approved": stats.approved,
        "denied": dict(sorted(stats.denied.items())),
        "orders_submitted": stats.orders_submitted,
        "orders_by_venue": dict(sorted(stats.orders_by_venue.items())),
        "rejected": stats.rejected,
        "fills": stats.fills,
        "turnover_usd": str(portfolio.turnover()),
        "fees_usd": str(fees),
        "pnl_realized_usd": str(realized),
        "pnl_unrealized_usd": None if unrealized is None else str(unrealized),
        "pnl_total_usd": None if total is None else str(total),
        "max_drawdown_usd": str(metrics.max_drawdown),
        "positions": positions,
        "open_orders": portfolio.working_count(),
        "anomalies": anomalies,
        "ledger_hash": ledger_hash,
        "data_span_secs": data.data_span_secs,
        "wall_secs": round(wall_secs, 3),
        "quotes_per_sec": round(metrics.quotes / wall_secs, 1) if wall_secs > 0 else None,
    }
