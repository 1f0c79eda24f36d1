"""Builders for risk tests: instruments, quotes, positions and intents with exact decimals."""

from __future__ import annotations

from decimal import Decimal

from livegate.domain.clock import ReplayClock
from livegate.domain.enums import Liquidity, OrderStatus, OrderType, Side, TimeInForce
from livegate.domain.instruments import Instrument
from livegate.domain.market import Quote
from livegate.domain.orders import Fill, Order, OrderIntent
from livegate.marketdata.quote_cache import QuoteCache
from livegate.portfolio import Portfolio
from livegate.risk.gate import RiskContext

D = Decimal
T0 = 1_723_161_255_000  # 2024-08-08 23:54:15 UTC, the bundled sample's start
BTC = "BTCUSDT"
ETH = "ETHUSDT"


def instruments() -> dict[str, Instrument]:
    return {
        BTC: Instrument(BTC, "binanceusdm", D("0.10"), D("0.001"), D("5"), min_quantity=D("0.001")),
        ETH: Instrument(ETH, "binanceusdm", D("0.01"), D("0.001"), D("5"), min_quantity=D("0.001")),
    }


def quote(symbol: str = BTC, bid: str = "60000.0", ask: str = "60000.1", ts: int = T0, size: str = "5") -> Quote:
    return Quote(symbol, D(bid), D(size), D(ask), D(size), ts, venue="binanceusdm")


def context(*quotes: Quote, now: int = T0) -> RiskContext:
    cache = QuoteCache()
    for q in quotes:
        cache.update(q)
    return RiskContext(instruments=instruments(), quotes=cache, portfolio=Portfolio(), clock=ReplayClock(now))


_seq = [0]


def intent(
    side: str = "buy",
    qty: str = "0.010",
    price: str | None = None,
    *,
    symbol: str = BTC,
    reduce_only: bool = False,
    ts: int = T0,
    tif: str = "ioc",
) -> OrderIntent:
    _seq[0] += 1
    return OrderIntent(
        symbol=symbol,
        side=Side(side),
        quantity=D(qty),
        order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
        price=None if price is None else D(price),
        time_in_force=TimeInForce(tif),
        post_only=False,
        reduce_only=reduce_only,
        strategy_id="test",
        seq=_seq[0],
        ts_ms=ts,
    )


def add_working(ctx: RiskContext, side: str, qty: str, price: str | None, symbol: str = BTC) -> Order:
    """Track an accepted, unfilled order (as the engine would after the venue's answer)."""
    order = Order(f"w{_seq[0] + 1}", intent(side, qty, price, symbol=symbol, tif="gtc"), "paper")
    ctx.portfolio.add_order(order)
    order.transition(OrderStatus.SUBMITTED, T0)
    order.transition(OrderStatus.ACCEPTED, T0)
    return order


def add_position(ctx: RiskContext, side: str, qty: str, price: str, symbol: str = BTC, fee: str = "0") -> None:
    """Give the portfolio a position through a filled order."""
    order = add_working(ctx, side, qty, price, symbol)
    fill = Fill(
        order.client_order_id,
        f"f-{order.client_order_id}",
        symbol,
        Side(side),
        D(price),
        D(qty),
        D(fee),
        Liquidity.MAKER,
        T0,
    )
    ctx.portfolio.apply_fill(fill)
