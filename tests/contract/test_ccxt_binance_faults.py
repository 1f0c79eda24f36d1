"""Binance faults through the real, unmodified ccxt against a loopback server (issue 10 §3b, c, e, g).

Each test scripts the loopback's answers the way Binance gives them (bodies and codes from
the Binance Spot API "Error Codes" page; HTTP 429/418 and ``Retry-After`` from its
"LIMITS" section) and checks what livegate does: the translated error, the order's state
in a real :class:`~livegate.execution.engine.ExecutionEngine`, and how many requests
reached the venue.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from livegate.domain.clock import ReplayClock
from livegate.domain.enums import OrderStatus, Side
from livegate.domain.errors import Ambiguous, Fatal, Rejected, Retryable
from livegate.domain.orders import Order
from livegate.venues.ccxt import CcxtAdapter
from tests.contract.base import EngineRig, build_engine, make_order
from tests.contract.ccxt_harness import BINANCE_CREDS, Loopback, case, fixture, make_adapter, servers
from tests.contract.loopback import Reply

pytestmark = pytest.mark.asyncio

ORDER = "/api/v3/order"
T0 = 1_700_000_000_000
DUPLICATE = Reply({"code": -2010, "msg": "Duplicate order sent."}, 400)
UNKNOWN_STATUS = Reply(
    {"code": -1007, "msg": "Timeout waiting for response from backend server. Send status unknown; "
     "execution status unknown."}, 503,
)  # fmt: skip
NOT_FOUND = Reply({"code": -2013, "msg": "Order does not exist."}, 400)


@dataclass(slots=True)
class Rig:
    lb: Loopback
    adapter: CcxtAdapter
    engine: EngineRig
    order: Order
    fetched: dict[str, object]

    def posts(self) -> int:
        return self.lb.http.count("POST", ORDER)

    def requests(self) -> int:
        return len(self.lb.http.requests)


@asynccontextmanager
async def binance(tmp_path: Path) -> AsyncIterator[Rig]:
    """A connected spot adapter (recorded LTC/USDT market table) on a loopback, and a real engine on it."""
    resp = fixture("response", "binance")
    async with servers() as lb:
        adapter = make_adapter(lb, "binance", "binance", BINANCE_CREDS, 2, order_stream=False, clock=ReplayClock(T0))
        await adapter.connect()
        rig = build_engine(adapter, adapter.instruments(), tmp_path)
        order = make_order("LTC/USDT", Side.BUY, Decimal("0.1"), Decimal("90"), venue=adapter.name)
        decision = rig.engine.submit_intent(order.intent)
        assert decision.approved
        tracked = rig.portfolio.order(decision.client_order_id)
        assert tracked is not None
        try:
            yield Rig(lb, adapter, rig, tracked, case(resp, "fetchOrder", "Fetch spot closed order")["httpResponse"])
        finally:
            rig.close()
            await adapter.close()


async def test_binance_submit_when_503_minus_1007_and_lookup_lags_then_in_flight_and_never_resent(
    tmp_path: Path,
) -> None:
    async with binance(tmp_path) as rig:
        rig.lb.http.route("POST", ORDER, UNKNOWN_STATUS)
        rig.lb.http.route("GET", ORDER, NOT_FOUND)  # the venue's read side lags its matching engine
        await rig.engine.engine.dispatch()
        for step_ms in (0, 1_000, 3_000, 7_000, 15_000):
            rig.engine.clock.advance_to(T0 + step_ms)
            await rig.engine.engine.resolve_ambiguous()
        assert rig.posts() == 1, "a -1007 order is never resent"
        assert rig.order.status is OrderStatus.SUBMITTED
        assert rig.order.client_order_id in rig.engine.engine.ambiguous_orders
        assert ("ambiguous_submit", f"{rig.order.client_order_id}: -1007: ") in [
            (k, d[: len(rig.order.client_order_id) + 9]) for k, d in rig.engine.anomalies
        ]
        rig.lb.http.route("GET", ORDER, Reply(rig.fetched))  # now the lookup sees it
        rig.engine.clock.advance_to(T0 + 40_000)
        await rig.engine.engine.resolve_ambiguous()
        assert rig.engine.engine.ambiguous_orders == {}
        assert rig.order.status is OrderStatus.FILLED
        assert rig.posts() == 1


async def test_binance_submit_when_duplicate_order_sent_then_resolved_never_rejected(tmp_path: Path) -> None:
    async with binance(tmp_path) as rig:
        with pytest.raises(Ambiguous) as info:
            rig.lb.http.route("POST", ORDER, DUPLICATE)
            await rig.adapter.submit(rig.order)
        assert info.value.code == "-2010"
        rig.lb.http.route("GET", ORDER, Reply(rig.fetched))
        await rig.engine.engine.dispatch()
        assert rig.order.status is not OrderStatus.REJECTED
        await rig.engine.engine.resolve_ambiguous()
        assert rig.order.status is OrderStatus.FILLED, "the venue holds the order: resolved from its lookup"


async def test_binance_submit_when_insufficient_balance_minus_2010_then_still_a_definite_reject(
    tmp_path: Path,
) -> None:
    async with binance(tmp_path) as rig:
        body = {"code": -2010, "msg": "Account has insufficient balance for requested action."}
        rig.lb.http.route("POST", ORDER, Reply(body, 400))
        await rig.engine.engine.dispatch()
        assert rig.order.status is OrderStatus.REJECTED


async def test_binance_submit_when_429_with_retry_after_then_not_placed_and_no_request_until_it_passes(
    tmp_path: Path,
) -> None:
    async with binance(tmp_path) as rig:
        limited = {"code": -1003, "msg": "Too many requests; current limit is 6000 request weight per 1 MINUTE."}
        rig.lb.http.route("POST", ORDER, Reply(limited, 429, headers={"Retry-After": "30"}))
        await rig.engine.engine.dispatch()
        assert rig.order.status is OrderStatus.REJECTED, "a 429 on submit is a definite 'not placed'"
        assert rig.engine.engine.ambiguous_orders == {}
        before = rig.requests()
        with pytest.raises(Retryable) as info:
            await rig.adapter.open_orders("LTC/USDT")
        assert info.value.code == "RATE_BUDGET"
        assert rig.requests() == before, "no request inside the Retry-After window"


async def test_binance_any_call_when_418_ban_then_fatal_and_no_request_until_the_ban_ends(tmp_path: Path) -> None:
    async with binance(tmp_path) as rig:
        banned = {"code": -1003, "msg": "Way too many requests; IP(127.0.0.1) banned until 1700000120000."}
        rig.lb.http.route("POST", ORDER, Reply(banned, 418, headers={"Retry-After": "120"}))
        await rig.engine.engine.dispatch()
        assert [k for k, _ in rig.engine.anomalies] == ["venue_fatal"]
        before = rig.requests()
        for call in (rig.adapter.open_orders("LTC/USDT"), rig.adapter.cancel_all("LTC/USDT")):
            with pytest.raises(Retryable, match="banned until"):
                await call
        assert rig.requests() == before


@pytest.mark.parametrize(
    ("code", "msg", "status"),
    [
        (-2015, "Invalid API-key, IP, or permissions for action.", 401),
        (-2014, "API-key format invalid.", 401),
        (-1022, "Signature for this request is not valid.", 400),
    ],
)
async def test_binance_submit_when_auth_error_then_fatal_whatever_the_ccxt_class(
    tmp_path: Path, code: int, msg: str, status: int
) -> None:
    async with binance(tmp_path) as rig:
        # ccxt raises DDoSProtection for -2015 once a key has authenticated before (binance.handle_errors)
        rig.adapter.exchange.options["hasAlreadyAuthenticatedSuccessfully"] = True
        rig.lb.http.route("POST", ORDER, Reply({"code": code, "msg": msg}, status))
        with pytest.raises(Fatal) as info:
            await rig.adapter.submit(rig.order)
        assert info.value.code == str(code)
        await rig.engine.engine.dispatch()
        assert rig.order.status is OrderStatus.REJECTED
        assert rig.posts() == 2, "no resend: one direct call above, one through the engine"
        assert [k for k, _ in rig.engine.anomalies] == ["venue_fatal"]


async def test_binance_read_when_used_weight_header_near_limit_then_next_request_refused_unsent(
    tmp_path: Path,
) -> None:
    async with binance(tmp_path) as rig:
        opened = case(fixture("response", "binance"), "fetchOpenOrders", "Fetch spot open orders")["httpResponse"]
        rig.lb.http.route("GET", "/api/v3/openOrders", Reply(opened, headers={"X-MBX-USED-WEIGHT-1M": "4799"}))
        await rig.adapter.open_orders("LTC/USDT")
        before = rig.requests()
        with pytest.raises(Retryable, match="weight budget"):
            await rig.adapter.open_orders("LTC/USDT")  # 4799 + 6 > 80 % of 6000
        assert rig.requests() == before


async def test_binance_cancel_when_order_unknown_minus_2011_then_rejected_translation(tmp_path: Path) -> None:
    async with binance(tmp_path) as rig:
        rig.lb.http.route("DELETE", ORDER, Reply({"code": -2011, "msg": "Unknown order sent."}, 400))
        with pytest.raises(Rejected) as info:
            await rig.adapter.cancel(rig.order.client_order_id, "LTC/USDT")
        assert info.value.code == "-2011"


async def test_binance_cancel_when_reads_hit_the_headroom_then_cancel_still_sent(tmp_path: Path) -> None:
    async with binance(tmp_path) as rig:
        opened = case(fixture("response", "binance"), "fetchOpenOrders", "Fetch spot open orders")["httpResponse"]
        rig.lb.http.route("GET", "/api/v3/openOrders", Reply(opened, headers={"X-MBX-USED-WEIGHT-1M": "4900"}))
        rig.lb.http.route("DELETE", ORDER, Reply({**opened[0], "status": "CANCELED"}))
        await rig.adapter.open_orders("LTC/USDT")
        with pytest.raises(Retryable, match="weight budget"):
            await rig.adapter.open_orders("LTC/USDT")  # reads stop at 80 % of 6000
        await rig.adapter.cancel(rig.order.client_order_id, "LTC/USDT")  # the rest is kept for cancels
        assert rig.lb.http.count("DELETE", ORDER) == 1
