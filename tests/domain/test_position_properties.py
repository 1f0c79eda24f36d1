"""Property tests for positions and PnL arithmetic on exact decimals."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from livegate.domain.enums import Liquidity, Side
from livegate.domain.orders import Fill
from livegate.domain.positions import Position

prices = st.integers(min_value=600_000, max_value=640_000).map(lambda t: Decimal(t) / 10)  # 0.10 ticks
quantities = st.integers(min_value=1, max_value=50).map(lambda n: Decimal(n) / 1000)  # 0.001 lots
fills = st.lists(st.tuples(st.sampled_from([Side.BUY, Side.SELL]), prices, quantities), min_size=1, max_size=40)


def _apply(seq: list[tuple[Side, Decimal, Decimal]]) -> tuple[Position, Decimal, Decimal]:
    pos = Position("BTCUSDT")
    cash = Decimal(0)
    fees = Decimal(0)
    for i, (side, price, qty) in enumerate(seq):
        fee = (price * qty * Decimal(5) / Decimal(10_000)).quantize(Decimal("0.00000001"))
        pos.apply_fill(Fill(f"c{i}", f"f{i}", "BTCUSDT", side, price, qty, fee, Liquidity.TAKER, i))
        cash -= price * qty * side.sign
        fees += fee
    return pos, cash, fees


@settings(max_examples=300, deadline=None)
@given(fills, prices)
def test_position_when_any_fills_then_quantity_is_signed_sum_and_pnl_matches_cash_flow(
    seq: list[tuple[Side, Decimal, Decimal]], mark: Decimal
) -> None:
    pos, cash, fees = _apply(seq)
    assert pos.quantity == sum((q * s.sign for s, _, q in seq), Decimal(0))
    assert pos.fees == fees
    cash_pnl = cash + pos.quantity * mark
    # partial closes round the removed cost basis, but only between realized and
    # unrealized: their sum is the exact cash-flow PnL
    assert pos.realized_pnl + pos.unrealized_pnl(mark) == cash_pnl


@settings(max_examples=200, deadline=None)
@given(fills)
def test_position_when_flat_then_realized_equals_cash_exactly_in_round_trips(
    seq: list[tuple[Side, Decimal, Decimal]],
) -> None:
    pos, cash, _ = _apply(seq)
    if pos.quantity == 0:
        assert pos.realized_pnl == cash
        assert pos.average_price == 0
        assert pos.cost_basis == 0
