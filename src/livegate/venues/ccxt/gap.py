"""Fills missed while the private stream was down (issue 10 §3k).

A dropped private (order/fill) stream loses the executions that happened until it is
back. :class:`FillGap` remembers the last trade id and time the adapter reported per
symbol; after a reconnect the adapter asks the venue for the account's trades since then
(Binance ``GET /api/v3/myTrades`` with ``fromId`` = last trade id + 1, which "fetches
trades >= that id"; Binance Spot API "Account trade list"; elsewhere ccxt ``since`` = the
last trade's time) and reports those it has not reported yet. The session is also told
to reconcile: the adapter puts a
:class:`~livegate.venues.base.StreamInterrupted` marker into its market-data stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from livegate.domain.orders import Fill

__all__ = ["FillGap"]

#: Exchanges whose ``fetchMyTrades`` takes ``fromId`` (a numeric trade id).
FROM_ID_EXCHANGES = frozenset({"binance", "binanceusdm", "binancecoinm", "binanceus"})
#: How many reported trade ids are remembered to avoid reporting a gap fill twice.
_REMEMBERED = 10_000


@dataclass(slots=True)
class FillGap:
    """Last reported trade per symbol, and the requests that fetch what came after it."""

    exchange_id: str
    last_id: dict[str, str] = field(default_factory=dict)
    last_ms: dict[str, int] = field(default_factory=dict)
    reported: dict[str, None] = field(default_factory=dict)

    def saw(self, fill: Fill) -> None:
        """Note a fill the adapter reported (stream or gap import)."""
        self.reported[fill.fill_id] = None
        if len(self.reported) > _REMEMBERED:
            del self.reported[next(iter(self.reported))]
        if fill.ts_ms >= self.last_ms.get(fill.symbol, 0):
            self.last_ms[fill.symbol] = fill.ts_ms
            self.last_id[fill.symbol] = fill.fill_id

    def requests(self, symbols: set[str]) -> list[tuple[str, int | None, dict[str, Any]]]:
        """Return ``(symbol, since_ms, params)`` of the ``fetchMyTrades`` calls that cover the gap."""
        out: list[tuple[str, int | None, dict[str, Any]]] = []
        for symbol in sorted(symbols | set(self.last_ms)):
            last_id = self.last_id.get(symbol, "")
            if self.exchange_id in FROM_ID_EXCHANGES and last_id.isdigit():
                out.append((symbol, None, {"fromId": int(last_id) + 1}))
            else:
                out.append((symbol, self.last_ms.get(symbol), {}))
        return out

    def new(self, fills: list[Fill]) -> list[Fill]:
        """Return the fills not reported yet, oldest first."""
        return sorted((f for f in fills if f.fill_id not in self.reported), key=lambda f: (f.ts_ms, f.fill_id))
