"""The portfolio's incremental aggregates equal a fresh sum; a deferred HALT log still lands after the state file."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from livegate.domain.clock import ReplayClock
from livegate.domain.enums import Liquidity, OrderStatus, Side, TradingState
from livegate.domain.orders import Fill, Order
from livegate.portfolio import Portfolio
from livegate.risk.exposure import working_notional
from livegate.risk.killswitch import KillSwitch
from livegate.risk.state_store import LOG_FILE, TradingStateStore
from tests.risk.helpers import BTC, ETH, T0, context, intent, quote

D = Decimal

_op = st.tuples(
    st.sampled_from(["add", "fill", "cancel"]),
    st.sampled_from([BTC, ETH]),
    st.sampled_from(["buy", "sell"]),
    st.integers(min_value=1, max_value=9),
    st.one_of(st.none(), st.integers(min_value=-30, max_value=30)),
    st.integers(min_value=0, max_value=50),
)


def _fresh(portfolio: Portfolio, symbol: str) -> tuple[Decimal, Decimal, Decimal]:
    buys = sum((o.remaining_quantity for o in portfolio.working_orders(symbol) if o.side is Side.BUY), D(0))
    sells = sum((o.remaining_quantity for o in portfolio.working_orders(symbol) if o.side is Side.SELL), D(0))
    prices = [o.price for o in portfolio.working_orders(symbol) if o.price is not None]
    return buys, sells, max(prices, default=D(0))


def _fresh_working_notional(portfolio: Portfolio, quotes: dict[str, tuple[Decimal, Decimal]], pad: Decimal) -> Decimal:
    total = D(0)
    for order in portfolio.working_orders():
        bid, ask = quotes[order.symbol]
        far = (ask if order.side is Side.BUY else bid) * pad
        price = order.price
        total += order.remaining_quantity * (far if price is None or far > price else price)
    return total


@settings(max_examples=150, deadline=None)
@given(st.lists(_op, min_size=1, max_size=40))
def test_portfolio_totals_when_orders_come_fill_and_go_then_equal_a_fresh_sum(ops: list[tuple]) -> None:  # type: ignore[type-arg]
    ctx = context(quote(BTC), quote(ETH, bid="3000.00", ask="3000.01"))
    portfolio = ctx.portfolio
    orders: list[Order] = []
    for n, (kind, symbol, side, qty, offset, pick) in enumerate(ops):
        if kind == "add":
            base = D("60000.0") if symbol == BTC else D("3000.00")
            price = None if offset is None else str(base + D(offset))
            order = Order(f"o{n}", intent(side, f"0.00{qty}", price, symbol=symbol, tif="gtc"), "paper")
            portfolio.add_order(order)
            order.transition(OrderStatus.SUBMITTED, T0)
            orders.append(order)
            continue
        live = [o for o in orders if not o.status.is_terminal]
        if not live:
            continue
        order = live[pick % len(live)]
        if kind == "cancel":
            order.transition(OrderStatus.CANCELLED, T0)
            portfolio.refresh(order)
        else:
            part = min(order.remaining_quantity, D("0.001"))
            price = order.price if order.price is not None else D("60000.0")
            fill = Fill(
                order.client_order_id, f"f{n}", order.symbol, order.side, price, part, D(0), Liquidity.TAKER, T0
            )
            portfolio.apply_fill(fill)
        for sym in (BTC, ETH):
            totals = portfolio.working_totals(sym)
            assert (totals.buy.quantity, totals.sell.quantity, totals.high) == _fresh(portfolio, sym)
            exposed = bool(portfolio.working_orders(sym)) or portfolio.position_quantity(sym) != 0
            assert (sym in portfolio.exposed_symbols()) == exposed
        assert portfolio.working_count() == len(portfolio.working_orders())
    pad = D("1.005")
    marks = {BTC: (D("60000.0"), D("60000.1")), ETH: (D("3000.00"), D("3000.01"))}
    assert working_notional(ctx, pad) == _fresh_working_notional(portfolio, marks, pad)


def test_killswitch_when_halt_log_deferred_then_state_file_durable_first_and_log_on_flush(tmp_path: Path) -> None:
    store = TradingStateStore(tmp_path / "state")
    kill = KillSwitch(store, ReplayClock(T0), actor="t", defer_halt_log=True)
    change = kill.trip(TradingState.HALTED, "test", "test")
    assert change is not None and not change.persist_error
    assert store.load().current.state is TradingState.HALTED
    assert not (store.directory / LOG_FILE).exists()
    assert kill.flush_log() == ""
    lines = (store.directory / LOG_FILE).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and '"state": "halted"' in lines[0]
    assert KillSwitch(store, ReplayClock(T0)).state is TradingState.HALTED
