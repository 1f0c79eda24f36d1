"""livegate's ccxt adapter against the emulator: what a session relies on at start, and the timeout fault."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import ccxt.async_support as ccxt_async
import pytest

from tests.venue_emulator import Emulator, HttpFault
from tests.venue_emulator.fixtures import ccxt_adapter_for


async def test_adapter_when_open_orders_asked_without_symbol_then_one_account_wide_request(
    spot_emulator: Emulator,
) -> None:
    spot_emulator.step(3)
    spot_emulator.external_order("BUY", Decimal("0.002"), Decimal("50000.00"), client_order_id="lg0123456789-3e99-0")
    adapter = ccxt_adapter_for(spot_emulator)
    try:
        await adapter.connect()
        open_orders = await adapter.open_orders()
        cancelled = await adapter.cancel_all()
    finally:
        await adapter.close()
    assert [o.client_order_id for o in open_orders] == ["lg0123456789-3e99-0"]
    assert len(cancelled) == 1
    assert spot_emulator.open_orders() == []
    reads = [p for m, path, p in spot_emulator.rest.requests if m == "GET" and path == "/api/v3/openOrders"]
    assert reads[0].get("symbol") is None  # weight 80, once, instead of a refusal before any request


async def test_adapter_when_answer_delayed_past_timeout_after_accept_then_client_times_out_and_order_at_venue(
    usdm_emulator: Emulator,
) -> None:
    usdm_emulator.step(3)
    adapter = ccxt_adapter_for(usdm_emulator, timeout_ms=300)
    try:
        await adapter.connect()
        usdm_emulator.fail_next(
            HttpFault("/order", method="POST", after_accept=True, delay_secs=0.6, replace_answer=False)
        )
        with pytest.raises(ccxt_async.RequestTimeout):
            await adapter.exchange.create_order("BTC/USDT:USDT", "market", "buy", 0.002)
    finally:
        await adapter.close()
    assert usdm_emulator.position() == Decimal("0.002")


class _MinuteStartClock:
    """Wall time shifted so that it is 1 s past a minute boundary when made (a :class:`Clock`)."""

    def __init__(self) -> None:
        self._shift_ms = time.time_ns() // 1_000_000 % 60_000 - 1_000

    def now_ms(self) -> int:
        """Return the shifted wall time in ms since the epoch."""
        return time.time_ns() // 1_000_000 - self._shift_ms


async def test_adapter_when_rate_weight_budget_set_then_requests_beyond_it_are_not_sent(
    spot_emulator: Emulator,
) -> None:
    from livegate.domain.errors import VenueError

    spot_emulator.step(3)
    # 150 weight units a minute, 80 % (120) of it for reads: connecting takes 20 and the
    # account-wide open-order list weighs 80 (Binance Spot GET /api/v3/openOrders without a
    # symbol), so one list fits and a second does not. The budget's window is the calendar
    # minute (Binance's): the adapter's clock starts 1 s into one, so no minute boundary falls
    # between the two reads and refills the budget (on a loaded machine one did, once)
    adapter = ccxt_adapter_for(spot_emulator, rate_weight_per_min=150, clock=_MinuteStartClock())
    try:
        await adapter.connect()
        await adapter.open_orders()
        with pytest.raises(VenueError, match="weight budget"):
            await adapter.open_orders()
    finally:
        await adapter.close()
    reads = [p for m, path, p in spot_emulator.rest.requests if m == "GET" and path == "/api/v3/openOrders"]
    assert len(reads) == 1


async def test_adapter_when_retry_after_runs_then_ccxt_own_listen_key_request_is_held_back_and_no_ban(
    usdm_emulator: Emulator,
) -> None:
    from livegate.domain.errors import Retryable

    usdm_emulator.step(3)
    adapter = ccxt_adapter_for(usdm_emulator)

    def listen_keys() -> int:
        return sum(1 for _, path, _ in usdm_emulator.rest.requests if path == "/fapi/v1/listenKey")

    try:
        await adapter.connect()
        for _ in range(200):  # the private stream asks for its listen key in the background
            if listen_keys():
                break
            await asyncio.sleep(0.01)
        assert listen_keys() == 1
        usdm_emulator.fail_next(
            HttpFault("/openOrders", "GET", status=429, code=-1003, msg="Too many.", headers={"Retry-After": "5"})
        )
        with pytest.raises(Retryable) as refused:
            await adapter.open_orders()
        assert refused.value.retry_at_ms is not None  # when the venue takes requests again
        # ccxt.pro asks for a listen key by itself on every private-stream (re)connect; sent inside
        # the Retry-After window it would earn the IP a 418 ban: it must not leave the process
        with pytest.raises(ccxt_async.RateLimitExceeded, match="not sent"):
            await adapter.exchange.fapiPrivatePostListenKey()
    finally:
        await adapter.close()
    assert listen_keys() == 1
    assert usdm_emulator.gate.banned_until_ms == 0
