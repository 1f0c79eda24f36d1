"""The order state machine: allowed transitions work, everything else raises."""

from __future__ import annotations

from decimal import Decimal

import pytest

from livegate.domain.enums import Liquidity, OrderStatus, OrderType, Side, TimeInForce
from livegate.domain.errors import InvalidTransition
from livegate.domain.orders import TRANSITIONS, Fill, Order, OrderIntent


def _order(quantity: str = "0.003") -> Order:
    intent = OrderIntent(
        symbol="BTCUSDT",
        side=Side.BUY,
        quantity=Decimal(quantity),
        order_type=OrderType.LIMIT,
        price=Decimal("61800.20"),
        time_in_force=TimeInForce.GTC,
        post_only=False,
        reduce_only=False,
        strategy_id="t",
        seq=0,
        ts_ms=1,
    )
    return Order("cid-0", intent, "paper")


def _fill(qty: str) -> Fill:
    return Fill("cid-0", "f", "BTCUSDT", Side.BUY, Decimal("61800.20"), Decimal(qty), Decimal(0), Liquidity.MAKER, 2)


@pytest.mark.parametrize("start", list(OrderStatus))
@pytest.mark.parametrize("target", list(OrderStatus))
def test_transition_when_pair_not_in_table_then_raises(start: OrderStatus, target: OrderStatus) -> None:
    order = _order()
    order.status = start
    if target in TRANSITIONS[start]:
        order.transition(target, 5)
        assert order.status is target
    else:
        with pytest.raises(InvalidTransition):
            order.transition(target, 5)


def test_terminal_states_when_checked_then_have_no_exit() -> None:
    for status in OrderStatus:
        assert (TRANSITIONS[status] == frozenset()) == status.is_terminal


def test_apply_fill_when_partial_then_partially_filled_then_filled() -> None:
    order = _order()
    order.transition(OrderStatus.SUBMITTED, 1)
    order.transition(OrderStatus.ACCEPTED, 1)
    order.apply_fill(_fill("0.001"))
    assert order.status is OrderStatus.PARTIALLY_FILLED
    order.apply_fill(_fill("0.002"))
    assert order.status is OrderStatus.FILLED
    assert order.remaining_quantity == 0


def test_apply_fill_when_overfill_then_raises() -> None:
    order = _order("0.001")
    order.transition(OrderStatus.SUBMITTED, 1)
    with pytest.raises(InvalidTransition):
        order.apply_fill(_fill("0.002"))


@pytest.mark.parametrize("terminal", [OrderStatus.CANCELLED, OrderStatus.EXPIRED])
def test_apply_fill_when_cancelled_or_expired_then_late_fill_applied_and_completes_to_filled(
    terminal: OrderStatus,
) -> None:
    order = _order("0.003")
    order.transition(OrderStatus.SUBMITTED, 1)
    order.transition(terminal, 2)
    order.apply_fill(_fill("0.001"))
    assert (order.status, order.filled_quantity) == (terminal, Decimal("0.001"))
    order.apply_fill(_fill("0.002"))
    assert (order.status, order.filled_quantity) == (OrderStatus.FILLED, Decimal("0.003"))


@pytest.mark.parametrize("state", [OrderStatus.NEW, OrderStatus.REJECTED])
def test_apply_fill_when_order_never_reached_the_venue_or_refused_then_raises_and_adds_nothing(
    state: OrderStatus,
) -> None:
    order = _order()
    if state is OrderStatus.REJECTED:
        order.transition(OrderStatus.REJECTED, 1)
    with pytest.raises(InvalidTransition):
        order.apply_fill(_fill("0.001"))
    assert order.filled_quantity == 0
