"""The venue contract suite against ib_async connected to a loopback TWS (wire protocol 176).

No IBKR traffic is recorded in ``../shared/data``: the loopback TWS encodes messages field
by field as TWS sends them (TWS API message formats, checked against ib_async's decoder),
and every expectation here is derived from the values seeded into it, not from the
adapter's parsing. Error texts are TWS's own ("Message Codes" page).
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from livegate.domain.clock import ReplayClock, monotonic_secs
from livegate.domain.enums import Liquidity, OrderStatus, OrderType, Side
from livegate.domain.errors import Retryable
from livegate.domain.orders import Fill, OrderReport
from livegate.domain.snapshots import BalanceSnapshot, PositionSnapshot, VenueOrderSnapshot
from livegate.venues.base import VenueAdapter
from livegate.venues.ibkr import PAPER_PORT, IbkrAdapter
from livegate.venues.ibkr.pacing import ApiPacer
from tests.contract.base import AdapterContract, CollectingSink, ContractHarness, ErrorCase, ErrorKind, make_order
from tests.contract.tws_server import TwsLoopback

SYMBOL = "AAPL"
NOW_MS = 1_789_737_890_000
SEED_PERM_ID = 1_880_000_001
SECOND_PERM_ID = 1_880_000_002
MSFT_PERM_ID = 1_880_000_003


def _adapter(server: TwsLoopback, **overrides: float) -> IbkrAdapter:
    params: dict[str, float] = {
        "connect_timeout_secs": 2.0,
        "submit_ack_timeout_secs": 0.5,
        "request_timeout_secs": 1.0,
        "pacing_interval_secs": 0.01,
        "reconnect_initial_secs": 0.05,
        "reconnect_max_secs": 0.2,
        **overrides,
    }
    return IbkrAdapter("127.0.0.1", server.port, 7, symbols=[SYMBOL, "MSFT"], clock=ReplayClock(NOW_MS), **params)


@pytest.fixture
async def server() -> AsyncIterator[TwsLoopback]:
    tws = TwsLoopback()
    tws.positions = [(SYMBOL, "100", "189.5012")]
    tws.account_values = [
        ("TotalCashValue", "100000.00", "USD"),
        ("AvailableFunds", "95000.00", "USD"),
        ("TotalCashValue", "100000.00", "BASE"),
        ("NetLiquidation", "118950.12", "USD"),
    ]
    await tws.start()
    try:
        yield tws
    finally:
        await tws.close()


class TestIbkrContract(AdapterContract):
    @pytest.fixture
    async def harness(self, server: TwsLoopback) -> AsyncIterator[ContractHarness]:
        order = make_order(SYMBOL, Side.BUY, Decimal("100"), Decimal("180"), venue="ibkr")
        second = make_order(SYMBOL, Side.BUY, Decimal("50"), Decimal("179.5"), seq=1, venue="ibkr")
        msft = make_order("MSFT", Side.BUY, Decimal("10"), Decimal("400"), seq=2, venue="ibkr")
        server.seed_order(order.client_order_id, SYMBOL, "BUY", "100", "180", SEED_PERM_ID)
        server.seed_order(second.client_order_id, SYMBOL, "BUY", "50", "179.5", SECOND_PERM_ID)
        server.seed_order(msft.client_order_id, "MSFT", "BUY", "10", "400", MSFT_PERM_ID)
        for seeded in server.orders.values():
            seeded.client_id = 7
        adapter = _adapter(server)
        await adapter.connect()

        def snap(cid: str, perm_id: int, qty: str, price: str) -> VenueOrderSnapshot:
            return VenueOrderSnapshot(
                client_order_id=cid,
                venue_order_id=str(perm_id),
                symbol=SYMBOL,
                side=Side.BUY,
                order_type=OrderType.LIMIT,
                quantity=Decimal(qty),
                price=Decimal(price),
                filled_quantity=Decimal(0),
                status=OrderStatus.ACCEPTED,
                ts_ms=NOW_MS,
            )

        def arrange_timeout(venue_accepts: bool) -> None:
            server.forget(order.client_order_id)
            server.next_submit_silent = venue_accepts

        def error(code: int, text: str, about_order: bool = True) -> ErrorCase:
            kind = {201: ErrorKind.REJECTED, 110: ErrorKind.REJECTED, 1100: ErrorKind.AMBIGUOUS}.get(
                code, ErrorKind.RETRYABLE if code == 100 else ErrorKind.FATAL
            )

            def arrange() -> None:
                server.next_submit_error = (code, text, about_order)

            return ErrorCase(f"ib_{code}", kind, arrange, str(code))

        cases = [
            error(
                201,
                "Order rejected - reason:YOUR ORDER IS NOT ACCEPTED. IN ORDER TO OBTAIN THE DESIRED POSITION YOUR "
                "EQUITY WITH LOAN VALUE [0.00 USD] MUST EXCEED THE INITIAL MARGIN [18000.00 USD]",
            ),
            error(110, "The price does not conform to the minimum price variation for this contract."),
            error(1100, "Connectivity between IB and Trader Workstation has been lost.", about_order=False),
            error(100, "Max rate of messages per second has been exceeded:max=50 rec=55 (1)"),
            error(203, "The security <AAPL> is not available or allowed for this account."),
        ]
        h = ContractHarness(
            adapter=adapter,
            symbol=SYMBOL,
            order=order,
            expected_submit=OrderReport(order.client_order_id, OrderStatus.ACCEPTED, 0, str(SEED_PERM_ID), Decimal(0)),
            expected_fetch=snap(order.client_order_id, SEED_PERM_ID, "100", "180"),
            expected_cancel=OrderReport(order.client_order_id, OrderStatus.CANCELLED, 0, str(SEED_PERM_ID), Decimal(0)),
            expected_cancel_all=frozenset({order.client_order_id, second.client_order_id}),
            expected_open_orders=[
                snap(order.client_order_id, SEED_PERM_ID, "100", "180"),
                snap(second.client_order_id, SECOND_PERM_ID, "50", "179.5"),
            ],
            expected_positions=[PositionSnapshot(SYMBOL, Decimal("100"), Decimal("189.5012"))],
            expected_balances=[BalanceSnapshot("USD", Decimal("100000.00"), Decimal("95000.00"))],
            error_cases=cases,
            arrange_submit_timeout=arrange_timeout,
            submit_request_count=lambda: server.submit_requests,
            replay_order_stream=_replay(server, order.client_order_id),
            expected_stream_reports=[
                OrderReport(order.client_order_id, OrderStatus.ACCEPTED, NOW_MS, str(SEED_PERM_ID), Decimal(0)),
                Fill(
                    client_order_id=order.client_order_id,
                    fill_id="0000e0d5.67a1b2c3.01.01",
                    symbol=SYMBOL,
                    side=Side.BUY,
                    price=Decimal("180"),
                    quantity=Decimal("100"),
                    fee=Decimal("1.0"),
                    liquidity=Liquidity.MAKER,
                    ts_ms=int(datetime(2026, 9, 18, 13, 24, 50, tzinfo=UTC).timestamp()) * 1000,
                    venue="ibkr",
                ),
            ],
            notes="no IBKR recordings exist; every message is encoded per the TWS API and seeded values",
        )
        try:
            yield h
        finally:
            await adapter.close()


def _replay(server: TwsLoopback, cid: str) -> Callable[[], Awaitable[None]]:
    async def replay() -> None:
        server.replay_fill(cid, "0000e0d5.67a1b2c3.01.01", "1.0")

    return replay


async def test_ibkr_adapter_when_built_then_paper_port_is_sandbox(server: TwsLoopback) -> None:
    adapter = _adapter(server)
    assert isinstance(adapter, VenueAdapter)
    assert adapter.capabilities.native_cancel_all
    assert IbkrAdapter(symbols=["AAPL"]).capabilities.sandbox  # 7497
    assert not IbkrAdapter(port=7496, symbols=["AAPL"]).capabilities.sandbox
    assert PAPER_PORT == 7497


async def test_ibkr_connect_when_tws_not_listening_then_retryable() -> None:
    adapter = IbkrAdapter("127.0.0.1", 9, 7, symbols=[SYMBOL], connect_timeout_secs=1.0)
    with pytest.raises(Retryable):
        await adapter.connect()
    await adapter.close()


async def test_ibkr_connection_when_dropped_then_reconnects_with_backoff(server: TwsLoopback) -> None:
    adapter = _adapter(server)
    await adapter.connect()
    try:
        server.drop_clients()
        async with asyncio.timeout(5):
            while adapter.connected:
                await asyncio.sleep(0.01)
            while not adapter.connected:
                await asyncio.sleep(0.02)
        assert server.connections == 1
        assert await adapter.positions() == [PositionSnapshot(SYMBOL, Decimal("100"), Decimal("189.5012"))]
    finally:
        await adapter.close()


async def test_ibkr_submit_when_connectivity_lost_mid_flight_then_found_by_order_ref(server: TwsLoopback) -> None:
    adapter = _adapter(server)
    await adapter.connect()
    adapter.bind(CollectingSink())
    try:
        order = make_order(SYMBOL, Side.BUY, Decimal("5"), Decimal("180"), seq=9, venue="ibkr")
        server.next_submit_silent = True
        with pytest.raises(Exception, match="no answer"):
            await adapter.submit(order)
        found = await adapter.fetch_order(order.client_order_id, SYMBOL)
        assert found is not None and found.status is OrderStatus.ACCEPTED
    finally:
        await adapter.close()


async def test_api_pacer_when_called_back_to_back_then_100ms_apart() -> None:
    pacer = ApiPacer()
    stamps = []
    for _ in range(4):
        await pacer.wait()
        stamps.append(monotonic_secs())
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert min(gaps) >= 0.099


@pytest.mark.live
@pytest.mark.skipif(not os.environ.get("LIVEGATE_IBKR_PORT"), reason="needs a paper TWS; set LIVEGATE_IBKR_PORT")
async def test_ibkr_live_paper_when_connected_then_balances_readable() -> None:
    adapter = IbkrAdapter(port=int(os.environ["LIVEGATE_IBKR_PORT"]), symbols=["AAPL"])
    await adapter.connect()
    try:
        assert await adapter.balances()
    finally:
        await adapter.close()
