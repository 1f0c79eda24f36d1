"""The request-weight budget: counted locally, corrected by headers, stopped by Retry-After and bans (§3e)."""

from __future__ import annotations

from livegate.venues.rate_budget import RateLimitWindow, WeightBudget

T0 = 1_700_000_040_000 + 40_000  # 40 s into a minute window (1_700_000_040_000 is a minute boundary)


def test_weight_budget_when_weights_reach_the_headroom_then_refused_until_the_window_rolls() -> None:
    budget = WeightBudget(limit_per_min=100, headroom=0.8)
    assert all(budget.take(20, T0) is None for _ in range(4))  # 80 of 80
    refused = budget.take(1, T0 + 1)
    assert refused is not None and "weight budget 80+1 > 80" in refused
    assert budget.take(1, T0 + 20_000) is None, "a new minute window starts from 0"


def test_weight_budget_when_header_reports_more_than_counted_then_the_venue_count_wins() -> None:
    budget = WeightBudget(limit_per_min=6000)
    budget.take(1, T0)
    budget.observe(200, {"X-MBX-USED-WEIGHT-1M": "4790"}, T0)
    assert budget.used == 4790
    assert budget.take(20, T0) is not None
    assert budget.take(20, T0, cancel=True) is None, "cancels may use the rest of the limit"


def test_weight_budget_when_429_with_retry_after_then_nothing_sent_until_it_passes() -> None:
    budget = WeightBudget(limit_per_min=6000)
    budget.observe(429, {"Retry-After": "7"}, T0)
    assert budget.take(1, T0 + 6_999, cancel=True) is not None
    assert budget.take(1, T0 + 7_000) is None
    assert budget.rate_limited == 1


def test_weight_budget_when_418_ban_then_refused_as_banned_until_it_ends() -> None:
    budget = WeightBudget(limit_per_min=6000)
    budget.observe(418, {"retry-after": "120"}, T0)
    refused = budget.take(1, T0 + 60_000, cancel=True)
    assert refused is not None and refused.startswith("IP banned until")
    assert budget.wait_ms(T0 + 60_000) == 60_000
    assert budget.take(1, T0 + 120_000) is None


def test_weight_budget_when_429_without_retry_after_then_waits_out_the_minute_window() -> None:
    budget = WeightBudget(limit_per_min=6000)
    budget.observe(429, {}, T0)
    assert budget.take(1, T0 + 19_999) is not None
    assert budget.take(1, T0 + 20_000) is None


def test_weight_budget_when_429_order_rate_1015_then_only_new_orders_wait_out_retry_after() -> None:
    budget = WeightBudget(limit_per_min=6000)
    budget.observe(429, {"Retry-After": "7"}, T0, code=-1015)
    assert budget.take(1, T0 + 1, new_order=True) is not None
    assert budget.take(1, T0 + 1, cancel=True) is None, "cancels are not order-rate limited"
    assert budget.take(6, T0 + 1) is None, "reads are not order-rate limited"
    assert budget.take(1, T0 + 7_000, new_order=True) is None


def test_rate_limit_window_when_alpaca_429_names_its_reset_then_nothing_until_that_second() -> None:
    window = RateLimitWindow()
    until = window.observe_429({"X-RateLimit-Limit": "200", "X-RateLimit-Remaining": "0",
                                "X-RateLimit-Reset": str(T0 // 1000 + 2)}, T0)  # fmt: skip
    assert until == T0 + 2_000
    assert window.wait_ms(T0 + 1_999) == 1 and window.wait_ms(T0 + 2_000) == 0


def test_rate_limit_window_when_429_names_no_reset_then_exponential_backoff_restarted_by_an_answer() -> None:
    window = RateLimitWindow()
    assert window.observe_429({}, T0) == T0 + 1_000
    assert window.observe_429(None, T0 + 1_000) == T0 + 3_000  # 2 s after the second 429 in a row
    window.observe_answer()
    assert window.observe_429({"X-RateLimit-Reset": str(T0 // 1000 - 5)}, T0 + 10_000) == T0 + 11_000  # stale reset
    assert window.observe_429({"Retry-After": "4"}, T0 + 10_000) == T0 + 14_000
    assert window.rate_limited == 4
