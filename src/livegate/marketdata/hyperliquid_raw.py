"""Turn Hyperliquid websocket messages (``l2Book``, ``trades``) into quotes and trades.

Source layout: ``shared/data/crypto/binance_ws_raw/hyperliquid_btc_20250126.jsonl.gz``
(README section 1). ``l2Book`` carries ``coin``, ``time`` (ms) and ``levels`` =
``[bids, asks]``, each a best-first list of ``{"px", "sz", "n"}``; only the best level of
each side is kept. ``trades`` carries a list of ``{"coin", "px", "sz", "side", "tid",
"time"}`` where ``side`` is the taker's side: ``B`` bought, ``A`` sold. Prices are
decimal strings in USD(C), sizes in base units.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from livegate.domain.enums import Side
from livegate.domain.market import Quote, Trade
from livegate.marketdata.checks import quote_rejection, trade_rejection

_SIDES = {"B": Side.BUY, "A": Side.SELL}

HyperliquidResult = tuple[list[Quote | Trade], list[str]]
"""Valid events of one message, and one reason per rejected item of it."""


def hyperliquid_events(message: dict[str, Any], recv_ns: int, venue: str) -> HyperliquidResult | None:
    """Parse one Hyperliquid message received at ``recv_ns`` (ns, recorder clock).

    Parameters
    ----------
    message:
        The decoded JSON object, with ``channel`` and ``data`` keys.
    recv_ns:
        Local receive time in ns since the epoch.
    venue:
        Copied into every event's ``venue``.

    Returns
    -------
    HyperliquidResult | None
        ``(events, problems)`` for ``l2Book`` and ``trades``; None for any other channel
        (subscription acks, pongs), which the caller counts as skipped.

    Raises
    ------
    KeyError, TypeError, IndexError, ValueError, decimal.InvalidOperation
        The message is malformed; the caller records it as a bad row.
    """
    channel = message["channel"]
    if channel == "l2Book":
        return _book_quote(message["data"], recv_ns, venue)
    if channel == "trades":
        return _trades(message["data"], recv_ns, venue)
    return None


def _book_quote(data: dict[str, Any], recv_ns: int, venue: str) -> HyperliquidResult:
    bids, asks = data["levels"]
    if not bids or not asks:
        return [], ["one-sided l2Book (a side has no levels)"]
    best_bid, best_ask = bids[0], asks[0]
    quote = Quote(
        str(data["coin"]),
        Decimal(best_bid["px"]),
        Decimal(best_bid["sz"]),
        Decimal(best_ask["px"]),
        Decimal(best_ask["sz"]),
        int(data["time"]),
        recv_ns,
        venue,
    )
    problem = quote_rejection(quote)
    if problem is not None:
        return [], [problem]
    return [quote], []


def _trades(data: list[dict[str, Any]], recv_ns: int, venue: str) -> HyperliquidResult:
    events: list[Quote | Trade] = []
    problems: list[str] = []
    for item in data:
        side = _SIDES.get(item["side"])
        if side is None:
            problems.append(f"unknown trade side {item['side']!r}")
            continue
        price, size = Decimal(item["px"]), Decimal(item["sz"])
        problem = trade_rejection(price, size)
        if problem is not None:
            problems.append(problem)
            continue
        events.append(Trade(str(item["coin"]), price, size, side, str(item["tid"]), int(item["time"]), recv_ns, venue))
    return events, problems
