"""Where a change of the trading state is recorded: the ledger, telemetry and ``kill_events.jsonl``.

Each change is written as a ``trading_state_changed`` ledger event, ``trading_state`` and
``kill`` telemetry lines and (for a trip) one ``kill_events.jsonl`` line with the positions
and PnL as of the trip. A move to HALTED defers all of it (and the state log line) until
its cancels went out: :meth:`KillRecords.flush_records` (docs/risk.md, kill ordering).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from livegate.domain.clock import wall_time_ms
from livegate.domain.errors import LedgerError
from livegate.ledger import events as ev
from livegate.ledger.store import Ledger
from livegate.marketdata.quote_cache import QuoteCache
from livegate.portfolio import Portfolio
from livegate.risk.killswitch import KillSwitch, TradingStateChanged
from livegate.risk.triggers import TriggerMonitor
from livegate.telemetry.writer import TelemetryWriter

__all__ = ["KillRecords"]


class KillRecords:
    """Record trading state changes and trips (a base of :class:`~livegate.control.session_risk.SessionRisk`).

    The attributes below are set by :class:`~livegate.control.session_risk.SessionRisk`.
    """

    kill: KillSwitch
    monitor: TriggerMonitor
    _ledger: Ledger
    _telemetry: TelemetryWriter
    _kill_events: Path
    _portfolio: Portfolio
    _quotes: QuoteCache
    _report: Callable[[str, str], None]
    _unrecorded: list[tuple[TradingStateChanged, dict[str, Any]]]

    def flush_records(self) -> None:
        """Write what a HALT deferred until its cancels went out: state log line, ledger, telemetry, kill event."""
        problem = self.kill.flush_log()
        if problem:
            self._report("trading_state_persist_failed", problem)
        while self._unrecorded:
            change, event = self._unrecorded.pop(0)
            self._record(change, event)

    def _record(self, change: TradingStateChanged, event: dict[str, Any] | None) -> None:
        self._ledger_append(ev.TRADING_STATE_CHANGED, change.ts_ms, change.to_record())
        self._telemetry.emit(
            "trading_state",
            change.ts_ms,
            state=change.state.value,
            reason=change.reason,
            previous=change.previous.value,
            source=change.source,
        )
        self._telemetry.emit(
            "kill",
            change.ts_ms,
            state=change.state.value,
            reason=change.reason,
            source=change.source,
            trigger_value=change.trigger_value,
            threshold=change.threshold,
        )
        if event is None:
            return
        with self._kill_events.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(event, sort_keys=True, default=_json_default) + "\n")

    def _kill_event(self, change: TradingStateChanged) -> dict[str, Any]:
        portfolio, quotes = self._portfolio, self._quotes
        unrealized = portfolio.unrealized_pnl(quotes.mid)
        realized, fees = portfolio.realized_pnl(), portfolio.fees()
        daily = self.monitor.last_daily_pnl
        event = {
            "ts_ms": change.ts_ms,
            "wall_ms": wall_time_ms(),
            "state": change.state.value,
            "previous": change.previous.value,
            "reason": change.reason,
            "source": change.source,
            "trigger_value": change.trigger_value,
            "threshold": change.threshold,
            "positions": [p.to_record(quotes.mid(p.symbol)) for p in portfolio.positions() if p.quantity != 0],
            "open_orders": portfolio.working_count(),
            "pnl": {
                "realized_usd": str(realized),
                "unrealized_usd": None if unrealized is None else str(unrealized),
                "fees_usd": str(fees),
                "total_usd": None if unrealized is None else str(realized + unrealized - fees),
                "daily_usd": None if daily is None else str(daily),
                "drawdown_usd": str(self.monitor.last_drawdown),
            },
        }
        return event

    def _ledger_append(self, kind: str, ts_ms: int, payload: dict[str, object]) -> None:
        try:
            self._ledger.append(kind, ts_ms, payload)
        except LedgerError as exc:
            self._report("ledger_write_failed", str(exc))


def _json_default(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
