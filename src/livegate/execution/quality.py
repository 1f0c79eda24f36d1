"""Execution-quality facts recorded at the source: arrival quote, slippage, markouts (issue 13 item 1).

* **Arrival quote.** Every ``decision`` event carries the quote the decision saw:
  ``{"bid", "ask", "mid", "age_ms"}`` (prices as exact decimal strings in quote currency,
  ``age_ms`` = decision clock time - the quote's exchange event time), or ``null`` when
  the symbol had no quote.
* **Slippage.** Every ``fill`` event carries ``arrival_mid`` and ``slippage_bps`` =
  side sign x (fill price - arrival mid) / arrival mid x 10,000, rounded half-even to
  0.0001 bps; positive is a cost (a buy above, or a sell below, the arrival mid). Both are
  ``null`` for a fill whose order has no arrival quote in this session (a resumed run's
  earlier orders, an adopted leftover).
* **Markouts.** 1 s, 5 s and 60 s after each fill (:data:`MARKOUT_HORIZONS_MS`), the first
  quote of the fill's symbol at or after that time gives ``mid_after``; a ``markout`` event
  records side sign x (mid_after - mid at the fill) / mid at the fill x 10,000 bps
  (positive = the market moved the fill's way). A horizon the session ends before is
  never recorded. Only quotes drive markouts, so a replay records the same ones every time.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final

from livegate.domain.enums import Side
from livegate.domain.market import Quote
from livegate.domain.orders import Fill
from livegate.marketdata.quote_cache import QuoteCache

__all__ = [
    "MARKOUT_HORIZONS_MS",
    "NEVER_MS",
    "ArrivalBook",
    "ExecutionQuality",
    "MarkoutTracker",
    "arrival_record",
    "signed_bps",
]

#: Markout horizons in ms after the fill (issue 13: 1 s, 5 s, 60 s).
MARKOUT_HORIZONS_MS: Final = (1_000, 5_000, 60_000)
#: "Nothing due": later than any clock time.
NEVER_MS: Final = 2**62
_BPS: Final = Decimal(10_000)
_TWO: Final = Decimal(2)
#: Resolution of the recorded bps figures.
_BPS_QUANTUM: Final = Decimal("0.0001")
#: ``Side.BUY.value`` and ``Side.SELL.value`` as plain text (a payload the ledger encodes fast holds exact str).
_BUY: Final = str(Side.BUY.value)
_SELL: Final = str(Side.SELL.value)


def signed_bps(sign: int, price: Decimal, reference: Decimal) -> Decimal:
    """Return ``sign`` x (price - reference) / reference in bps, rounded half-even to 0.0001.

    Parameters
    ----------
    sign:
        +1 for a buy, -1 for a sell (:attr:`livegate.domain.enums.Side.sign`).
    price, reference:
        Prices in quote currency; ``reference`` must be positive.
    """
    return (sign * (price - reference) * _BPS / reference).quantize(_BPS_QUANTUM, rounding=ROUND_HALF_EVEN)


def arrival_record(quote: Quote | None, now_ms: int) -> dict[str, object] | None:
    """Return the ``arrival`` payload of a decision, or None without a quote.

    Parameters
    ----------
    quote:
        The last quote of the intent's symbol when the decision was made.
    now_ms:
        Decision clock time, ms since the epoch (``age_ms`` = ``now_ms`` - ``quote.ts_event_ms``).
    """
    if quote is None:
        return None
    mid = (quote.bid_price + quote.ask_price) / _TWO
    return {
        "bid": str(quote.bid_price),
        "ask": str(quote.ask_price),
        "mid": str(mid),
        "age_ms": now_ms - quote.ts_event_ms,
    }


#: How many distinct mid texts :class:`ArrivalBook` shares before it starts a new set.
_RECENT_MIDS: Final = 4_096


class ArrivalBook:
    """Arrival mids by client order id for the session's approved orders, and the fill facts they give."""

    __slots__ = ("_mids", "_recent")

    def __init__(self) -> None:
        #: The decision payload's ``mid`` text, read at a fill; orders placed at the same mid share
        #: one text object (a market maker's 12,729 orders of a 1M-quote replay had 333 mids).
        self._mids: dict[str, str] = {}
        self._recent: dict[str, str] = {}  # the mid texts seen lately, each once

    def remember(self, client_order_id: str, arrival: dict[str, object] | None) -> None:
        """Keep the arrival mid of an approved order (nothing when it had no quote)."""
        if arrival is not None:
            text = str(arrival["mid"])
            shared = self._recent.get(text)
            if shared is None:
                if len(self._recent) >= _RECENT_MIDS:
                    self._recent.clear()
                shared = self._recent[text] = text
            self._mids[client_order_id] = shared

    def forget(self, client_order_id: str) -> None:
        """Let an order's arrival mid go (a finished order let go from the engine's book)."""
        self._mids.pop(client_order_id, None)

    def fill_facts(self, fill: Fill, look_up: Callable[[str], str | None] | None = None) -> dict[str, object]:
        """Return ``arrival_mid`` and ``slippage_bps`` (exact strings, or None) for a fill's ledger payload.

        ``look_up`` gives the mid of an order this book does not hold (one it forgot), or None.
        """
        text = self._mids.get(fill.client_order_id)
        if text is None and look_up is not None:
            text = look_up(fill.client_order_id)
        mid = None if text is None else Decimal(text)
        if mid is None or mid <= 0:
            return {"arrival_mid": None, "slippage_bps": None}
        return {"arrival_mid": str(mid), "slippage_bps": str(signed_bps(fill.side.sign, fill.price, mid))}


#: A pending markout in a symbol's heap: (due ms, order of arrival, horizon ms, fill, mid at the fill).
_Pending = tuple[int, int, int, Fill, Decimal]


class MarkoutTracker:
    """Wait for each fill's markout horizons and turn the first quote past each into a ``markout`` record.

    Pending markouts wait in one heap per symbol ordered by (due time, order of arrival),
    so a fill costs O(log n) however many markouts are pending (an order every 40 ms keeps
    about 4,500 waiting for the 60 s horizon).

    Parameters
    ----------
    record:
        Called with ``(ts_ms, payload)`` for each markout (the engine appends it to the ledger).

    Attributes
    ----------
    next_due_ms : int
        The earliest due time of any pending markout (:data:`NEVER_MS` when none): the
        session loop calls :meth:`on_quote` only for quotes at or after it.
    """

    __slots__ = ("_added", "_pending", "_record", "next_due_ms")

    def __init__(self, record: Callable[[int, dict[str, object]], None]) -> None:
        self._record = record
        self._pending: dict[str, list[_Pending]] = {}
        self._added = 0
        self.next_due_ms = NEVER_MS

    def add(self, fill: Fill, mid_at_fill: Decimal | None) -> None:
        """Schedule the markouts of ``fill`` (none when the mid at the fill is unknown)."""
        if mid_at_fill is None or mid_at_fill <= 0:
            return
        heap = self._pending.setdefault(fill.symbol, [])
        ts_ms, added = fill.ts_ms, self._added
        for horizon in MARKOUT_HORIZONS_MS:
            added += 1
            heapq.heappush(heap, (ts_ms + horizon, added, horizon, fill, mid_at_fill))
        self._added = added
        self.next_due_ms = min(self.next_due_ms, ts_ms + MARKOUT_HORIZONS_MS[0])

    def on_quote(self, quote: Quote) -> None:
        """Record every markout of ``quote``'s symbol that is due at or before the quote's event time."""
        heap = self._pending.get(quote.symbol)
        ts = quote.ts_event_ms
        if heap:
            mid = (quote.bid_price + quote.ask_price) / _TWO
            mid_text = str(mid)
            while heap and heap[0][0] <= ts:
                _, _, horizon, fill, mid_at_fill = heapq.heappop(heap)
                buy = fill.side is Side.BUY
                self._record(
                    ts,
                    {
                        "client_order_id": fill.client_order_id,
                        "fill_id": fill.fill_id,
                        "symbol": fill.symbol,
                        "side": _BUY if buy else _SELL,
                        "horizon_ms": horizon,
                        "fill_ts_ms": fill.ts_ms,
                        "mid_at_fill": str(mid_at_fill),
                        "mid_after": mid_text,
                        "markout_bps": str(signed_bps(1 if buy else -1, mid, mid_at_fill)),
                    },
                )
        self.next_due_ms = min((h[0][0] for h in self._pending.values() if h), default=NEVER_MS)

    @property
    def pending(self) -> int:
        """Return how many markouts wait for their horizon."""
        return sum(len(h) for h in self._pending.values())


class ExecutionQuality:
    """The engine's execution-quality facts: arrival quotes, fill slippage and markouts.

    Parameters
    ----------
    quotes:
        The session's quote cache (the one the tripwires read).
    record_markout:
        Called with ``(ts_ms, payload)`` for each ``markout`` event.
    """

    __slots__ = ("_arrivals", "_quotes", "arrival_of", "markouts")

    def __init__(self, quotes: QuoteCache, record_markout: Callable[[int, dict[str, object]], None]) -> None:
        self._quotes = quotes
        self._arrivals = ArrivalBook()
        self.markouts = MarkoutTracker(record_markout)
        #: Reads back the arrival mid of an order whose mid was let go (:meth:`forget`): the
        #: session's report reader rebuilds its decision from the ledger
        #: (:meth:`livegate.ledger.fold_retire.Retirement.arrival_mid`). None: nothing is let go.
        self.arrival_of: Callable[[str], str | None] | None = None

    def arrival(self, symbol: str, now_ms: int) -> dict[str, object] | None:
        """Return the arrival quote record of a decision on ``symbol`` at ``now_ms``."""
        return arrival_record(self._quotes.last(symbol), now_ms)

    def approved(self, client_order_id: str, arrival: dict[str, object] | None) -> None:
        """Remember an approved order's arrival mid for its fills' slippage."""
        self._arrivals.remember(client_order_id, arrival)

    def forget(self, client_order_id: str) -> None:
        """Let a finished order's arrival mid go (read back through :attr:`arrival_of` if a late fill needs it)."""
        if self.arrival_of is not None:
            self._arrivals.forget(client_order_id)

    def fill_facts(self, fill: Fill) -> dict[str, object]:
        """Return the fill payload's ``arrival_mid`` and ``slippage_bps``.

        Raises
        ------
        LedgerError, DataError
            If the mid of an order let go cannot be read back (:attr:`arrival_of`).
        """
        return self._arrivals.fill_facts(fill, self.arrival_of)

    def fill_applied(self, fill: Fill) -> None:
        """Schedule the markouts of a fill counted in the book (reference: the mid of the quote cache now)."""
        self.markouts.add(fill, self._quotes.mid(fill.symbol))
