"""The limit gates' per-intent memo gives exactly the reference exposure figures; the pipeline names a failing recorder.

:class:`~livegate.risk.memo.ExposureMemo` writes the arithmetic of :mod:`livegate.risk.exposure`
out inline for speed. These properties compare every figure it produces with the reference
functions on random books, quotes and intents: equal values AND equal Decimal
representations (same digits and exponent), so the caps and the denial details see the same
numbers as before.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from livegate.domain.enums import DenialCode, Liquidity, OrderStatus
from livegate.domain.market import Quote
from livegate.domain.orders import Fill, Order, OrderIntent
from livegate.risk import counters
from livegate.risk.exposure import intent_price, other_exposure, symbol_exposure, working_notional
from livegate.risk.gate import Deny, RiskContext
from livegate.risk.memo import ExposureMemo
from livegate.risk.pipeline import RiskPipeline
from tests.risk.helpers import BTC, ETH, T0, context, intent, quote

D = Decimal
_BASE = {BTC: D("60000.0"), ETH: D("3000.00")}
_TICK = {BTC: D("0.1"), ETH: D("0.01")}

_order = st.tuples(
    st.sampled_from(["add", "fill", "cancel"]),
    st.sampled_from([BTC, ETH]),
    st.sampled_from(["buy", "sell"]),
    st.integers(min_value=1, max_value=30),  # quantity in lots of 0.001
    st.one_of(st.none(), st.integers(min_value=-4000, max_value=4000)),  # limit price offset in ticks; None: market
    st.integers(min_value=0, max_value=50),  # which live order a fill or cancel picks
)
_quote = st.one_of(st.none(), st.tuples(st.integers(min_value=-3000, max_value=3000), st.integers(1, 40)))
_intent = st.tuples(
    st.sampled_from([BTC, ETH]),
    st.sampled_from(["buy", "sell"]),
    st.integers(min_value=1, max_value=40),
    st.one_of(st.none(), st.integers(min_value=-5000, max_value=5000)),
)


def _same(a: object, b: object) -> bool:
    """Return True when ``a`` and ``b`` are equal and, for Decimals, spelled the same."""
    return a == b and str(a) == str(b)


def _book(ops: list[tuple[str, str, str, int, int | None, int]], quotes: dict[str, Quote | None]) -> RiskContext:
    ctx = context(*(q for q in quotes.values() if q is not None))
    portfolio = ctx.portfolio
    orders: list[Order] = []
    for n, (kind, symbol, side, lots, offset, pick) in enumerate(ops):
        if kind == "add":
            price = None if offset is None else str(_BASE[symbol] + offset * _TICK[symbol])
            order = Order(f"o{n}", intent(side, str(D(lots) / 1000), price, symbol=symbol, tif="gtc"), "paper")
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
            part = min(order.remaining_quantity, D(lots) / 1000)
            price = order.price if order.price is not None else _BASE[order.symbol]
            fee = D("0.01") * lots
            fill = Fill(order.client_order_id, f"f{n}", order.symbol, order.side, price, part, fee, Liquidity.TAKER, T0)
            portfolio.apply_fill(fill)
    return ctx


def _quotes(btc: tuple[int, int] | None, eth: tuple[int, int] | None) -> dict[str, Quote | None]:
    out: dict[str, Quote | None] = {}
    for symbol, spec in ((BTC, btc), (ETH, eth)):
        if spec is None:
            out[symbol] = None
            continue
        offset, spread = spec
        bid = _BASE[symbol] + offset * _TICK[symbol]
        out[symbol] = quote(symbol, bid=str(bid), ask=str(bid + spread * _TICK[symbol]))
    return out


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_order, max_size=30),
    _quote,
    _quote,
    _intent,
    st.sampled_from([D(1), D("1.005"), D("1.0001")]),
)
def test_exposure_memo_when_random_book_quotes_and_intent_then_every_figure_equals_the_reference(
    ops: list[tuple[str, str, str, int, int | None, int]],
    btc: tuple[int, int] | None,
    eth: tuple[int, int] | None,
    spec: tuple[str, str, int, int | None],
    pad: Decimal,
) -> None:
    ctx = _book(ops, _quotes(btc, eth))
    symbol, side, lots, offset = spec
    price = None if offset is None else str(_BASE[symbol] + offset * _TICK[symbol])
    probe: OrderIntent = intent(side, str(D(lots) / 1000), price, symbol=symbol)
    memo = ExposureMemo(pad)
    memo.load(probe, ctx)
    assert memo.intent is probe
    assert _same(memo.price, intent_price(probe, ctx, pad))
    reference = symbol_exposure(symbol, ctx, pad, probe)
    assert memo.known is (reference is not None)
    if reference is not None:
        assert _same(memo.before_quantity, reference.before_quantity)
        assert _same(memo.after_quantity, reference.after_quantity)
        assert memo.grows is reference.grows
        assert _same(memo.own_price, reference.price)
    others, unpriced = memo.others(probe, ctx)
    ref_others, ref_unpriced = other_exposure(symbol, ctx, pad)
    assert unpriced == ref_unpriced
    if unpriced is None:
        assert _same(others, ref_others)
    assert _same(memo.working(probe, ctx), working_notional(ctx, pad))
    assert _same(ExposureMemo(pad).working(probe, ctx), working_notional(ctx, pad))  # without load() first
    assert _same(memo.equity(probe, ctx), ctx.portfolio.equity_pnl(ctx.quotes.mid))


def test_exposure_memo_when_the_book_changes_then_a_new_intent_sees_the_change() -> None:
    ctx = context(quote())
    memo = ExposureMemo(D(1))
    first = intent("buy", "0.010")
    memo.load(first, ctx)
    assert memo.working(first, ctx) == 0
    order = Order("w1", intent("buy", "0.020", "59000.0", tif="gtc"), "paper")
    ctx.portfolio.add_order(order)
    second = intent("buy", "0.010")
    memo.load(second, ctx)
    assert memo.working(second, ctx) == D("0.020") * D("60000.1")
    assert memo.after_quantity == D("0.030")


class _Refusing:
    """A gate that allows every intent; recording one fails."""

    name = "refusing_recorder"

    def check(self, intent: OrderIntent, ctx: RiskContext) -> Deny | None:
        return None

    def record_approved(self, intent: OrderIntent, ctx: RiskContext) -> None:
        raise OSError("budget file not writable")


def test_pipeline_when_a_recorder_raises_then_denied_gate_error_naming_it() -> None:
    ctx = context(quote())
    pipeline = RiskPipeline([counters.OrderRateGate(10), _Refusing()], ctx)
    decision = pipeline.evaluate(intent(), "cid", "paper")
    assert not decision.approved
    assert decision.code is DenialCode.GATE_ERROR  # type: ignore[union-attr]
    assert decision.detail == "gate refusing_recorder raised OSError('budget file not writable')"  # type: ignore[union-attr]


_spelling = st.tuples(st.integers(min_value=1, max_value=10**9), st.integers(min_value=-12, max_value=4))


def _respelled(value: Decimal, zeros: int) -> str:
    """Return ``value`` written with ``zeros`` more trailing zeros (same value, other spelling)."""
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    return str(value.quantize(D(1).scaleb(exponent - zeros)))


@settings(max_examples=300, deadline=None)
@given(_spelling, _spelling, st.integers(min_value=0, max_value=4), st.integers(min_value=0, max_value=4))
def test_duplicate_intent_when_prices_and_quantities_are_spelled_differently_then_equal_values_still_match(
    quantity: tuple[int, int], price: tuple[int, int], q_zeros: int, p_zeros: int
) -> None:
    # 0.01 and 0.0100 are the same order; any other value is a different one: Decimal equality exactly
    ctx = context(quote())
    gate = counters.DuplicateIntentGate(1000)
    q = D(quantity[0]).scaleb(quantity[1])
    p = D(price[0]).scaleb(price[1])
    first = intent("buy", str(q), str(p))
    assert gate.check(first, ctx) is None
    gate.record_approved(first, ctx)
    respelled = intent("buy", _respelled(q, q_zeros), _respelled(p, p_zeros), ts=T0 + 1)
    assert respelled.quantity == q and respelled.price == p
    deny = gate.check(respelled, ctx)
    assert deny is not None and deny.code is DenialCode.DUPLICATE_INTENT
    other = intent("buy", str(q), str(p + D(1).scaleb(price[1] - 1)), ts=T0 + 1)
    assert gate.check(other, ctx) is None
