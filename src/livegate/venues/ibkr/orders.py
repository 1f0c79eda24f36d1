"""Orders at Interactive Brokers: requests to TWS and TWS's asynchronous answers to them.

* ``orderRef`` carries our client order id; IB's ``permId`` (stable across sessions and
  clients) is the venue order id reported back.
* TWS answers orders asynchronously: :meth:`IbkrOrders.submit` waits up to
  ``submit_ack_timeout_secs`` for the first status past ``PendingSubmit`` or an order
  error; no answer, a disconnect or IB error 1100 meanwhile is ambiguous.
* Open orders are read on demand (``reqOpenOrders``) by :meth:`IbkrOrders.fetch_order`,
  :meth:`IbkrOrders.open_orders` and the cancels; orders finished in earlier TWS sessions
  are read with ``reqCompletedOrders`` when a lookup finds nothing else.
* Status messages that are news (accepted, cancelled, expired, rejected) go to the sink
  once each; the answers to the adapter's own open-orders reads do not.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from ib_async import LimitOrder, MarketOrder

from livegate.domain.clock import Clock
from livegate.domain.enums import OrderStatus, OrderType, TimeInForce
from livegate.domain.errors import Ambiguous, Rejected, VenueError
from livegate.domain.ids import is_livegate_client_id
from livegate.domain.orders import Order, OrderReport
from livegate.domain.snapshots import VenueOrderSnapshot
from livegate.venues.base import ReportSink
from livegate.venues.ibkr.connection import TwsConnection
from livegate.venues.ibkr.errors import PACING_VIOLATION, TwsError, is_warning, translate_code
from livegate.venues.ibkr.mapping import PENDING_STATUSES, ib_status
from livegate.venues.ibkr.views import (
    find_trade,
    last_error,
    order_report,
    order_snapshot,
    status_of,
    working_trades,
)

__all__ = ["IbkrOrders"]

_STREAMED = frozenset({OrderStatus.ACCEPTED, OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.REJECTED})
_NOT_CANCELABLE = "NOT_CANCELABLE"
_NOT_CONNECTED = "NOT_CONNECTED"


class IbkrOrders:
    """The orders of one TWS API client: submit, cancel, lookups, and the status events answering them.

    Parameters
    ----------
    tws:
        The API connection (ib_async ``IB``, pacer, request timeout, account).
    contracts:
        Stock contract by symbol, shared with the adapter (qualified at connect).
    clock:
        Source of report times (IB order messages carry none).
    submit_ack_timeout_secs:
        How long a submit waits for TWS's first answer.
    """

    def __init__(
        self, tws: TwsConnection, contracts: dict[str, Any], clock: Clock, submit_ack_timeout_secs: float
    ) -> None:
        self._tws = tws
        self._ib = tws.ib
        self._contracts = contracts
        self._clock = clock
        self._ack_timeout = submit_ack_timeout_secs
        self.sink: ReportSink | None = None
        self._pending_submits: dict[int, asyncio.Future[OrderReport]] = {}
        self._pending_cancels: dict[int, asyncio.Future[OrderReport]] = {}
        self._accepted: set[str] = set()
        self._streamed: dict[str, OrderStatus] = {}
        self._refreshing = 0

    async def submit(self, order: Order) -> OrderReport:
        """Place ``order`` with ``orderRef`` = client order id and wait for TWS's first answer.

        Raises
        ------
        Rejected
            An order error from TWS (201, 110, 200, ...), an order IB cannot take, or no
            connection to TWS at the moment of sending (``NOT_CONNECTED``: nothing was sent).
        Ambiguous
            No answer within ``submit_ack_timeout_secs``, not connected, disconnect or
            IB error 1100 while waiting.
        Retryable
            IB error 100 (pacing violation): the order was dropped.
        Fatal
            IB error 203 (security not allowed for the account) and other permission codes.
        """
        intent = order.intent
        contract = self._contracts.get(intent.symbol)
        if contract is None:
            raise Rejected(f"ibkr: unknown symbol {intent.symbol!r}", "UNKNOWN_SYMBOL")
        if intent.post_only:
            raise Rejected("ibkr: post-only orders are not supported", "UNSUPPORTED")
        action = "BUY" if intent.side.value == "buy" else "SELL"
        tif = "IOC" if intent.time_in_force is TimeInForce.IOC else "GTC"
        extra: dict[str, Any] = {"orderRef": order.client_order_id, "tif": tif, "account": self._tws.account}
        if intent.order_type is OrderType.LIMIT:
            if intent.price is None:
                raise Rejected("limit order without a price", "INVALID_PRICE")
            ib_order: Any = LimitOrder(action, float(intent.quantity), float(intent.price), **extra)
        else:
            ib_order = MarketOrder(action, float(intent.quantity), **extra)
        await self._tws.pacer.wait()
        future: asyncio.Future[OrderReport] = asyncio.get_running_loop().create_future()
        if not self._ib.isConnected():
            raise Rejected("ibkr: not connected to TWS (reconnecting); order not sent", _NOT_CONNECTED)
        try:
            trade = self._ib.placeOrder(contract, ib_order)
        except ConnectionError as exc:  # ib_async refuses before writing a byte: definitely not sent
            raise Rejected("ibkr: not connected to TWS; order not sent", _NOT_CONNECTED) from exc
        order_id = int(trade.order.orderId)
        self._pending_submits[order_id] = future
        try:
            return await asyncio.wait_for(asyncio.shield(future), self._ack_timeout)
        except TimeoutError as exc:
            raise Ambiguous(
                f"ibkr: no answer to order {order.client_order_id} in {self._ack_timeout}s", "timeout"
            ) from exc
        except TwsError as exc:
            raise translate_code(exc.code, exc.message) from exc
        except ConnectionError as exc:
            raise Ambiguous(f"ibkr: connection lost while placing {order.client_order_id}", "disconnect") from exc
        finally:
            self._pending_submits.pop(order_id, None)

    async def cancel(self, client_order_id: str, symbol: str) -> OrderReport:
        """Cancel the order whose ``orderRef`` is ``client_order_id`` and wait for ``Cancelled``.

        Raises
        ------
        Rejected
            Unknown order, already done, or TWS refused the cancel (161, 10147, 10148).
        Ambiguous
            No confirmation within ``request_timeout_secs`` or the connection dropped.
        """
        trade = self._find(client_order_id)
        if trade is None or trade.orderStatus.status in PENDING_STATUSES or _dropped_message(trade):
            await self._refresh_open_orders()  # TWS re-sends a working order's status
            trade = self._find(client_order_id)
        if trade is None:
            raise Rejected(f"ibkr: no order with orderRef {client_order_id!r}", "UNKNOWN_ORDER")
        if trade.isDone():
            raise Rejected(f"ibkr: order {client_order_id} is {trade.orderStatus.status}", _NOT_CANCELABLE)
        return await self._cancel_trade(trade)

    async def cancel_all(self, symbol: str | None = None, *, everything: bool = False) -> list[OrderReport]:
        """Cancel this API client's working orders that livegate made (of ``symbol`` when given).

        With a symbol, one by one, each confirmed. Without, one ``cancelOrder`` per working
        order, all sent before waiting up to ``request_timeout_secs`` for them. Not
        ``reqGlobalCancel``: it cancels "all open orders, regardless of how they were
        originally placed" (TWS API "Cancelling Orders"), orders typed into TWS and those of
        other API programs too, which livegate leaves alone (docs/recovery.md); its open
        orders and lookups are this client's (``reqOpenOrders``), and an order whose
        ``orderRef`` is not a livegate client id (one typed into TWS reaches client 0) is
        left open as well. ``everything`` (``livegate cancel-all --venue``, without a
        symbol): ``reqGlobalCancel``, every open order of the account.
        """
        await self._refresh_open_orders()
        working = [
            t
            for t in self._working()
            if (symbol is None or t.contract.symbol == symbol)
            and (everything or is_livegate_client_id(str(t.order.orderRef or "")))
        ]
        if symbol is not None:
            return [await self._cancel_trade(t) for t in working]
        sends = [self._ib.reqGlobalCancel] if everything else [partial(self._ib.cancelOrder, t.order) for t in working]
        for send in sends:
            await self._tws.pacer.wait()
            self._tws.ensure_connected()
            send()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._tws.request_timeout
        while any(not t.isDone() for t in working) and loop.time() < deadline:
            await asyncio.sleep(0.02)
        return [self._report(t, self._status_of(t) or OrderStatus.CANCEL_PENDING) for t in working]

    async def fetch_order(self, client_order_id: str, symbol: str) -> VenueOrderSnapshot | None:
        """Return the newest order TWS acknowledged with this ``orderRef``; None when TWS has none.

        Open orders are re-read from TWS first; orders finished earlier in this session are
        known from their status messages. An order still ``PendingSubmit`` (never
        acknowledged) does not count as seen.
        """
        await self._refresh_open_orders()
        trade = self._find(client_order_id)
        if trade is None:
            await self._tws.pacer.wait()
            self._tws.ensure_connected()
            await self._tws.request(self._ib.reqCompletedOrdersAsync(apiOnly=True))
            trade = self._find(client_order_id)
        return None if trade is None else self._snapshot(trade)

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrderSnapshot]:
        """Return this client's working orders TWS acknowledged, by order id."""
        await self._refresh_open_orders()
        trades = [t for t in self._working() if symbol is None or t.contract.symbol == symbol]
        return [self._snapshot(t) for t in sorted(trades, key=lambda t: int(t.order.orderId))]

    # ----------------------------------------------------------------- events
    def on_status(self, trade: Any) -> None:
        """Answer a waiting submit or cancel from an order status message, else report news to the sink."""
        cid = str(trade.order.orderRef or "")
        if not cid:
            return
        raw = str(trade.orderStatus.status)
        code, message = last_error(trade)
        status = ib_status(raw, was_accepted=cid in self._accepted, error_code=code)
        if status is None:
            return
        if status is OrderStatus.ACCEPTED:
            self._accepted.add(cid)
        order_id = int(trade.order.orderId)
        submit = self._pending_submits.get(order_id)
        if submit is not None and not submit.done():
            if raw in PENDING_STATUSES:
                return
            if status in (OrderStatus.REJECTED, OrderStatus.CANCELLED) and code not in (0, 202):
                submit.set_exception(TwsError(code, message))
            elif status is OrderStatus.REJECTED:
                submit.set_exception(TwsError(201, f"order {raw}"))
            else:
                submit.set_result(self._report(trade, status))
            return
        cancel = self._pending_cancels.get(order_id)
        if cancel is not None and not cancel.done():
            if status is OrderStatus.CANCELLED and code in (0, 202):
                cancel.set_result(self._report(trade, status))
            elif code and not is_warning(code):
                cancel.set_exception(TwsError(code, message))
            elif raw == "Filled":
                cancel.set_exception(TwsError(0, "order filled before the cancel"))
            return
        if status not in _STREAMED or self._streamed.get(cid) is status:
            return
        self._streamed[cid] = status
        if self._refreshing:
            return  # an answer to our own open-orders read is a snapshot, not news
        if self.sink is not None:
            self.sink(self._report(trade, status, code=str(code) if code else "", reason=message))

    def on_request_error(self, req_id: int, code: int, message: str) -> None:
        """Fail the submit or cancel waiting on order id ``req_id`` with TWS error ``code`` (202 ends no cancel)."""
        for pending in (self._pending_submits, self._pending_cancels):
            future = pending.get(req_id)
            if future is not None and not future.done() and not (pending is self._pending_cancels and code == 202):
                future.set_exception(TwsError(code, message))

    def fail_pending(self, exc: Exception) -> None:
        """Fail every waiting submit and cancel with ``exc`` (connection lost or adapter closed)."""
        for pending in (self._pending_submits, self._pending_cancels):
            for future in pending.values():
                if not future.done():
                    future.set_exception(exc)

    # ----------------------------------------------------------------- internals
    async def _refresh_open_orders(self) -> None:
        await self._tws.pacer.wait()
        self._tws.ensure_connected()
        self._refreshing += 1
        try:
            await self._tws.request(self._ib.reqOpenOrdersAsync())
        finally:
            self._refreshing -= 1

    async def _cancel_trade(self, trade: Any) -> OrderReport:
        order_id = int(trade.order.orderId)
        future: asyncio.Future[OrderReport] = asyncio.get_running_loop().create_future()
        self._pending_cancels[order_id] = future
        try:
            await self._tws.pacer.wait()
            self._tws.ensure_connected()
            self._ib.cancelOrder(trade.order)
            return await asyncio.wait_for(asyncio.shield(future), self._tws.request_timeout)
        except TimeoutError as exc:
            raise Ambiguous(f"ibkr: cancel of {trade.order.orderRef} not confirmed", "timeout") from exc
        except TwsError as exc:
            error: VenueError = translate_code(exc.code, exc.message) if exc.code else Rejected(exc.message, "FILLED")
            raise error from exc
        except ConnectionError as exc:
            raise Ambiguous(f"ibkr: connection lost while cancelling {trade.order.orderRef}", "disconnect") from exc
        finally:
            self._pending_cancels.pop(order_id, None)

    def _find(self, client_order_id: str) -> Any:
        return find_trade(self._ib.trades(), client_order_id)

    def _working(self) -> list[Any]:
        return working_trades(self._ib.openTrades())

    def _status_of(self, trade: Any) -> OrderStatus | None:
        return status_of(trade, self._accepted)

    def _report(self, trade: Any, status: OrderStatus, *, code: str = "", reason: str = "") -> OrderReport:
        return order_report(trade, status, self._clock.now_ms(), code=code, reason=reason)

    def _snapshot(self, trade: Any) -> VenueOrderSnapshot:
        return order_snapshot(trade, self._status_of(trade) or OrderStatus.ACCEPTED, self._clock.now_ms())


def _dropped_message(trade: Any) -> bool:
    """Return True when ib_async's last word on ``trade`` is TWS dropping a message about it (error 100).

    ib_async then shows the order ``Cancelled`` although TWS may still be working it
    (:func:`~livegate.venues.ibkr.mapping.ib_status`); only TWS's own status says.
    """
    return last_error(trade)[0] == PACING_VIOLATION
