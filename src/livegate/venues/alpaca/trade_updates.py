"""Alpaca's ``trade_updates`` stream: order reports and fills to the sink, and the fills a reconnect hid.

Each update becomes an :class:`~livegate.domain.orders.OrderReport` or a
:class:`~livegate.domain.orders.Fill` (:func:`livegate.venues.alpaca.mapping.trade_update_report`).
alpaca-py reconnects silently; after a reconnect the fills of the gap are read from the
account activities and reported once (:meth:`TradeUpdates.import_gap_fills`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from livegate.domain.errors import Ambiguous, Fatal, Rejected, Retryable
from livegate.domain.orders import Fill, OrderReport
from livegate.venues.alpaca.mapping import trade_update_report
from livegate.venues.base import ReportSink

__all__ = ["TradeUpdates"]

log = logging.getLogger("livegate.venues.alpaca")


class TradeUpdates:
    """The reports of one account's ``trade_updates`` stream.

    Parameters
    ----------
    name:
        Venue name used in reports.
    trading:
        False for a market-data-only adapter: no fills are ever imported.
    order_ids:
        Alpaca order id by our client order id, shared with the adapter (filled from updates).
    recent_fills:
        The adapter's ``recent_fills``: the account's fills since a time (ms since the epoch).
    """

    def __init__(
        self,
        name: str,
        *,
        trading: bool,
        order_ids: dict[str, str],
        recent_fills: Callable[..., Awaitable[list[Fill]]],
    ) -> None:
        self.name = name
        self._trading = trading
        self._order_ids = order_ids
        self._recent_fills = recent_fills
        self.sink: ReportSink | None = None
        self._seen_fills: set[str] = set()
        #: the gap import reads fills from here on (ms since the epoch); set at connect
        self.gap_since_ms: int | None = None

    async def import_gap_fills(self) -> None:
        """Push the fills the trade-updates stream may have missed while down (account activities).

        Fills since the first one this adapter saw (or since connect) that the stream never
        reported go to the sink, oldest first; the engine counts each fill id once. A failed
        read is logged: the reconciliation that follows the reconnect still compares fills.
        """
        await self._import(self.gap_since_ms, None, "the stream gap")

    async def import_order_fills(self, client_order_id: str, since_ms: int) -> None:
        """Push the fills of one order made since ``since_ms`` that the stream never reported (account activities).

        A lookup that finds an order filled at the venue (an ambiguous submit settled by
        ``GET /v2/orders:by_client_order_id``) brings its filled quantity, not its
        executions; the executions come from here, under the venue's own execution ids,
        before the lookup's answer is applied, so nothing stands in for them. A failed read
        is logged: the lookup still settles the order.
        """
        await self._import(since_ms, client_order_id, f"order {client_order_id}")

    async def _import(self, since_ms: int | None, client_order_id: str | None, what: str) -> None:
        if not self._trading or self.sink is None:
            return
        try:
            fills = await self._recent_fills(since_ms=since_ms)
        except (Ambiguous, Retryable, Rejected, Fatal) as exc:
            log.warning("alpaca: fills of %s not read: %s", what, exc.message)
            return
        for fill in fills:
            if not fill.client_order_id or fill.fill_id in self._seen_fills:
                continue
            if client_order_id is not None and fill.client_order_id != client_order_id:
                continue
            log.warning("alpaca: fill %s of %s missed by the stream, imported", fill.fill_id, fill.client_order_id)
            self._seen_fills.add(fill.fill_id)
            self.sink(fill)

    async def on_trade_update(self, message: Any) -> None:
        """Report one ``trade_updates`` message to the sink (unparsable ones are logged and dropped)."""
        data = message.get("data") if isinstance(message, dict) else None
        if not isinstance(data, dict):
            return
        try:
            report = trade_update_report(data, self.name)
        except (ValueError, KeyError) as exc:
            log.error("alpaca trade update could not be parsed: %s", exc)
            return
        if report is None:
            return
        if not isinstance(report, OrderReport) or report.venue_order_id:
            order = data.get("order") or {}
            if order.get("client_order_id") and order.get("id"):
                self._order_ids[str(order["client_order_id"])] = str(order["id"])
        if isinstance(report, Fill):
            self._seen_fills.add(report.fill_id)
        if self.sink is not None:
            self.sink(report)
