"""The example market maker re-quotes a side only once its re-quote interval has passed.

Quotes inside the interval of both sides change nothing and read nothing from the
context (the example returns before pricing); the first quote past the interval prices
and re-quotes a side whose target moved.
"""

from __future__ import annotations

from decimal import Decimal

from livegate.domain.decisions import Denied
from livegate.domain.enums import DenialCode
from livegate.portfolio.book import PositionView
from livegate.strategy.examples.market_maker import MarketMaker
from tests.risk.helpers import T0, instruments, intent, quote

D = Decimal


class _Recorder:
    """A strategy context that records what the strategy asked of it (every submit is denied)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def instrument(self, symbol: str) -> object:
        self.calls.append(("instrument", symbol))
        return instruments()[symbol]

    def position(self, symbol: str) -> PositionView:
        self.calls.append(("position", symbol))
        return PositionView(symbol, D(0), D(0), D(0), D(0), D(0))

    def submit_order(self, **order: object) -> Denied:
        self.calls.append(("submit", (order["side"], order["price"])))
        made = intent(str(order["side"]), str(order["quantity"]), str(order["price"]))
        return Denied(made, "cid", DenialCode.DUPLICATE_INTENT, "recorded")

    def cancel_order(self, client_order_id: str) -> bool:
        self.calls.append(("cancel", client_order_id))
        return True


def test_market_maker_when_quotes_inside_the_interval_then_nothing_read_or_sent_until_it_passes() -> None:
    maker = MarketMaker(requote_interval_ms=500, half_spread_bps="1.5")
    ctx = _Recorder()
    maker.on_quote(ctx, quote(bid="60000.0", ask="60000.1", ts=T0 + 1000))  # type: ignore[arg-type]
    first = [c for c in ctx.calls if c[0] == "submit"]
    assert [side for _, (side, _) in first] == ["buy", "sell"]  # type: ignore[misc]
    ctx.calls.clear()
    for k in range(1, 5):  # 100-400 ms later, prices moved: both sides still inside their interval
        maker.on_quote(ctx, quote(bid=str(60000 + 10 * k), ask=str(60000.1 + 10 * k), ts=T0 + 1000 + 100 * k))  # type: ignore[arg-type]
    assert ctx.calls == []
    maker.on_quote(ctx, quote(bid="60050.0", ask="60050.1", ts=T0 + 1500))  # type: ignore[arg-type]
    again = [c for c in ctx.calls if c[0] == "submit"]
    assert [side for _, (side, _) in again] == ["buy", "sell"]  # type: ignore[misc]
    assert all(price != first_price for (_, (_, price)), (_, (_, first_price)) in zip(again, first, strict=True))  # type: ignore[misc]
