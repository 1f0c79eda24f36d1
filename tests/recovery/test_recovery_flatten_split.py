"""Flatten pieces: whole lots, each within the per-order notional cap, summing to the position."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from livegate.control.flatten import split_quantity

LOT = Decimal("0.001")


@given(
    lots=st.integers(min_value=1, max_value=5000),
    price=st.decimals(min_value=100, max_value=100_000, places=1),
    cap=st.decimals(min_value=200, max_value=50_000, places=2),
)
def test_split_quantity_when_cap_at_least_one_lot_then_pieces_fit_and_sum(
    lots: int, price: Decimal, cap: Decimal
) -> None:
    quantity = LOT * lots
    pieces = split_quantity(quantity, price, cap, LOT)
    assert sum(pieces) == quantity
    assert all(p > 0 and p % LOT == 0 for p in pieces)
    if cap >= price * LOT:
        assert all(p * price <= cap for p in pieces)


def test_split_quantity_when_no_cap_then_one_piece() -> None:
    assert split_quantity(Decimal("0.5"), Decimal(60000), None, LOT) == [Decimal("0.5")]
