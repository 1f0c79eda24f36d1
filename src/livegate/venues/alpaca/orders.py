"""Orders at Alpaca: submit, cancel (with a read-back), cancel-all and lookups by client order id.

Orders are posted with decimal strings (``"qty": "129.7"``) through the client's ``post``:
alpaca-py's request models hold quantities as ``float`` (docs/venues_equities.md). A
submit is sent once (:meth:`AlpacaCalls.call`); lookups are idempotent reads
(:meth:`AlpacaCalls.read`).
"""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

from alpaca.common.enums import Sort
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import QueryOrderStatus
from alpaca.trading.requests import GetOrdersRequest

from livegate.domain.clock import Clock
from livegate.domain.enums import OrderStatus, OrderType
from livegate.domain.errors import Ambiguous, Fatal, Rejected, Retryable
from livegate.domain.ids import is_livegate_client_id
from livegate.domain.orders import Order, OrderReport
from livegate.domain.snapshots import VenueOrderSnapshot
from livegate.venues.alpaca.calls import AlpacaCalls
from livegate.venues.alpaca.errors import AlpacaOp
from livegate.venues.alpaca.mapping import order_report, order_snapshot, order_submitted_ms

__all__ = ["AlpacaOrders"]

log = logging.getLogger("livegate.venues.alpaca")


class AlpacaOrders:
    """The order requests of one Alpaca account.

    Parameters
    ----------
    client:
        alpaca-py's ``TradingClient`` (raw JSON, no SDK retries).
    calls:
        Budgeted, timed-out calls with errors translated once.
    clock:
        Source of report times (ms since the epoch) the venue does not give.
    order_ids:
        Alpaca order id by our client order id, shared with the adapter (filled here on
        submit and lookup).
    trading:
        False for a market-data-only adapter: a submit is refused.
    cancel_confirm_attempts, cancel_confirm_wait_secs:
        Re-reads of a cancelled order while it is still ``pending_cancel``.
    """

    def __init__(
        self,
        client: TradingClient,
        calls: AlpacaCalls,
        clock: Clock,
        order_ids: dict[str, str],
        *,
        trading: bool,
        cancel_confirm_attempts: int,
        cancel_confirm_wait_secs: float,
    ) -> None:
        self._client = client
        self._calls = calls
        self._clock = clock
        self._order_ids = order_ids
        self._trading = trading
        self._cancel_attempts = cancel_confirm_attempts
        self._cancel_wait_secs = cancel_confirm_wait_secs

    async def submit(self, order: Order) -> OrderReport:
        """Post ``order`` to ``/v2/orders`` under its client order id; never retried.

        Raises
        ------
        Rejected
            Alpaca refused it (4xx with a code), or it asks for what Alpaca lacks (post-only).
        Ambiguous
            Timeout, disconnect, 5xx, unparseable answer, or a duplicate client order id.
        Retryable
            HTTP 429: nothing was placed.
        Fatal
            Authentication or permission.
        """
        intent = order.intent
        if not self._trading:
            raise Fatal("alpaca: market-data-only adapter (shadow/paper) cannot send orders", "DATA_ONLY")
        if intent.post_only:
            raise Rejected("alpaca has no post-only orders", "UNSUPPORTED")
        payload: dict[str, str | bool] = {
            "symbol": intent.symbol,
            "qty": _plain(intent.quantity),
            "side": intent.side.value,
            "type": intent.order_type.value,
            "time_in_force": intent.time_in_force.value,
            "client_order_id": order.client_order_id,
        }
        if intent.order_type is OrderType.LIMIT:
            if intent.price is None:
                raise Rejected("limit order without a price", "INVALID_PRICE")
            payload["limit_price"] = _plain(intent.price)
        fractional = intent.quantity != intent.quantity.to_integral_value()
        if intent.outside_rth or fractional:
            # Alpaca takes extended-hours and fractional orders only as DAY orders
            payload["time_in_force"] = "day"
        if intent.outside_rth:
            payload["extended_hours"] = True
        raw = await self._calls.call(AlpacaOp.SUBMIT, self._client.post, "/orders", payload)
        report = self._calls.parse(AlpacaOp.SUBMIT, order_report, raw)
        if report.venue_order_id:
            self._order_ids[order.client_order_id] = report.venue_order_id
        return report

    async def cancel(self, client_order_id: str, symbol: str) -> OrderReport:
        """Cancel by client order id (``DELETE /v2/orders/{id}``), then read the order back.

        Alpaca answers 204 when it accepts the cancel; the order is re-read (up to
        ``cancel_confirm_attempts`` times while ``pending_cancel``) to report its state.

        Raises
        ------
        Rejected
            Unknown order (404) or no longer cancelable (422).
        """
        order_id = self._order_ids.get(client_order_id)
        if order_id is None:
            snapshot = await self.fetch_order(client_order_id, symbol)
            if snapshot is None:
                raise Rejected(f"alpaca: no order {client_order_id!r}", "UNKNOWN_ORDER")
            order_id = snapshot.venue_order_id
        return await self._cancel_by_id(order_id, client_order_id)

    async def cancel_all(self, symbol: str | None = None, *, everything: bool = False) -> list[OrderReport]:
        """Cancel livegate's open orders (of ``symbol`` when given); outside orders are left open.

        The open orders are read first. Without a symbol and with no outside order open
        (a client id livegate did not make: :func:`~livegate.domain.ids.is_livegate_client_id`),
        the native ``DELETE /v2/orders``, which cancels every order of the account; its
        answer lists each order with an HTTP status, and 200 (Alpaca accepted the cancel)
        is reported CANCELLED (the stream's ``canceled`` event confirms it). Otherwise
        livegate's orders one by one. ``everything`` (``livegate cancel-all --venue``)
        cancels the outside ones as well.
        """
        open_now = await self.open_orders(symbol)
        ours = [o for o in open_now if everything or is_livegate_client_id(o.client_order_id)]
        if symbol is not None or len(ours) < len(open_now):
            return [await self._cancel_by_id(o.venue_order_id, o.client_order_id) for o in ours]
        if not ours:
            return []
        rows = await self._calls.call(AlpacaOp.CANCEL, self._client.cancel_orders)
        reports: list[OrderReport] = []
        for row in rows or []:
            body = row.get("body") or {}
            if int(row.get("status", 0)) != 200:
                log.warning("alpaca cancel-all: order %s answered %s", row.get("id"), row.get("status"))
                continue
            reports.append(
                OrderReport(
                    client_order_id=str(body.get("client_order_id", "")),
                    status=OrderStatus.CANCELLED,
                    ts_ms=self._clock.now_ms(),
                    venue_order_id=str(row.get("id", "")),
                )
            )
        return reports

    async def fetch_order(self, client_order_id: str, symbol: str) -> VenueOrderSnapshot | None:
        """Return the order by client order id (``GET /v2/orders:by_client_order_id``); None on 404."""
        found = await self.lookup(client_order_id)
        return None if found is None else found[0]

    async def lookup(self, client_order_id: str) -> tuple[VenueOrderSnapshot, int] | None:
        """Return the order by client order id and when Alpaca took it (``submitted_at``, ms); None on 404."""
        try:
            raw = await self._calls.read(self._client.get_order_by_client_id, client_order_id)
        except Rejected as exc:
            if exc.code.startswith("404"):
                return None
            raise
        snapshot = self._calls.parse(AlpacaOp.READ, order_snapshot, raw)
        submitted_ms = self._calls.parse(AlpacaOp.READ, order_submitted_ms, raw)
        self._order_ids[client_order_id] = snapshot.venue_order_id
        return snapshot, submitted_ms

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrderSnapshot]:
        """Return open orders (of ``symbol`` when given), oldest first (at most 500)."""
        request = GetOrdersRequest(
            status=QueryOrderStatus.OPEN, limit=500, direction=Sort.ASC, symbols=[symbol] if symbol else None
        )
        rows = await self._calls.read(self._client.get_orders, request)
        return [self._calls.parse(AlpacaOp.READ, order_snapshot, row) for row in rows or []]

    async def _cancel_by_id(self, order_id: str, client_order_id: str) -> OrderReport:
        await self._calls.call(AlpacaOp.CANCEL, self._client.cancel_order_by_id, order_id)
        report = OrderReport(client_order_id, OrderStatus.CANCEL_PENDING, self._clock.now_ms(), venue_order_id=order_id)
        for attempt in range(max(1, self._cancel_attempts)):
            try:
                raw = await self._calls.read(self._client.get_order_by_id, order_id)
            except (Ambiguous, Retryable, Rejected) as exc:
                log.warning("alpaca cancel %s: read-back failed: %s", client_order_id, exc.message)
                break
            report = self._calls.parse(AlpacaOp.READ, order_report, raw)
            if report.status is not OrderStatus.CANCEL_PENDING:
                break
            if attempt + 1 < self._cancel_attempts:
                await asyncio.sleep(self._cancel_wait_secs)
        return report


def _plain(value: Decimal) -> str:
    """Return ``value`` as a plain decimal string (no exponent), e.g. ``1E-9`` → ``0.000000001``."""
    return format(value, "f")
