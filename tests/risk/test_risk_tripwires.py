"""Market-data tripwires at their boundaries, market hours and the venue quote heartbeat."""

from __future__ import annotations

from decimal import Decimal

import pytest

from livegate.domain.enums import DenialCode, VenueHealth
from livegate.domain.orders import OrderIntent
from livegate.marketdata.quote_cache import QuoteCache
from livegate.risk.gate import Deny, RiskContext
from livegate.risk.pipeline import RiskPipeline
from livegate.risk.tripwires import MarketHoursGate, QuoteTripwireGate, VenueHealthBoard, VenueHealthGate
from tests.risk.helpers import BTC, T0, context, intent, quote

D = Decimal


def _gate(max_age: int | None = 1500, spread: str | None = "50", locked: bool = False) -> QuoteTripwireGate:
    return QuoteTripwireGate(max_age, None if spread is None else D(spread), locked)


@pytest.mark.parametrize(("age_ms", "expected"), [(1500, None), (1501, DenialCode.STALE_QUOTE)])
def test_quote_tripwire_when_quote_age_at_or_over_max_then_allows_or_denies(age_ms: int, expected: object) -> None:
    ctx = context(quote(ts=T0), now=T0 + age_ms)
    deny = _gate().check(intent(), ctx)
    assert (deny.code if deny else None) == expected


def test_quote_tripwire_when_quote_from_the_future_beyond_max_then_stale() -> None:
    ctx = context(quote(ts=T0 + 1501), now=T0)
    deny = _gate().check(intent(), ctx)
    assert deny is not None and deny.code is DenialCode.STALE_QUOTE


@pytest.mark.parametrize(("ask", "expected"), [("60030.0", None), ("60030.1", DenialCode.WIDE_SPREAD)])
def test_quote_tripwire_when_spread_at_or_over_max_then_allows_or_denies(ask: str, expected: object) -> None:
    # bid 60,000.0, max 5 bps: spread/mid <= 5 bps holds up to ask 60,030.0075...
    ctx = context(quote(bid="60000.0", ask=ask))
    deny = _gate(spread="5").check(intent(), ctx)
    assert (deny.code if deny else None) == expected


@pytest.mark.parametrize(
    ("bid", "ask", "size"),
    [
        ("60000.0", "60000.0", "1"),
        ("60000.1", "60000.0", "1"),
        ("0", "60000.0", "1"),
        ("NaN", "60000.0", "1"),
        ("60000.0", "60000.1", "0"),
    ],
)
def test_quote_tripwire_when_quote_locked_crossed_zero_or_nan_then_bad_quote(bid: str, ask: str, size: str) -> None:
    ctx = context(quote(bid=bid, ask=ask, size=size))
    deny = _gate().check(intent(), ctx)
    assert deny is not None and deny.code is DenialCode.BAD_QUOTE


def test_quote_tripwire_when_locked_allowed_then_locked_book_passes() -> None:
    ctx = context(quote(bid="60000.0", ask="60000.0"))
    assert _gate(locked=True).check(intent(), ctx) is None


def test_quote_tripwire_when_no_quote_then_no_quote_even_for_market_orders() -> None:
    deny = _gate().check(intent("buy", "0.010"), context())
    assert deny is not None and deny.code is DenialCode.NO_QUOTE


def test_market_hours_when_nyse_closed_on_sunday_then_market_closed() -> None:
    gate = MarketHoursGate("XNYS")
    sunday = 1_722_771_000_000  # 2024-08-04 11:30 UTC, a Sunday
    tuesday_noon_ny = 1_722_960_000_000  # 2024-08-06 16:00 UTC
    deny = gate.check(intent(), context(quote(), now=sunday))
    assert deny is not None and deny.code is DenialCode.MARKET_CLOSED
    assert gate.check(intent(), context(quote(), now=tuesday_noon_ny)) is None


def test_venue_health_when_n_consecutive_stale_checks_then_disabled_and_orders_denied() -> None:
    board = VenueHealthBoard(max_quote_age_ms=1500, stale_checks=3)
    changes = []
    board.add_listener(changes.append)
    cache = QuoteCache()
    cache.update(quote(ts=T0))
    symbols = {"binanceusdm": [BTC]}
    board.heartbeat(T0 + 2000, cache, symbols)
    board.heartbeat(T0 + 3000, cache, symbols)
    assert board.state("binanceusdm") is VenueHealth.HEALTHY
    ctx = context(quote(ts=T0), now=T0 + 4000)
    gate = VenueHealthGate(board)
    assert gate.check(intent(), ctx) is None
    board.heartbeat(T0 + 4000, cache, symbols)
    assert board.state("binanceusdm") is VenueHealth.DISABLED
    deny = gate.check(intent(), ctx)
    assert deny is not None and deny.code is DenialCode.VENUE_DISABLED and "3 consecutive stale" in deny.detail
    for k in range(3):
        cache.update(quote(ts=T0 + 5000 + k * 1000))
        board.heartbeat(T0 + 5000 + k * 1000, cache, symbols)
    assert board.state("binanceusdm") is VenueHealth.HEALTHY
    assert [c.health for c in changes] == [VenueHealth.DISABLED, VenueHealth.HEALTHY]


class _Exploding:
    name = "exploding"

    def check(self, intent: OrderIntent, ctx: RiskContext) -> Deny | None:
        raise ZeroDivisionError("boom")


def test_pipeline_when_a_gate_raises_then_intent_denied_gate_error() -> None:
    ctx = context(quote())
    decision = RiskPipeline([_Exploding()], ctx).evaluate(intent(), "cid", "paper")
    assert not decision.approved
    assert decision.code is DenialCode.GATE_ERROR  # type: ignore[union-attr]
    assert "exploding" in decision.detail  # type: ignore[union-attr]
