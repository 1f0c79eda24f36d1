"""Automatic kill triggers (``[kill]``; issue 3): conditions judged at heartbeats, fills and anomalies.

Each trigger yields a :class:`TriggerHit` naming the trading state it asks for
(REDUCING or HALTED, per its ``*_action`` key), the triggering value and the threshold.
The runtime trips the :class:`~livegate.risk.killswitch.KillSwitch` with it. The
conditions that still hold are stored in the state dir, and ``livegate rearm`` refuses
while any of them holds.

Triggers and their thresholds:

* ``daily_loss`` — today's loss >= ``[risk] daily_loss_limit_usd`` (lapses at the next trading day).
* ``drawdown`` — peak equity - equity >= ``[risk] max_drawdown_usd``.
* ``stale_feed`` — a symbol with exposure has a quote older than ``[kill] stale_feed_secs``.
* ``venue_errors`` — ``max_venue_errors`` venue errors within ``venue_error_window_secs``.
* ``reject_storm`` — ``max_rejects`` venue rejects within ``reject_window_secs``.
* anomalies — each :class:`~livegate.domain.enums.AnomalyKind` has one row in
  :data:`ANOMALY_RESPONSES`: ``ledger_write_failed`` and ``venue_fatal`` always HALTED
  (docs/architecture.md §3.4), ``fill_corrected`` (the venue replaced a fill the book
  has applied) HALTED, ``invariant_violation`` per ``invariant_action``,
  ``ambiguous_unresolved`` (an order of unknown outcome still unresolved after
  ``[execution] ambiguous_timeout_secs``) REDUCING, venue errors counted in the
  ``venue_errors`` window, the rest recorded only. A kind outside the enum halts (fail closed).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from livegate.config.risk_models import KillAction, KillConfig, RiskConfig
from livegate.domain.enums import AnomalyKind, TradingState
from livegate.risk.daily import DailyBook, EquityPeak
from livegate.risk.exposure import exposed_symbols
from livegate.risk.gate import RiskContext


class AnomalyResponse(StrEnum):
    """What the kill side does about an anomaly of a given kind."""

    #: Trip HALTED at once.
    HALT = "halt"
    #: Trip REDUCING at once.
    REDUCE = "reduce"
    #: Trip the state ``[kill] invariant_action`` names.
    INVARIANT_ACTION = "invariant_action"
    #: Count it in the ``venue_errors`` window (``max_venue_errors`` within ``venue_error_window_secs``).
    VENUE_ERROR = "venue_error"
    #: Record it (ledger, telemetry, exit code 3); no trip.
    RECORD = "record"


A = AnomalyKind
R = AnomalyResponse
#: The one table from anomaly kind to response (a test checks every kind has a row).
ANOMALY_RESPONSES: dict[AnomalyKind, AnomalyResponse] = {
    A.LEDGER_WRITE_FAILED: R.HALT,
    A.TRADING_STATE_PERSIST_FAILED: R.RECORD,
    A.SESSION_LOCK_FAILED: R.RECORD,
    A.INVARIANT_VIOLATION: R.INVARIANT_ACTION,
    A.VENUE_FATAL: R.HALT,
    A.AMBIGUOUS_UNRESOLVED: R.REDUCE,
    A.AMBIGUOUS_SUBMIT: R.VENUE_ERROR,
    A.AMBIGUOUS_RESEND: R.VENUE_ERROR,
    A.CANCEL_FAILED: R.VENUE_ERROR,
    A.LOOKUP_FAILED: R.VENUE_ERROR,
    A.RESEND_AFTER_LOOKUP: R.RECORD,
    A.UNRESOLVED_AFTER_RESEND: R.RECORD,
    A.FILLS_ADOPTED: R.RECORD,
    A.FILLS_UNKNOWN: R.RECORD,
    A.FILL_CORRECTED: R.HALT,
    A.RECONCILE_DRIFT: R.RECORD,
    A.RECONCILE_INCOMPLETE: R.RECORD,
    A.STREAM_INTERRUPTED: R.RECORD,
    A.CANCEL_ALL_UNCONFIRMED: R.RECORD,
    A.OPEN_ORDERS_UNKNOWN: R.RECORD,
    A.FLATTEN_DENIED: R.RECORD,
    A.STRATEGY_ERROR: R.RECORD,
    A.SESSION_ERROR: R.RECORD,
    A.STRATEGY_TIMEOUT: R.HALT,
    A.STORAGE_FAILED: R.HALT,
    A.TIMER_FAILED: R.HALT,
}
#: Anomaly kinds that count as venue errors.
VENUE_ERROR_KINDS = frozenset(k for k, r in ANOMALY_RESPONSES.items() if r is R.VENUE_ERROR)


def anomaly_response(kind: str) -> AnomalyResponse:
    """Return the response to an anomaly ``kind``; a kind outside :class:`AnomalyKind` halts (fail closed)."""
    try:
        return ANOMALY_RESPONSES[AnomalyKind(kind)]
    except ValueError:
        return AnomalyResponse.HALT


_MS_PER_SEC = 1000


def action_state(action: KillAction) -> TradingState:
    """Return the trading state of a ``[kill] *_action`` value."""
    return TradingState.HALTED if action == "halted" else TradingState.REDUCING


@dataclass(frozen=True, slots=True)
class TriggerHit:
    """An automatic trigger whose condition holds.

    ``value`` and ``threshold`` are in the trigger's unit (USD, seconds or a count);
    ``lapses_at_ms`` is the session-clock time after which the condition lapses by
    itself (the next trading day for the daily loss), else None.
    """

    name: str
    state: TradingState
    value: Decimal
    threshold: Decimal
    detail: str
    lapses_at_ms: int | None = None

    @property
    def reason(self) -> str:
        """Return the text recorded as the kill reason."""
        return f"{self.name}: {self.detail}"


class TriggerMonitor:
    """Judge the automatic triggers.

    Parameters
    ----------
    risk, kill:
        The ``[risk]`` and ``[kill]`` sections.
    daily, peak:
        Trading-day book and equity peak, shared with the loss gates.
    """

    def __init__(self, risk: RiskConfig, kill: KillConfig, daily: DailyBook, peak: EquityPeak) -> None:
        self._risk = risk
        self._kill = kill
        self._daily = daily
        self._peak = peak
        self._venue_errors: deque[int] = deque()
        self._rejects: deque[int] = deque()
        self.last_drawdown = Decimal(0)
        self.last_daily_pnl: Decimal | None = Decimal(0)

    # ------------------------------------------------------------------ event feeds
    def on_anomaly(self, kind: str, detail: str, now_ms: int) -> TriggerHit | None:
        """Return the hit an anomaly causes, if any, as :data:`ANOMALY_RESPONSES` says."""
        kill = self._kill
        response = anomaly_response(kind)
        if kind == AnomalyKind.LEDGER_WRITE_FAILED:
            return TriggerHit(kind, TradingState.HALTED, Decimal(1), Decimal(1), f"ledger write failed: {detail}")
        if response is AnomalyResponse.HALT:
            return TriggerHit(str(kind), TradingState.HALTED, Decimal(1), Decimal(1), detail)
        if response is AnomalyResponse.INVARIANT_ACTION:
            return TriggerHit(
                str(kind), action_state(kill.invariant_action), Decimal(1), Decimal(1), f"{kind}: {detail}"
            )
        if response is AnomalyResponse.REDUCE:
            return TriggerHit(str(kind), TradingState.REDUCING, Decimal(1), Decimal(1), detail)
        if response is AnomalyResponse.VENUE_ERROR:
            return self._windowed(
                self._venue_errors,
                now_ms,
                kill.max_venue_errors,
                kill.venue_error_window_secs,
                "venue_errors",
                kill.venue_error_action,
                f"latest {kind}: {detail}",
            )
        return None

    def carry_rejects(self, times_ms: Iterable[int]) -> None:
        """Count venue rejects of an earlier process of this run (a resume) in the reject window, at their times."""
        self._rejects.extend(sorted(times_ms))

    def carry_venue_errors(self, times_ms: Iterable[int]) -> None:
        """Count venue errors of an earlier process of this run (a resume) in their window, at their times."""
        self._venue_errors.extend(sorted(times_ms))

    def on_rejects(self, count: int, now_ms: int) -> TriggerHit | None:
        """Record ``count`` new venue rejects; return the reject-storm hit when the window fills."""
        hit = None
        for _ in range(count):
            hit = (
                self._windowed(
                    self._rejects,
                    now_ms,
                    self._kill.max_rejects,
                    self._kill.reject_window_secs,
                    "reject_storm",
                    self._kill.reject_storm_action,
                    "venue rejects",
                )
                or hit
            )
        return hit

    def _windowed(
        self,
        times: deque[int],
        now_ms: int,
        limit: int | None,
        window_secs: int,
        name: str,
        action: KillAction,
        detail: str,
    ) -> TriggerHit | None:
        times.append(now_ms)
        horizon = now_ms - window_secs * _MS_PER_SEC
        while times and times[0] <= horizon:
            times.popleft()
        if limit is None or len(times) < limit:
            return None
        return TriggerHit(
            name,
            action_state(action),
            Decimal(len(times)),
            Decimal(limit),
            f"{len(times)} in {window_secs} s >= {limit} ({detail})",
        )

    # ------------------------------------------------------------------ periodic conditions
    def evaluate(self, ctx: RiskContext, now_ms: int) -> list[TriggerHit]:
        """Return every periodic trigger whose condition holds at ``now_ms`` (session clock)."""
        hits: list[TriggerHit] = []
        risk, kill = self._risk, self._kill
        portfolio, quotes = ctx.portfolio, ctx.quotes
        self._daily.roll(now_ms, portfolio, quotes)
        equity = portfolio.equity_pnl(quotes.mid)
        pnl = self._daily.pnl_from(equity)  # = pnl_today(portfolio, quotes), the equity computed once
        self.last_daily_pnl = pnl
        if equity is not None:
            self.last_drawdown = self._peak.drawdown(equity)
        limit = risk.daily_loss_limit_usd
        if limit is not None and pnl is not None and -pnl >= limit:
            hits.append(
                TriggerHit(
                    "daily_loss",
                    action_state(kill.daily_loss_action),
                    -pnl,
                    limit,
                    f"daily loss {-pnl:,.2f} USD >= limit {limit:,.2f} USD",
                    self._daily.next_boundary_ms,
                )
            )
        max_dd = risk.max_drawdown_usd
        if max_dd is not None and equity is not None and self.last_drawdown >= max_dd:
            hits.append(
                TriggerHit(
                    "drawdown",
                    action_state(kill.drawdown_action),
                    self.last_drawdown,
                    max_dd,
                    f"drawdown {self.last_drawdown:,.2f} USD from peak {self._peak.peak:,.2f} "
                    f">= limit {max_dd:,.2f} USD",
                )
            )
        stale = kill.stale_feed_secs
        if stale is not None:
            limit_ms = stale * _MS_PER_SEC
            for symbol in sorted(exposed_symbols(ctx)):
                age = quotes.age_ms(symbol, now_ms)
                if age is None or age > limit_ms:
                    age_secs = Decimal(-1) if age is None else Decimal(age) / _MS_PER_SEC
                    shown = "no quote" if age is None else f"quote {age_secs} s old"
                    hits.append(
                        TriggerHit(
                            "stale_feed",
                            action_state(kill.stale_feed_action),
                            age_secs,
                            stale,
                            f"{symbol} holds exposure with {shown} > {stale} s",
                        )
                    )
                    break
        return hits

    @staticmethod
    def conditions_of(hits: list[TriggerHit], now_ms: int, wall_now_ms: int) -> dict[str, dict[str, Any]]:
        """Return the state-dir record of holding conditions (``holds_until_ms`` in wall time)."""
        out: dict[str, dict[str, Any]] = {}
        for hit in hits:
            cond: dict[str, Any] = {"value": str(hit.value), "threshold": str(hit.threshold), "detail": hit.detail}
            if hit.lapses_at_ms is not None:
                cond["holds_until_ms"] = wall_now_ms + max(0, hit.lapses_at_ms - now_ms)
            out[hit.name] = cond
        return out
