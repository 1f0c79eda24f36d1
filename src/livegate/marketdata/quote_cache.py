"""Per-symbol last quote: the read side the tripwires and strategies look at."""

from __future__ import annotations

from decimal import Decimal

from livegate.domain.market import Quote


class QuoteCache:
    """Hold the last quote of each symbol; every read is O(1).

    ``update`` is on the per-quote hot path, so it is one dict assignment: it stores the
    reference and checks nothing. Validation happens upstream (the replay loader never
    emits a NaN, zero, negative or crossed quote) and downstream (the market-data
    tripwires also judge locked books and staleness).

    Attributes
    ----------
    latest:
        Symbol -> last quote. The session loop stores into it directly
        (``latest[quote.symbol] = quote``, what :meth:`update` does, without the call);
        everything else reads through the methods.
    """

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: dict[str, Quote] = {}

    @property
    def latest(self) -> dict[str, Quote]:
        """Return the symbol -> last quote table itself (for the session loop's inline store)."""
        return self._last

    def update(self, quote: Quote) -> None:
        """Store ``quote`` as the latest of its symbol, replacing the previous one."""
        self._last[quote.symbol] = quote

    def last(self, symbol: str) -> Quote | None:
        """Return the latest quote of ``symbol``, or None if none arrived yet."""
        return self._last.get(symbol)

    def mid(self, symbol: str) -> Decimal | None:
        """Return the latest mid price of ``symbol`` in quote currency, or None without a quote."""
        quote = self._last.get(symbol)
        return None if quote is None else quote.mid_price

    def age_ms(self, symbol: str, now_ms: int) -> int | None:
        """Return ``now_ms - ts_event_ms`` of the latest quote of ``symbol``, or None without one.

        Parameters
        ----------
        symbol:
            Instrument symbol as the venue spells it (e.g. ``"BTCUSDT"``).
        now_ms:
            Current time in ms since the epoch on the exchange clock (the replay clock in
            replay, or local time corrected for venue clock offset when live).

        Returns
        -------
        int | None
            Age in ms. It is negative when ``now_ms`` lags the quote's event time (clock
            skew); callers that gate on staleness should treat that as suspect, not fresh.
        """
        quote = self._last.get(symbol)
        return None if quote is None else now_ms - quote.ts_event_ms

    def event_ms(self, symbol: str) -> int | None:
        """Return the exchange event time (ms since the epoch) of the latest quote, or None."""
        quote = self._last.get(symbol)
        return None if quote is None else quote.ts_event_ms

    def recv_ns(self, symbol: str) -> int | None:
        """Return the local receive time (ns since the epoch) of the latest quote, or None."""
        quote = self._last.get(symbol)
        return None if quote is None else quote.ts_recv_ns

    def symbols(self) -> list[str]:
        """Return the symbols that have a quote, sorted."""
        return sorted(self._last)

    def __len__(self) -> int:
        return len(self._last)

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._last
