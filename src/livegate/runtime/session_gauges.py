"""Set a session's state gauges (trading state, venue health, quotes, exposure, PnL, budgets) from its parts.

Called at every heartbeat, every wall-clock timer tick and once at the end (before
``metrics.prom`` is written), never per quote. Reading only: nothing here records an
equity peak or a day baseline, so metrics never change what a gate decides (the same
data, config and seed still give the same ledger).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from livegate.domain.enums import VenueHealth

if TYPE_CHECKING:
    from livegate.runtime.core import SessionCore

__all__ = ["refresh_gauges"]

_ZERO = Decimal(0)


def refresh_gauges(core: SessionCore) -> None:
    """Set every state gauge of ``core.prometheus`` from the session's current state."""
    metrics, portfolio, quotes = core.prometheus, core.portfolio, core.quotes
    risk = core.risk
    metrics.trading_state(risk.kill.state)
    health = risk.parts.health
    for venue in sorted({i.venue for i in core.instruments.values()} | set(health.health)):
        metrics.venue_up.set(venue, value=1 if health.state(venue) is VenueHealth.HEALTHY else 0)
    now = core.clock.now_ms()
    gross = _ZERO
    for symbol in core.instruments:
        age_ms = quotes.age_ms(symbol, now)
        if age_ms is not None:
            metrics.quote_age.set(symbol, value=max(age_ms, 0) / 1000)
        quantity = portfolio.position_quantity(symbol)
        mid = quotes.mid(symbol)
        if quantity == 0:
            notional: Decimal | None = _ZERO
        else:
            notional = None if mid is None else quantity * mid
        if notional is not None:
            metrics.position.set(symbol, value=float(notional))
            gross += abs(notional)
    metrics.gross.set(value=float(gross))
    realized, fees = portfolio.realized_pnl(), portfolio.fees()
    unrealized = portfolio.unrealized_pnl(quotes.mid)
    metrics.realized.set(value=float(realized))
    metrics.fees.set(value=float(fees))
    if unrealized is not None:
        metrics.unrealized.set(value=float(unrealized))
        metrics.pnl.set(value=float(realized + unrealized - fees))
    session = core.metrics
    metrics.drawdown.set(value=float(session.drawdown))
    metrics.max_drawdown.set(value=float(session.max_drawdown))
    _budgets(core, None if unrealized is None else realized + unrealized - fees)
    metrics.ambiguous.set(value=len(core.engine.ambiguous_orders))
    metrics.open_orders.set(value=portfolio.working_count())
    metrics.market_totals(session.quotes, session.trades)


def _budgets(core: SessionCore, equity: Decimal | None) -> None:
    """Set ``livegate_budget_usage_ratio`` for each configured trading-day cap (``[risk]``)."""
    risk_cfg = core.resolved.config.risk
    parts = core.risk.parts
    daily, budget = parts.daily, core.prometheus.budget
    if risk_cfg.max_orders_per_day is not None:
        budget.set("orders_per_day", value=daily.orders_today / risk_cfg.max_orders_per_day)
    if risk_cfg.max_daily_turnover_usd is not None:
        turnover = daily.turnover_today(core.portfolio)
        budget.set("daily_turnover", value=float(turnover / risk_cfg.max_daily_turnover_usd))
    if equity is None:
        return
    if risk_cfg.daily_loss_limit_usd is not None and daily.day_start_equity is not None:
        pnl_today = daily.carried.pnl_usd + equity - daily.day_start_equity
        budget.set("daily_loss", value=float(max(-pnl_today, _ZERO) / risk_cfg.daily_loss_limit_usd))
    if risk_cfg.max_drawdown_usd is not None:
        day_pnl = equity + parts.peak.offset
        drawdown = max(parts.peak.peak, day_pnl) - day_pnl  # read only: the peak is the drawdown gate's to record
        budget.set("drawdown", value=float(drawdown / risk_cfg.max_drawdown_usd))
