"""The account's executions from TWS (``reqExecutions``), read as livegate fills.

TWS keeps executions of the current day (and up to 7 days in TWS's trade log) and stamps
them in whole seconds; each comes with its commission report (TWS API "Executions and
Commissions").
"""

from __future__ import annotations

from datetime import UTC, datetime

from ib_async import ExecutionFilter

from livegate.domain.orders import Fill
from livegate.venues.ibkr.connection import TwsConnection
from livegate.venues.ibkr.views import commission_of, fill_of

__all__ = ["read_executions"]


async def read_executions(tws: TwsConnection, since_ms: int | None, venue: str) -> list[Fill]:
    """Return the account's executions of livegate orders (``orderRef`` set) since ``since_ms``, oldest first.

    ``since_ms`` is floored to the second (TWS's stamps). The fee is the commission from
    ib_async's own record of the execution: for an ``execId`` it has seen before, ib_async
    answers ``reqExecutions`` with a fresh row that lacks the report (0 when none came).

    Raises
    ------
    Ambiguous
        Not connected, or no answer within the request timeout.
    """
    await tws.pacer.wait()
    tws.ensure_connected()
    if since_ms is not None:
        since_ms -= since_ms % 1000
    since = "" if since_ms is None else datetime.fromtimestamp(since_ms / 1000, UTC).strftime("%Y%m%d-%H:%M:%S")
    rows = await tws.request(tws.ib.reqExecutionsAsync(ExecutionFilter(acctCode=tws.account, time=since)))
    known = {f.execution.execId: f for f in tws.ib.fills()}
    fills = [
        fill_of(row, commission_of(known.get(row.execution.execId, row)), venue)
        for row in rows
        if row.execution.orderRef
    ]
    return sorted((f for f in fills if since_ms is None or f.ts_ms >= since_ms), key=lambda f: (f.ts_ms, f.fill_id))
