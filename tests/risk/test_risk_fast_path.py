"""The gate chain's fast path decides exactly as the gates themselves, and leaves the same state.

Two identical worlds (book, quotes, clock, freshly built gate chain) run the same
generated stream of quotes, intents, fills, cancels, clock moves and kill-switch trips:
one pipeline with the fast path (:mod:`livegate.risk.fast_path`), one calling every gate's
``check`` (``fast_path=False``, the reference). Every decision must match (approved, or
the same denial code AND detail), and so must the gates' state after each step (equity
peak, day counters, rate window, remembered duplicates, known-good quotes). Caps are
drawn to sit exactly on the notionals the stream produces, so boundaries are hit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livegate.config.models import LivegateConfig
from livegate.domain.clock import ReplayClock
from livegate.domain.decisions import Approved, Denied
from livegate.domain.enums import DenialCode, Liquidity, Mode, OrderStatus, OrderType, Side, TimeInForce, TradingState
from livegate.domain.market import Quote
from livegate.domain.orders import Fill, Order, OrderIntent
from livegate.marketdata.quote_cache import QuoteCache
from livegate.portfolio import Portfolio
from livegate.risk import counters, limits
from livegate.risk.chain import RiskParts, build_gates, build_risk_parts
from livegate.risk.fast_path import find_fast_path
from livegate.risk.gate import Deny, Gate, RiskContext
from livegate.risk.killswitch import KillSwitch
from livegate.risk.pipeline import RiskPipeline
from livegate.risk.structural import StructuralGate
from tests.risk.helpers import BTC, ETH, T0, context, instruments, quote

D = Decimal
_BASE = {BTC: D("60000.0"), ETH: D("3000.00")}
_TICK = {BTC: D("0.1"), ETH: D("0.01")}
_LOT = D("0.001")

# actions of a stream
_quote = st.tuples(
    st.just("quote"),
    st.sampled_from([BTC, ETH]),
    st.integers(-300, 300),  # bid offset in ticks
    st.integers(0, 400),  # spread in ticks (0: locked, wide ones trip the spread limit)
)
_intent = st.tuples(
    st.just("intent"),
    st.sampled_from([BTC, ETH]),
    st.sampled_from(["buy", "sell"]),
    st.integers(-2, 40).map(lambda lots: max(lots, 0)),  # lots of 0.001 (0: invalid quantity)
    st.one_of(st.none(), st.integers(-400, 400)),  # limit offset from the base in ticks; None: market
    st.sampled_from(["plain", "plain", "plain", "reduce_only", "flatten", "gtc"]),
)
_book = st.tuples(st.sampled_from(["fill", "cancel"]), st.integers(0, 50), st.integers(1, 40))
_clock = st.tuples(st.just("advance"), st.sampled_from([0, 0, 1, 5, 400, 1200, 90_000, 86_400_000]))
_step = st.one_of(_quote, _intent, _intent, _intent, _book, _clock)
_kill = st.one_of(
    st.none(), st.none(), st.tuples(st.integers(0, 60), st.sampled_from([TradingState.REDUCING, TradingState.HALTED]))
)

# a cap is either a round figure or exactly the notional of some quantity at some price (a boundary)
_exact = st.builds(
    lambda lots, ticks, base: D(lots) * _LOT * (_BASE[base] + ticks * _TICK[base]),
    st.integers(1, 40),
    st.integers(-300, 300),
    st.sampled_from([BTC, ETH]),
)
_usd = st.one_of(st.integers(1, 4000).map(D), _exact)
_risk = st.fixed_dictionaries(
    {},
    optional={
        "max_order_notional_usd": _usd,
        "max_symbol_notional_usd": _usd,
        "max_gross_notional_usd": _usd,
        "max_daily_turnover_usd": _usd,
        "max_orders_per_day": st.integers(1, 30),
        "max_open_orders": st.integers(1, 6),
        "max_positions": st.integers(1, 2),
        "allowlist": st.sampled_from([["BTCUSDT"], ["BTCUSDT", "ETHUSDT"], ["btcusdt"]]),
        "price_band_bps": st.sampled_from([D(1), D(30), D("12.5"), D(500)]),
        "duplicate_window_ms": st.integers(1, 2000),
        "max_order_rate_per_sec": st.integers(1, 5),
        "daily_loss_limit_usd": st.one_of(st.integers(1, 50).map(D), st.sampled_from([D("0.01"), D("2.5")])),
        "max_drawdown_usd": st.one_of(st.integers(1, 50).map(D), st.sampled_from([D("0.01"), D("2.5")])),
    },
)
_tripwires = st.fixed_dictionaries(
    {},
    optional={
        "max_quote_age_ms": st.sampled_from([500, 1500, 100_000]),
        "max_spread_bps": st.sampled_from([D(5), D(50)]),
        "allow_locked_quotes": st.booleans(),
    },
)


@dataclass
class _World:
    ctx: RiskContext
    parts: RiskParts
    gates: list[Gate]
    pipeline: RiskPipeline
    orders: list[Order]


def _world(config: LivegateConfig, fast: bool, held: tuple[str, int]) -> _World:
    """Return a world with quotes at the base prices and, when ``held`` has lots, a position filled there."""
    clock = ReplayClock(T0)
    ctx = RiskContext(instruments=instruments(), quotes=QuoteCache(), portfolio=Portfolio(), clock=clock)
    for symbol in (BTC, ETH):
        base = _BASE[symbol]
        ctx.quotes.update(Quote(symbol, base, D("3"), base + _TICK[symbol], D("3"), T0, venue="binanceusdm"))
    side, lots = held
    if lots:
        seed = _intent_of(("intent", BTC, side, lots, 0, "gtc"), -1, T0)
        order = Order("seed", seed, "paper")
        ctx.portfolio.add_order(order)
        order.transition(OrderStatus.SUBMITTED, T0)
        fee = D("0.0004") * seed.quantity * _BASE[BTC]
        ctx.portfolio.apply_fill(
            Fill("seed", "f-seed", BTC, seed.side, _BASE[BTC], seed.quantity, fee, Liquidity.TAKER, T0)
        )
    parts = build_risk_parts(config, KillSwitch(None, clock))
    gates = build_gates(config, Mode.PAPER, parts)
    return _World(ctx, parts, gates, RiskPipeline(gates, ctx, fast_path=fast), [])


def _watched(pipeline: RiskPipeline, crashes: list[BaseException]) -> None:
    """Keep every exception the pipeline's proof raises (it would otherwise only hand the intent to the gates)."""
    prove = pipeline._prove
    assert prove is not None

    def watched(intent: OrderIntent) -> int:
        try:
            return prove(intent)
        except Exception as exc:
            crashes.append(exc)
            raise

    pipeline._prove = watched


def _state(world: _World) -> tuple[object, ...]:
    """Every piece of gate state a check or a record may change, values and spellings."""
    daily, peak = world.parts.daily, world.parts.peak
    held: list[object] = [
        str(peak.peak),
        daily.orders_today,
        str(daily.day_start_equity),
        str(daily.day_start_turnover),
        daily.next_boundary_ms,
    ]
    for gate in world.gates:
        if isinstance(gate, counters.OrderRateGate):
            held.append(list(gate._times))
        if isinstance(gate, counters.DuplicateIntentGate):
            held.append(sorted((repr(k), v) for k, v in gate._last.items()))
            # the filing order decides which keys are looked at next: the same keys, in the same order
            held.append([repr(k) for k in gate._order])
            assert list(gate._order) == list(gate._last), "the filing order holds exactly the memory's keys"
    return tuple(held)


def _outcome(decision: Approved | Denied) -> tuple[object, ...]:
    if isinstance(decision, Approved):
        return (True, decision.client_order_id, decision.venue)
    return (False, decision.code, decision.detail)


def _apply(worlds: tuple[_World, _World], step: tuple[object, ...], n: int) -> None:
    kind = step[0]
    for world in worlds:
        ctx = world.ctx
        clock = ctx.clock
        assert isinstance(clock, ReplayClock)
        if kind == "quote":
            _, symbol, offset, spread = step
            assert isinstance(symbol, str) and isinstance(offset, int) and isinstance(spread, int)
            bid = _BASE[symbol] + offset * _TICK[symbol]
            ctx.quotes.update(
                Quote(symbol, bid, D("3"), bid + spread * _TICK[symbol], D("3"), clock.now_ms(), venue="binanceusdm")
            )
        elif kind == "advance":
            assert isinstance(step[1], int)
            clock.advance_to(clock.now_ms() + step[1])
        elif kind == "kill":
            state = step[1]
            assert isinstance(state, TradingState)
            world.parts.kill.trip(state, "test", "test")
        elif kind in ("fill", "cancel"):
            live = [o for o in world.orders if not o.status.is_terminal]
            if not live:
                continue
            pick, lots = step[1], step[2]
            assert isinstance(pick, int) and isinstance(lots, int)
            order = live[pick % len(live)]
            if kind == "cancel":
                order.transition(OrderStatus.CANCELLED, clock.now_ms())
                ctx.portfolio.refresh(order)
                continue
            part = min(order.remaining_quantity, D(lots) * _LOT)
            price = order.price if order.price is not None else _BASE[order.symbol]
            fee = D("0.0004") * part * price
            now = clock.now_ms()
            cid = order.client_order_id
            fill = Fill(cid, f"f{n}", order.symbol, order.side, price, part, fee, Liquidity.TAKER, now)
            ctx.portfolio.apply_fill(fill)


def _intent_of(step: tuple[object, ...], seq: int, now_ms: int) -> OrderIntent:
    _, symbol, side, lots, offset, flavour = step
    assert isinstance(symbol, str) and isinstance(side, str) and isinstance(lots, int)
    price = None if offset is None else _BASE[symbol] + D(str(offset)) * _TICK[symbol]
    return OrderIntent(
        symbol=symbol,
        side=Side(side),
        quantity=D(lots) * _LOT,
        order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
        price=price,
        time_in_force=TimeInForce.GTC if flavour == "gtc" and price is not None else TimeInForce.IOC,
        post_only=False,
        reduce_only=flavour in ("reduce_only", "flatten"),
        strategy_id="test",
        seq=seq,
        ts_ms=now_ms,
        flatten=flavour == "flatten",
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    risk=_risk,
    tripwires=_tripwires,
    steps=st.lists(_step, min_size=10, max_size=60),
    kill=_kill,
    held=st.tuples(st.sampled_from(["buy", "sell"]), st.integers(0, 30)),
)
def test_fast_path_when_random_streams_then_every_decision_and_gate_state_equals_the_reference(
    risk: dict[str, object],
    tripwires: dict[str, object],
    steps: list[tuple[object, ...]],
    kill: tuple[int, TradingState] | None,
    held: tuple[str, int],
) -> None:
    config = LivegateConfig.model_validate({"risk": risk, "tripwires": tripwires})
    fast, reference = worlds = (_world(config, True, held), _world(config, False, held))
    assert fast.pipeline._prove is not None and reference.pipeline._prove is None
    crashes: list[BaseException] = []
    _watched(fast.pipeline, crashes)  # a proof that crashes proves nothing: the gates would hide it
    for n, step in enumerate(steps):
        if kill is not None and kill[0] == n:
            _apply(worlds, ("kill", kill[1]), n)
        if step[0] != "intent":
            _apply(worlds, step, n)
        else:
            now = fast.ctx.clock.now_ms()
            intent = _intent_of(step, n, now)
            decided = _outcome(fast.pipeline.evaluate(intent, f"c{n}", "paper"))
            expected = _outcome(reference.pipeline.evaluate(intent, f"c{n}", "paper"))
            assert decided == expected, (step, decided, expected)
            if decided[0]:  # an approved order joins both books
                for world in worlds:
                    order = Order(f"c{n}", intent, "paper")
                    world.ctx.portfolio.add_order(order)
                    order.transition(OrderStatus.SUBMITTED, now)
                    world.orders.append(order)
        assert _state(fast) == _state(reference), step
    assert crashes == []


def _gate_names(pipeline: RiskPipeline, start: int, end: int) -> list[str]:
    return [g.name for g in pipeline.gates[start:end]]


class _Reconciling:
    """A gate outside the standard chain (the session's reconcile gate sits right after the trading state)."""

    name = "reconciling"

    def __init__(self) -> None:
        self.reconciling = False

    def check(self, intent: OrderIntent, ctx: RiskContext) -> Deny | None:
        return Deny(DenialCode.RECONCILING, "reconciliation in progress") if self.reconciling else None


def test_find_fast_path_when_a_foreign_gate_sits_in_the_chain_then_the_longest_standard_run_is_taken() -> None:
    config = LivegateConfig.model_validate({"risk": {"max_order_notional_usd": 100, "price_band_bps": 30}})
    gates = build_gates(config, Mode.PAPER)
    foreign = _Reconciling()
    chain: list[Gate] = [gates[0], foreign, *gates[1:]]
    fast = find_fast_path(chain, context(quote()))
    assert fast is not None
    assert (fast.start, fast.end) == (2, len(chain))
    ctx = context(quote())
    pipeline = RiskPipeline(chain, ctx)
    assert pipeline.evaluate(_intent_of(("intent", BTC, "buy", 1, None, "plain"), 1, T0), "c1", "paper").approved
    foreign.reconciling = True
    denied = pipeline.evaluate(_intent_of(("intent", BTC, "buy", 1, None, "plain"), 2, T0), "c2", "paper")
    assert isinstance(denied, Denied) and denied.code is DenialCode.RECONCILING


class _StrictStructural(StructuralGate):
    """A subclass may judge differently: the fast path never stands in for it."""


def test_find_fast_path_when_a_subclass_or_another_pad_breaks_the_chain_then_the_run_stops_there() -> None:
    pad = D("1.003")
    subclassed: list[Gate] = [_StrictStructural(), limits.OpenOrdersGate(3), limits.PositionsCountGate(2)]
    fast = find_fast_path(subclassed, context(quote()))
    assert fast is not None and (fast.start, fast.end) == (1, 3)
    mixed: list[Gate] = [
        limits.OrderNotionalGate(D(100), pad),
        limits.SymbolNotionalGate(D(100), pad),
        limits.GrossNotionalGate(D(100), D("1.004")),
    ]
    fast = find_fast_path(mixed, context(quote()))
    assert fast is not None and (fast.start, fast.end) == (0, 2)
    assert find_fast_path([limits.OpenOrdersGate(3)], context(quote())) is None


def test_pipeline_when_a_cap_is_reached_exactly_then_allowed_and_one_tick_more_is_denied_by_the_gate() -> None:
    config = LivegateConfig.model_validate({"risk": {"max_order_notional_usd": "600.0"}})
    for fast in (True, False):
        ctx = context(quote(bid="59999.9", ask="60000.0"))
        pipeline = RiskPipeline(build_gates(config, Mode.PAPER), ctx, fast_path=fast)
        at_cap = pipeline.evaluate(_intent_of(("intent", BTC, "buy", 10, 0, "plain"), 1, T0), "c1", "paper")
        assert at_cap.approved
        above = pipeline.evaluate(_intent_of(("intent", BTC, "buy", 10, 1, "plain"), 2, T0), "c2", "paper")
        assert isinstance(above, Denied) and above.code is DenialCode.ORDER_NOTIONAL_CAP
        assert above.detail == "would be 600.00 USD > cap 600.00 USD"


def test_book_figures_when_the_book_moves_then_the_fast_path_sees_the_new_exposure() -> None:
    config = LivegateConfig.model_validate({"risk": {"max_symbol_notional_usd": "1300"}})
    ctx = context(quote(bid="59999.9", ask="60000.0"))
    pipeline = RiskPipeline(build_gates(config, Mode.PAPER), ctx)
    first = _intent_of(("intent", BTC, "buy", 20, 0, "plain"), 1, T0)
    assert pipeline.evaluate(first, "c1", "paper").approved  # 0.020 x 60,000 = 1,200 <= 1,300
    order = Order("c1", first, "paper")
    ctx.portfolio.add_order(order)
    order.transition(OrderStatus.SUBMITTED, T0)
    second = _intent_of(("intent", BTC, "buy", 2, 0, "plain"), 2, T0)
    denied = pipeline.evaluate(second, "c2", "paper")  # 0.022 x 60,000 = 1,320 > 1,300
    assert isinstance(denied, Denied) and denied.code is DenialCode.SYMBOL_NOTIONAL_CAP
    order.transition(OrderStatus.CANCELLED, T0)
    ctx.portfolio.refresh(order)
    assert pipeline.evaluate(second, "c3", "paper").approved
