"""The fast path's float proof never allows what the exact gate denies, with limits set within its slack.

:mod:`livegate.risk.fast_path_floats` proves a cap on floats only when the float figure
clears it by about 2e-9 of the magnitudes; closer than that the gate judges in Decimal.
Here each limit is set to the exact Decimal figure its gate compares, nudged by
``k x 2**-e`` of it (e from 20 to 90: far outside the slack, at it, and far inside it,
down to the Decimal precision), and the chain with the fast path must decide exactly as
the chain without it (code, detail) and leave the same equity peak.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from livegate.config.models import LivegateConfig
from livegate.domain.decisions import Approved, Denied
from livegate.domain.enums import Mode
from livegate.domain.market import Quote
from livegate.domain.orders import OrderIntent
from livegate.risk.chain import build_gates, build_risk_parts
from livegate.risk.fast_path_floats import at_least, at_most, exact_float
from livegate.risk.gate import RiskContext
from livegate.risk.killswitch import KillSwitch
from livegate.risk.memo import ExposureMemo
from livegate.risk.pipeline import RiskPipeline
from tests.risk.helpers import BTC, T0, add_position, add_working, context, intent

D = Decimal
_LIMITS = ["order", "symbol", "gross", "turnover", "loss", "drawdown"]
_KEYS = {
    "order": "max_order_notional_usd",
    "symbol": "max_symbol_notional_usd",
    "gross": "max_gross_notional_usd",
    "turnover": "max_daily_turnover_usd",
    "loss": "daily_loss_limit_usd",
    "drawdown": "max_drawdown_usd",
}
_PAD = D(1)  # no price band: the notional gates price market orders at the far price


def _world(bid_ticks: int, spread: int, held: tuple[str, int, int], working: tuple[str, int, int]) -> RiskContext:
    bid = D("60000.0") + D(bid_ticks) / 10
    ctx = context(Quote(BTC, bid, D("5"), bid + D(spread) / 10, D("5"), T0, venue="binanceusdm"))
    side, lots, ticks = held
    if lots:
        add_position(ctx, side, str(D(lots) / 1000), str(D("60000.0") + D(ticks) / 10), fee="0.37")
    side, lots, ticks = working
    if lots:
        add_working(ctx, side, str(D(lots) / 1000), str(bid + D(ticks) / 10))
    return ctx


def _figure(limit: str, made: OrderIntent, ctx: RiskContext) -> Decimal | None:
    """Return the exact Decimal figure ``limit``'s gate compares for ``made`` (None: not applicable)."""
    memo = ExposureMemo(_PAD)
    memo.load(made, ctx)
    if memo.price is None or not memo.known:
        return None
    if limit == "order":
        return made.quantity * memo.price
    if limit == "symbol":
        return memo.after_quantity * memo.own_price if memo.grows else None
    if limit == "gross":
        others, _ = memo.others(made, ctx)
        after, before = memo.after_quantity, memo.before_quantity
        return (after if after > before else before) * memo.own_price + others if memo.grows else None
    if limit == "turnover":
        working = memo.working(made, ctx)
        return None if working is None else ctx.portfolio.turnover() + working + made.quantity * memo.price
    equity = ctx.portfolio.equity_pnl(ctx.quotes.mid)  # day PnL: the day starts at the session start
    if equity is None or equity >= 0:
        return None
    return -equity  # the loss (and the fall from the 0 peak) the limit is set against


def _decide(limit: str, value: Decimal, make: tuple[object, ...], fast: bool) -> tuple[object, ...]:
    bid_ticks, spread, held, working, side, lots, offset = make
    ctx = _world(bid_ticks, spread, held, working)  # type: ignore[arg-type]
    config = LivegateConfig.model_validate({"risk": {_KEYS[limit]: value}})
    parts = build_risk_parts(config, KillSwitch(None, ctx.clock))
    pipeline = RiskPipeline(build_gates(config, Mode.PAPER, parts), ctx, fast_path=fast)
    price = None if offset is None else str(ctx.quotes.last(BTC).bid_price + D(offset) / 10)  # type: ignore[union-attr]
    decision = pipeline.evaluate(intent(side, str(D(lots) / 1000), price), "c1", "paper")  # type: ignore[arg-type]
    peak = str(parts.peak.peak)
    if isinstance(decision, Approved):
        return (True, peak)
    assert isinstance(decision, Denied)
    return (False, decision.code, decision.detail, peak)


_make = st.tuples(
    st.integers(-300, 300),  # bid offset in ticks
    st.integers(1, 30),  # spread in ticks
    st.tuples(st.sampled_from(["buy", "sell"]), st.integers(0, 40), st.integers(-500, 500)),  # position
    st.tuples(st.sampled_from(["buy", "sell"]), st.integers(0, 40), st.integers(-20, 20)),  # working order
    st.sampled_from(["buy", "sell"]),
    st.integers(1, 40),  # intent lots of 0.001
    st.one_of(st.none(), st.integers(0, 3)),  # limit offset from the bid in ticks; None: market
)


@settings(max_examples=600, deadline=None)
@given(
    limit=st.sampled_from(_LIMITS),
    make=_make,
    k=st.integers(-3, 3),
    e=st.sampled_from([20, 26, 28, 29, 30, 31, 33, 40, 60, 90]),
)
def test_fast_path_when_a_limit_sits_within_the_float_slack_then_it_decides_as_the_gates(
    limit: str, make: tuple[object, ...], k: int, e: int
) -> None:
    bid_ticks, spread, held, working, side, lots, offset = make
    ctx = _world(bid_ticks, spread, held, working)  # type: ignore[arg-type]
    price = None if offset is None else str(ctx.quotes.last(BTC).bid_price + D(offset) / 10)  # type: ignore[union-attr]
    figure = _figure(limit, intent(side, str(D(lots) / 1000), price), ctx)  # type: ignore[arg-type]
    if figure is None or figure <= 0:
        return
    value = figure + figure * D(k) * D(2) ** -e  # exact: 2**-e is a finite decimal
    assert _decide(limit, value, make, True) == _decide(limit, value, make, False), (limit, figure, value)


@given(st.decimals(min_value=D("1e-90"), max_value=D("1e90"), allow_nan=False, places=None))
def test_float_bounds_when_any_cap_then_below_it_and_any_floor_then_above_it(value: Decimal) -> None:
    # at_most(cap) is a float below cap: a figure at or under it is under the cap, by the slack
    assert D(at_most(value)) < value
    assert D(at_least(value)) > value
    converted = exact_float(value)
    assert converted is not None and abs(D(converted) - value) <= value * D(2) ** -53
