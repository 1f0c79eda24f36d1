"""The status snapshot of a session: what ``GET /status``, ``status.json``, the status page and ``watch`` show.

Read-only: building a snapshot never changes the session (no clock move, no ledger write),
so a replay stays deterministic while it is watched. Money is in USD as decimal strings
(USDT counted as USD), rounded to 1e-4; quantities in base units as exact strings.

The same module judges the two probes: :func:`ready_reasons` (``GET /ready``: every
symbol has a fresh valid quote, every venue is healthy and reconciled, the trading state
is ACTIVE) and :func:`health_reasons` (``GET /health``: the session timer ticks and alert
delivery is not failing). An empty list means ready / healthy.
"""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from livegate.domain.alerts import AlertHealth
from livegate.domain.enums import TradingState, VenueHealth

if TYPE_CHECKING:
    from livegate.runtime.core import SessionCore

__all__ = ["SNAPSHOT_VERSION", "LoopFacts", "build_status", "health_reasons", "ready_reasons"]

#: Version of the snapshot's shape (``status.json``, ``GET /status``); a removed or retyped field bumps it.
SNAPSHOT_VERSION = 1
#: Anomalies listed in a snapshot (the most recent ones).
LAST_ANOMALIES = 20
#: Open orders listed in a snapshot (the count is always exact).
MAX_ORDERS_LISTED = 200
_USD = Decimal("0.0001")
#: Quote age limit of ``/ready`` when ``[tripwires] max_quote_age_ms`` is off (ms; the venue-health default).
DEFAULT_READY_QUOTE_AGE_MS = 1500


class LoopFacts:
    """What the operator views measure about the session loop (wall clock, seconds).

    Parameters
    ----------
    running:
        True between the start of the session loop and the end of the session.
    last_tick_age_secs:
        Seconds since the session timer last ticked (or since the views started).
    loop_lag_secs:
        How late the views' own one-second tick woke up last time (event-loop lag).
    uptime_secs:
        Seconds since the views started.
    stall_limit_secs:
        ``[http] stall_limit_ms`` in seconds.
    """

    __slots__ = ("last_tick_age_secs", "loop_lag_secs", "running", "stall_limit_secs", "uptime_secs")

    def __init__(
        self,
        *,
        running: bool,
        last_tick_age_secs: float,
        loop_lag_secs: float,
        uptime_secs: float,
        stall_limit_secs: float,
    ) -> None:
        self.running = running
        self.last_tick_age_secs = last_tick_age_secs
        self.loop_lag_secs = loop_lag_secs
        self.uptime_secs = uptime_secs
        self.stall_limit_secs = stall_limit_secs


def _usd(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(_USD))


def ready_reasons(core: SessionCore, loop: LoopFacts, now_ms: int | None = None) -> list[str]:
    """Return why the session is not ready to trade (empty: ready).

    Checks, in order: the session loop runs; every instrument has a quote, valid (bid > 0,
    bid < ask) and no older than ``[tripwires] max_quote_age_ms`` on the session clock
    (``now_ms``, read once when not given); every venue is HEALTHY; no reconciliation is
    pending; the trading state is ACTIVE.
    """
    reasons: list[str] = []
    if not loop.running:
        reasons.append("the session loop is not running")
    max_age = core.resolved.config.tripwires.max_quote_age_ms or DEFAULT_READY_QUOTE_AGE_MS
    now = core.clock.now_ms() if now_ms is None else now_ms
    for symbol in sorted(core.instruments):
        quote = core.quotes.last(symbol)
        if quote is None:
            reasons.append(f"{symbol}: no quote yet")
            continue
        if quote.bid_price <= 0 or quote.bid_price >= quote.ask_price:
            reasons.append(f"{symbol}: invalid quote (bid {quote.bid_price}, ask {quote.ask_price})")
        age = now - quote.ts_event_ms
        if age > max_age:
            reasons.append(f"{symbol}: quote {age:,} ms old > max {max_age:,} ms (stale feed)")
    board = core.risk.parts.health
    for venue in _venues(core):
        if board.state(venue) is not VenueHealth.HEALTHY:
            reasons.append(f"venue {venue} disabled: {board.reasons.get(venue, '')}")
    maintenance = core.recovery.maintenance
    if maintenance is not None and maintenance.reconciling:
        reasons.append(f"reconciliation pending: {maintenance.schedule.status.reason}")
    record = core.risk.kill.record
    if record.state is not TradingState.ACTIVE:
        reasons.append(f"trading state {record.state.value.upper()}: {record.reason}")
    return reasons


def health_reasons(loop: LoopFacts, alerts: AlertHealth | None) -> list[str]:
    """Return why the session is unhealthy (empty: healthy): a stalled timer, failing alert delivery."""
    reasons: list[str] = []
    if loop.last_tick_age_secs > loop.stall_limit_secs:
        reasons.append(
            f"session loop stalled: last timer tick {loop.last_tick_age_secs:.1f} s ago > limit "
            f"{loop.stall_limit_secs:.1f} s"
        )
    if alerts is not None and alerts.failing:
        reasons.append(f"alert delivery failing: {alerts.last_error or 'last delivery failed'}")
    return reasons


def _venues(core: SessionCore) -> list[str]:
    return sorted({instrument.venue for instrument in core.instruments.values()})


def _positions(core: SessionCore) -> list[dict[str, Any]]:
    rows = []
    mid = core.quotes.mid
    for position in core.portfolio.positions():
        if position.quantity == 0 and position.realized_pnl == 0:
            continue
        mark = mid(position.symbol)
        rows.append(
            {
                "symbol": position.symbol,
                "quantity": str(position.quantity),
                "average_price": str(position.average_price.normalize()) if position.quantity else "0",
                "mark_price": None if mark is None else str(mark),
                "notional_usd": None if mark is None else _usd(position.notional(mark)),
                "realized_pnl_usd": _usd(position.realized_pnl),
                "unrealized_pnl_usd": None if mark is None else _usd(position.unrealized_pnl(mark)),
                "fees_usd": _usd(position.fees),
            }
        )
    return rows


def _open_orders(core: SessionCore) -> list[dict[str, Any]]:
    rows = []
    for order in core.portfolio.working_orders()[:MAX_ORDERS_LISTED]:
        rows.append(
            {
                "client_order_id": order.client_order_id,
                "venue": order.venue,
                "symbol": order.symbol,
                "side": order.side.value,
                "type": order.intent.order_type.value,
                "quantity": str(order.quantity),
                "filled_quantity": str(order.filled_quantity),
                "price": None if order.price is None else str(order.price),
                "status": order.status.value,
                "reduce_only": order.intent.reduce_only,
            }
        )
    return rows


def _cap(name: str, used: Decimal | int | None, limit: Decimal | int | None, unit: str) -> dict[str, Any]:
    pct = None
    if used is not None and limit:
        pct = float(Decimal(used) / Decimal(limit) * 100)
    shown_used: str | int | None = used if isinstance(used, int) or used is None else _usd(used)
    shown_limit: str | int | None = limit if isinstance(limit, int) or limit is None else str(limit)
    return {"name": name, "used": shown_used, "limit": shown_limit, "unit": unit, "used_pct": pct}


def _counted(used: int, limit: int | None) -> int | None:
    """Return ``used``, or None when the cap is off (its gate, which counts, is not built)."""
    return None if limit is None else used


def _caps(core: SessionCore) -> list[dict[str, Any]]:
    """Return the usage of every ``[risk]`` cap (a cap that is off has ``limit`` None)."""
    risk = core.resolved.config.risk
    portfolio, mid = core.portfolio, core.quotes.mid
    per_symbol: dict[str, Decimal] = {}
    unknown = False
    for symbol in sorted(set(core.instruments) | {p.symbol for p in portfolio.positions()}):
        mark = mid(symbol)
        working = portfolio.working_notional(symbol, mid)
        quantity = portfolio.position_quantity(symbol)  # read-only: never adds a position to the book
        if (mark is None and quantity != 0) or working is None:
            unknown = True
            continue
        per_symbol[symbol] = (abs(quantity) * mark if mark is not None else Decimal(0)) + working
    gross = None if unknown else sum(per_symbol.values(), Decimal(0))
    largest = None if unknown else max(per_symbol.values(), default=Decimal(0))
    daily = core.risk.parts.daily
    monitor = core.risk.monitor
    loss = None if monitor.last_daily_pnl is None else max(-monitor.last_daily_pnl, Decimal(0))
    positions = sum(1 for p in portfolio.positions() if p.quantity != 0)
    return [
        _cap("max_symbol_notional_usd", largest, risk.max_symbol_notional_usd, "USD"),
        _cap("max_gross_notional_usd", gross, risk.max_gross_notional_usd, "USD"),
        _cap("max_daily_turnover_usd", daily.turnover_today(portfolio), risk.max_daily_turnover_usd, "USD"),
        _cap("daily_loss_limit_usd", loss, risk.daily_loss_limit_usd, "USD"),
        _cap("max_drawdown_usd", monitor.last_drawdown, risk.max_drawdown_usd, "USD"),
        _cap(
            "max_orders_per_day",
            _counted(daily.orders_today, risk.max_orders_per_day),
            risk.max_orders_per_day,
            "orders",
        ),
        _cap("max_open_orders", portfolio.working_count(), risk.max_open_orders, "orders"),
        _cap("max_positions", positions, risk.max_positions, "positions"),
        _cap("max_order_notional_usd", None, risk.max_order_notional_usd, "USD per order"),
    ]


def _quotes(core: SessionCore, now: int) -> list[dict[str, Any]]:
    rows = []
    for symbol in sorted(core.instruments):
        quote = core.quotes.last(symbol)
        rows.append(
            {
                "symbol": symbol,
                "bid": None if quote is None else str(quote.bid_price),
                "ask": None if quote is None else str(quote.ask_price),
                "age_ms": None if quote is None else now - quote.ts_event_ms,
            }
        )
    return rows


def build_status(
    core: SessionCore, loop: LoopFacts, *, wall_ms: int, alerts: AlertHealth | None, api_url: str | None
) -> dict[str, Any]:
    """Return the JSON-ready status snapshot of ``core`` (schema :data:`SNAPSHOT_VERSION`)."""
    record = core.risk.kill.record
    portfolio, engine = core.portfolio, core.engine
    unrealized = portfolio.unrealized_pnl(core.quotes.mid)
    equity = portfolio.equity_pnl(core.quotes.mid)
    board = core.risk.parts.health
    now = core.clock.now_ms()  # read once: a snapshot never moves a clock that steps on reads
    ready = ready_reasons(core, loop, now)
    unhealthy = health_reasons(loop, alerts)
    stats = engine.stats
    return {
        "schema_version": SNAPSHOT_VERSION,
        "written_wall_ms": wall_ms,
        "running": loop.running,
        "session": {
            "session_id": core.session_id,
            "mode": core.mode.mode.value,
            "run_dir": str(core.run_dir),
            "strategy": core.resolved.config.strategy.spec,
            "symbols": sorted(core.instruments),
            "venues": sorted(core.wiring.venues),
            "clock_ms": now,
            "uptime_secs": round(loop.uptime_secs, 3),
            "api_url": api_url,
        },
        "trading_state": {
            "state": record.state.value,
            "reason": record.reason,
            "source": record.source,
            "actor": record.actor,
            "since_wall_ms": record.ts_ms,
        },
        "ready": {"ready": not ready, "reasons": ready},
        "health": {
            "healthy": not unhealthy,
            "reasons": unhealthy,
            "last_tick_age_secs": round(loop.last_tick_age_secs, 3),
            "loop_lag_secs": round(loop.loop_lag_secs, 4),
        },
        "positions": _positions(core),
        "open_orders_count": portfolio.working_count(),
        "open_orders": _open_orders(core),
        "pnl": {
            "realized_usd": _usd(portfolio.realized_pnl()),
            "unrealized_usd": _usd(unrealized),
            "fees_usd": _usd(portfolio.fees()),
            "total_usd": _usd(equity),
            "daily_usd": _usd(core.risk.monitor.last_daily_pnl),
            "drawdown_usd": _usd(core.risk.monitor.last_drawdown),
            "session_max_drawdown_usd": _usd(core.metrics.max_drawdown),
        },
        "caps": _caps(core),
        "venues": [
            {"venue": venue, "health": board.state(venue).value, "reason": board.reasons.get(venue, "")}
            for venue in _venues(core)
        ],
        "quotes": _quotes(core, now),
        "counts": {
            "quotes": core.metrics.quotes,
            "trades": core.metrics.trades,
            "intents": stats.intents,
            "approved": stats.approved,
            "denied": sum(stats.denied.values()),
            "orders_submitted": stats.orders_submitted,
            "fills": stats.fills,
            "rejected": stats.rejected,
        },
        "anomalies": list(core.anomalies[-LAST_ANOMALIES:]),
        "alerts": None if alerts is None else asdict(alerts),
    }
