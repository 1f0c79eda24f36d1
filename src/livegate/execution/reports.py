"""What the engine records and applies: decisions, venue reports (order status and fills), counters.

The execution engine binds every venue to :meth:`ReportApplier.apply`; reports the engine
makes up itself (a definite refusal, a submit dropped by a halt, a refused cancel) go the
same way, so one place writes ``order_report`` and ``fill`` events (docs/architecture.md §3.5).
What a report does to the book is decided by the ledger fold's rules
(:func:`livegate.ledger.fold_rules.apply_fill`, :func:`livegate.ledger.fold_rules.apply_status`), the
same ones resume, export and reconciliation replay, so the live book and every fold of
its ledger agree.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from livegate.domain.decisions import Approved, Denied
from livegate.domain.enums import AnomalyKind, OrderStatus
from livegate.domain.errors import DataError, LedgerError
from livegate.domain.ids import is_livegate_client_id
from livegate.domain.orders import Fill, FillCorrection, Order, OrderReport
from livegate.execution.quality import ExecutionQuality
from livegate.ledger import events as ev
from livegate.ledger.fold_rules import EngineStats, FillOutcome, StatusOutcome, apply_fill, apply_status
from livegate.ledger.store import Ledger
from livegate.portfolio import Portfolio
from livegate.telemetry.metrics import SessionMetrics
from livegate.telemetry.writer import TelemetryWriter
from livegate.venues.base import Report

log = logging.getLogger("livegate")

__all__ = ["AnomalyHandler", "CrashPoint", "EngineStats", "ReportApplier", "decision_record"]

AnomalyHandler = Callable[[str, str], None]
CrashPoint = Callable[[str], None]
"""Test-only hook called at the crash points of the recovery harness (issue 6); see :class:`ExecutionEngine`."""


class ReportApplier:
    """Record each report in the ledger, then apply it to the order, the portfolio and the counters.

    Parameters
    ----------
    ledger, telemetry:
        Where reports are recorded (a ledger failure is an anomaly; the report still
        applies, since the venue's answer is a fact).
    portfolio:
        Orders and positions.
    stats:
        The engine's counters (``fills``, ``rejected``).
    anomaly:
        The engine's anomaly sink.
    crash:
        Test-only crash hook (``between_fills``).
    metrics:
        Counts applied fills and rejects (None: not counted).
    quality:
        Execution-quality facts (arrival mid and slippage in each ``fill`` payload, markouts
        scheduled once the fill counts); None records fills as ``Fill.to_record()`` only.
    """

    __slots__ = (
        "_anomaly", "_crash", "_disowned", "_ledger", "_metrics", "_outside", "_portfolio", "_quality", "_telemetry",
        "new_fills", "stats",
    )  # fmt: skip

    def __init__(
        self,
        *,
        ledger: Ledger,
        telemetry: TelemetryWriter,
        portfolio: Portfolio,
        stats: EngineStats,
        anomaly: AnomalyHandler,
        crash: CrashPoint,
        metrics: SessionMetrics | None = None,
        quality: ExecutionQuality | None = None,
    ) -> None:
        self._metrics = metrics
        self._ledger = ledger
        self._quality = quality
        self._telemetry = telemetry
        self._portfolio = portfolio
        self._anomaly = anomaly
        self._crash = crash
        self.stats = stats
        self.new_fills: list[Fill] = []
        self._disowned: set[str] = set()
        self._outside: set[str] = set()

    def disown(self, client_order_id: str) -> None:
        """Expect status reports for an order this session does not own (an earlier session's leftover it cancels).

        They are recorded in the ledger like any report; they raise no anomaly.
        """
        self._disowned.add(client_order_id)

    def apply(self, report: Report) -> None:
        """Apply a venue report (order status or fill).

        A report of an outside order (a non-empty client id livegate did not make, of an order its
        book does not hold: one typed into the venue's web UI or sent by another program,
        which a Binance user data stream or Alpaca's ``trade_updates`` carry like livegate's
        own) is neither recorded nor applied: the order is not livegate's, so it contradicts
        nothing in the book (docs/recovery.md, outside orders). Its first report is logged.

        Raises
        ------
        LedgerError, DataError
            If the report names an order the book let go and the ledger cannot give it back
            (:mod:`livegate.ledger.fold_retire`); the report is recorded, not applied, and a
            session halts and stops on it (docs/architecture.md §8).
        """
        if self._is_outside(report.client_order_id):
            return
        if isinstance(report, Fill):
            self._on_fill(report)
        elif isinstance(report, FillCorrection):
            self._on_correction(report)
        else:
            self._on_order_report(report)

    def _on_correction(self, correction: FillCorrection) -> None:
        """Record a venue's correction of a fill as the anomaly ``fill_corrected`` (HALTED); apply nothing.

        Counting the correction as one more fill would count the execution twice (it
        replaces the original), and the book cannot take a fill back: positions keep an
        average cost and realized PnL folded fill by fill, and fees, turnover and the day's
        budgets follow them. So the session fails closed: the anomaly (in the ledger, with
        both executions named and the correction's figures exact as the venue sent them)
        halts trading, and the operator settles the difference with the venue
        (``livegate reconcile``, docs/recovery.md).
        """
        applied = (correction.client_order_id, correction.corrects_fill_id) in self._portfolio.fill_keys()
        book = "applied in the book" if applied else "not in the book"
        self._anomaly(
            AnomalyKind.FILL_CORRECTED,
            f"{correction.describe()}; the corrected fill is {book}; the correction is not applied",
        )

    def _is_outside(self, client_order_id: str) -> bool:
        """Return True for an outside order's report (logged once per order); False for livegate's own."""
        if not client_order_id or client_order_id in self._disowned:
            return False  # no client id at all is not proof of an outside order: the book judges (fails closed)
        if is_livegate_order(self._portfolio, client_order_id):
            return False
        if client_order_id not in self._outside:
            self._outside.add(client_order_id)
            log.warning("report of an outside order %r (not livegate's): left alone", client_order_id)
        return True

    def record(self, order: Order, status: str, ts_ms: int, *, code: str, reason: str) -> None:
        """Append an ``order_report`` the engine decided itself (``cancel_rejected``, a halt's drop)."""
        record = {
            "client_order_id": order.client_order_id,
            "status": status,
            "venue_order_id": order.venue_order_id,
            "code": code,
            "reason": reason,
            "filled_quantity": str(order.filled_quantity),
        }
        try:
            self._ledger.record(ev.ORDER_REPORT, ts_ms, record)
        except LedgerError as exc:
            self._anomaly(AnomalyKind.LEDGER_WRITE_FAILED, str(exc))

    def take_new_fills(self) -> list[Fill]:
        """Return and forget the fills applied since the last call (the list object stays the same)."""
        fills = self.new_fills[:]
        self.new_fills.clear()
        return fills

    def _on_fill(self, fill: Fill) -> None:
        """Record and apply a fill once per (client order id, venue trade id); a repeat is only counted.

        Raises
        ------
        LedgerError, DataError
            If its order was let go and cannot be read back from the ledger
            (:meth:`Portfolio.revive_with <livegate.portfolio.book.Portfolio.revive_with>`):
            the fill is recorded (the venue's fact) but not applied; the session halts.
        """
        portfolio = self._portfolio
        if portfolio.has_fill(fill):
            self.stats.duplicate_fills += 1
            return
        try:
            known = portfolio.order(fill.client_order_id)
        except (LedgerError, DataError):
            self._record_fill(fill)  # the ledger still says what the venue did
            raise
        if known is not None and known.filled_quantity > 0:
            self._crash("between_fills")
        self._record_fill(fill)
        outcome, problem = apply_fill(portfolio, fill)
        if outcome is FillOutcome.REFUSED:
            self._anomaly(AnomalyKind.INVARIANT_VIOLATION, problem)
            return
        quality = self._quality
        if quality is not None:
            quality.fill_applied(fill)
        self.stats.fills += 1
        self.new_fills.append(fill)
        if self._metrics is not None:
            venue = fill.venue or (known.venue if known is not None else "unknown")
            self._metrics.fill(venue, fill.symbol, fill.liquidity.value, fill.price * fill.quantity)
        self._telemetry.emit(
            "fill",
            fill.ts_ms,
            client_order_id=fill.client_order_id,
            symbol=fill.symbol,
            side=fill.side,  # a StrEnum: the line holds its value, as for every enum field
            price=fill.price,
            quantity=fill.quantity,
            fee=fill.fee,
            liquidity=fill.liquidity,
        )

    def _record_fill(self, fill: Fill) -> None:
        """Append the ``fill`` event (with its execution-quality facts); a ledger failure is an anomaly."""
        record = fill.to_record()
        if self._quality is not None:
            try:
                record.update(self._quality.fill_facts(fill))
            except (LedgerError, DataError):  # its order's mid cannot be read back: the session halts on it
                record.update(arrival_mid=None, slippage_bps=None)
        try:
            self._ledger.record(ev.FILL, fill.ts_ms, record, durable=False)  # the venue's answer: §3.5
        except LedgerError as exc:
            self._anomaly(AnomalyKind.LEDGER_WRITE_FAILED, str(exc))

    def _on_order_report(self, report: OrderReport) -> None:
        try:
            self._ledger.record(
                ev.ORDER_REPORT,
                report.ts_ms,
                report_record(report),
                durable=False,  # the venue's answer: committed with the next commit (docs/recovery.md, Durability)
            )
        except LedgerError as exc:
            self._anomaly(AnomalyKind.LEDGER_WRITE_FAILED, str(exc))
        status = report.status
        outcome, problem = apply_status(
            self._portfolio, report.client_order_id, status.value, report.ts_ms,
            venue_order_id=report.venue_order_id, reason=report.reason,
        )  # fmt: skip
        if outcome is StatusOutcome.UNKNOWN_ORDER and report.client_order_id in self._disowned:
            return  # a leftover of an earlier session, cancelled at startup (reconcile/leftovers.py)
        if outcome in (StatusOutcome.UNKNOWN_ORDER, StatusOutcome.INVALID):
            self._anomaly(AnomalyKind.INVARIANT_VIOLATION, problem)
            return
        if outcome is StatusOutcome.IGNORED:
            return
        if status is OrderStatus.REJECTED:
            self.stats.rejected += 1
            if self._metrics is not None:
                order = self._portfolio.order(report.client_order_id)
                self._metrics.rejected(order.venue if order is not None else "unknown", report.code)
        self._telemetry.emit(
            "order_report",
            report.ts_ms,
            client_order_id=report.client_order_id,
            status=status,
            code=report.code,
            reason=report.reason,
        )


def is_livegate_order(portfolio: Portfolio, client_order_id: str) -> bool:
    """Return True for an order livegate made (its client id) or its book holds; False for an outside order.

    A let-go order the ledger cannot give back counts as livegate's: whoever asks then
    meets the read failure on its own path (the session halts on it).
    """
    if is_livegate_client_id(client_order_id):
        return True
    try:
        return portfolio.order(client_order_id) is not None
    except (LedgerError, DataError):
        return True


def report_record(report: OrderReport) -> dict[str, object]:
    """Return the payload of the ``order_report`` ledger event of a venue's ``report``."""
    return {
        "client_order_id": report.client_order_id,
        "status": report.status.value,
        "venue_order_id": report.venue_order_id,
        "code": report.code,
        "reason": report.reason,
        "filled_quantity": None if report.filled_quantity is None else str(report.filled_quantity),
    }


def decision_record(
    decision: Approved | Denied, venue: str, arrival: dict[str, object] | None = None
) -> dict[str, object]:
    """Return the payload of a ``decision`` ledger event (the pipeline's answer, the routed venue, the arrival quote).

    ``arrival`` is :func:`livegate.execution.quality.arrival_record` (None without a quote).
    """
    if isinstance(decision, Denied):
        return {
            "client_order_id": decision.client_order_id,
            "approved": False,
            "code": decision.code.value,
            "detail": decision.detail,
            "venue": venue,
            "arrival": arrival,
        }
    return {
        "client_order_id": decision.client_order_id,
        "approved": True,
        "code": None,
        "detail": "",
        "venue": venue,
        "arrival": arrival,
    }
