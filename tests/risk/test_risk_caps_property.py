"""Property: no fill ever leaves position count, symbol or gross notional, turnover or order count beyond its cap.

Random intent streams (market, IOC and resting GTC limits on BTCUSDT and ETHUSDT) are
replayed over random slices of real Binance USD-M quotes from tests/data through the
full gate chain, the execution engine and the paper venue. The oracle recomputes
exposure from the exported ledger (fills and orders), not from the pipeline's counters.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livegate.config.models import LivegateConfig
from livegate.domain.enums import Side
from tests.risk.property_harness import Spec, oracle_violations, real_quotes, run_stream

D = Decimal
SLICE = 250

specs = st.lists(
    st.builds(
        Spec,
        offset=st.integers(0, SLICE - 1),
        symbol=st.sampled_from(["BTCUSDT", "ETHUSDT"]),
        side=st.sampled_from([Side.BUY, Side.SELL]),
        lots=st.integers(1, 25),
        kind=st.sampled_from(["market", "market", "ioc", "gtc"]),
        ticks=st.integers(-8, 5),
    ),
    min_size=5,
    max_size=40,
)
caps = st.fixed_dictionaries(
    {
        "max_order_notional_usd": st.integers(200, 2500).map(D),
        "max_symbol_notional_usd": st.integers(300, 3000).map(D),
        "max_gross_notional_usd": st.integers(300, 4000).map(D),
        "max_daily_turnover_usd": st.integers(500, 12000).map(D),
        "max_orders_per_day": st.integers(1, 30),
        "max_positions": st.integers(1, 2),
    }
)


def _config(risk: dict[str, object]) -> LivegateConfig:
    return LivegateConfig.model_validate(
        {"risk": {**risk, "price_band_bps": 30, "max_open_orders": 6}, "tripwires": {"max_quote_age_ms": 60_000}}
    )


@settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.integers(0, 100_000), stream=specs, risk=caps)
def test_no_fill_ever_breaks_a_cap_when_random_intents_replay_on_real_quotes(
    core_data: Path, start: int, stream: list[Spec], risk: dict[str, object]
) -> None:
    quotes = real_quotes(core_data)
    begin = start % (len(quotes) - SLICE)
    outcome = run_stream(_config(risk), list(quotes[begin : begin + SLICE]), stream)
    assert oracle_violations(outcome, risk) == []  # type: ignore[arg-type]


def test_harness_when_loose_caps_then_orders_fill_and_tight_caps_deny_by_code(core_data: Path) -> None:
    quotes = list(real_quotes(core_data)[5_000 : 5_000 + SLICE])
    stream = [Spec(i * 5, "BTCUSDT", Side.BUY, 5, "market", 0) for i in range(20)]
    risk = {
        "max_order_notional_usd": D(1000),
        "max_symbol_notional_usd": D(1000),
        "max_gross_notional_usd": D(5000),
        "max_daily_turnover_usd": D(100000),
        "max_orders_per_day": 100,
        "max_positions": 2,
    }
    outcome = run_stream(_config(risk), quotes, stream)
    assert outcome.fills, "the harness must produce fills, or the property proves nothing"
    codes = {o["denial_code"] for o in outcome.orders if o["decision"] == "denied"}
    assert "SYMBOL_NOTIONAL_CAP" in codes
    assert oracle_violations(outcome, risk) == []  # type: ignore[arg-type]
