"""One livegate fill per IB execution: ``execDetails`` joined with its commission report.

TWS sends an execution (``execDetails``) and, separately and later, its commission report
(TWS API "Executions and Commissions"). :class:`FillRelay` waits up to
``commission_wait_secs`` for the report, then pushes the fill with the commission as fee
(fee 0 and a warning when none came). Fills imported after a reconnect (``reqExecutions``)
go through :meth:`FillRelay.push`. Each ``execId`` is pushed once, whatever the path.
An execution that corrects an earlier one (:mod:`livegate.venues.ibkr.corrections`) is
pushed as a :class:`~livegate.domain.orders.FillCorrection`, never as one more fill.
"""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from typing import Any

from livegate.domain.orders import Fill, FillCorrection
from livegate.venues.base import ReportSink
from livegate.venues.ibkr.corrections import corrected_exec_id
from livegate.venues.ibkr.mapping import to_decimal
from livegate.venues.ibkr.views import fill_of

__all__ = ["FillRelay"]

log = logging.getLogger("livegate.venues.ibkr")


class FillRelay:
    """Join executions with commission reports and push each fill once to the sink.

    Parameters
    ----------
    venue:
        Venue name put on fills.
    commission_wait_secs:
        How long an execution waits for its commission report, in seconds.
    """

    def __init__(self, venue: str, commission_wait_secs: float) -> None:
        self.sink: ReportSink | None = None
        self._venue = venue
        self._wait = commission_wait_secs
        self._emitted: dict[str, Fill] = {}  # by execId: what was pushed
        self._timers: dict[str, asyncio.TimerHandle] = {}

    def on_exec(self, trade: Any, fill: Any) -> None:
        """Handle ib_async ``execDetailsEvent``: wait for the commission report of a livegate order."""
        exec_id = str(fill.execution.execId)
        if not trade.order.orderRef or exec_id in self._emitted or exec_id in self._timers:
            return
        loop = asyncio.get_running_loop()
        self._timers[exec_id] = loop.call_later(self._wait, self._emit, fill, None)

    def on_commission(self, trade: Any, fill: Any, report: Any) -> None:
        """Handle ib_async ``commissionReportEvent``: push the fill with its commission."""
        if trade.order.orderRef:
            self._emit(fill, to_decimal(report.commission))

    def push(self, fill: Fill) -> None:
        """Push a fill (or, for a correction's ``execId``, a :class:`FillCorrection`) unless pushed already."""
        self._cancel_timer(fill.fill_id)
        if fill.fill_id in self._emitted:
            return
        self._emitted[fill.fill_id] = fill
        if self.sink is None:
            return
        corrects = corrected_exec_id(fill.fill_id)
        if corrects is None:
            self.sink(fill)
            return
        log.warning(
            "ibkr execution %s corrects %s of %s: not counted as a fill", fill.fill_id, corrects, fill.client_order_id
        )
        self.sink(FillCorrection(fill.client_order_id, corrects, fill, self._emitted.get(corrects)))

    def close(self) -> None:
        """Drop the executions still waiting for their commission report."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    def _cancel_timer(self, exec_id: str) -> None:
        timer = self._timers.pop(exec_id, None)
        if timer is not None:
            timer.cancel()

    def _emit(self, fill: Any, fee: Decimal | None) -> None:
        exec_id = str(fill.execution.execId)
        if fee is None:
            log.warning("ibkr fill %s: no commission report after %ss, fee reported as 0", exec_id, self._wait)
        self.push(fill_of(fill, fee if fee is not None else Decimal(0), self._venue))
