"""The venue contract suite against alpaca-py pointed at a loopback Alpaca (``url_override``).

Expectations come from the recordings in ``ccxt_fixtures`` (the DOGE/USD ``trade_updates``
session and its order body, the account body, the crypto asset list, the BTC/USD quote
and trade). Derived, not recorded: the resting DOGE/USD limit orders (the recorded order
with a limit price and our client order ids), the DOGE/USD position and the error bodies
(shaped from Alpaca's documented ``{"code", "message"}`` errors).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from livegate.domain.enums import Liquidity, OrderStatus, OrderType, Side
from livegate.domain.errors import Ambiguous, ConfigError, Fatal
from livegate.domain.market import Quote, Trade
from livegate.domain.orders import Fill, OrderReport
from livegate.domain.snapshots import BalanceSnapshot, PositionSnapshot, VenueOrderSnapshot
from livegate.venues.alpaca import AlpacaAdapter
from livegate.venues.base import MarketDataStream, VenueAdapter
from tests.contract.alpaca_server import API_KEY, API_SECRET, AlpacaLoopback, load_recordings
from tests.contract.base import AdapterContract, ContractHarness, ErrorCase, ErrorKind, make_order

SYMBOL = "DOGE/USD"
RECORDED_ORDER_ID = "b28e2b24-b1b2-40cc-8979-63f45e8edc02"
SECOND_ORDER_ID = "5d3c7f0e-2b1a-4c8e-9f6d-1a2b3c4d5e6f"
BTC_ORDER_ID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
T0_MS = int(datetime(2026, 9, 18, 13, 24, 50, tzinfo=UTC).timestamp()) * 1000  # recorded session second


def _adapter(server: AlpacaLoopback, *, key: str = API_KEY) -> AlpacaAdapter:
    return AlpacaAdapter(
        key,
        API_SECRET,
        symbols=[SYMBOL, "BTC/USD"],
        paper=True,
        url_override=server.url,
        stream_url_override=f"{server.ws_url}/stream",
        crypto_data_url_override=f"{server.ws_url}/v1beta3/crypto/us",
        request_timeout_secs=0.3,
        read_retry_attempts=2,
        read_retry_wait_secs=0.01,
        rate_limit_per_min=100_000,
        cancel_confirm_wait_secs=0.01,
    )


@pytest.fixture
async def server(core_data: Path) -> AsyncIterator[AlpacaLoopback]:
    loopback = AlpacaLoopback(load_recordings(core_data))
    await loopback.start()
    try:
        yield loopback
    finally:
        await loopback.close()


class TestAlpacaContract(AdapterContract):
    @pytest.fixture
    async def harness(self, server: AlpacaLoopback) -> AsyncIterator[ContractHarness]:
        order = make_order(SYMBOL, Side.SELL, Decimal("129.7"), Decimal("0.09"), venue="alpaca")
        second = make_order(SYMBOL, Side.SELL, Decimal("50"), Decimal("0.095"), seq=1, venue="alpaca")
        btc = make_order("BTC/USD", Side.BUY, Decimal("0.001"), Decimal("60000"), seq=2, venue="alpaca")
        server.seed_order(order.client_order_id, SYMBOL, "sell", "129.7", "0.09", RECORDED_ORDER_ID)
        server.seed_order(second.client_order_id, SYMBOL, "sell", "50", "0.095", SECOND_ORDER_ID)
        server.seed_order(btc.client_order_id, "BTC/USD", "buy", "0.001", "60000", BTC_ORDER_ID)
        server.positions = [
            {
                "asset_id": "03e005f7-4bfc-4616-b1b0-225dd64074fa",
                "symbol": SYMBOL,
                "exchange": "CRYPTO",
                "asset_class": "crypto",
                "qty": "129.7",
                "qty_available": "129.7",
                "avg_entry_price": "0.0851119",
                "side": "long",
                "market_value": "11.03901343",
                "cost_basis": "11.03901343",
            }
        ]
        adapter = _adapter(server)
        await adapter.connect()

        def snap(cid: str, oid: str, qty: str, price: str) -> VenueOrderSnapshot:
            return VenueOrderSnapshot(
                client_order_id=cid,
                venue_order_id=oid,
                symbol=SYMBOL,
                side=Side.SELL,
                order_type=OrderType.LIMIT,
                quantity=Decimal(qty),
                price=Decimal(price),
                filled_quantity=Decimal(0),
                status=OrderStatus.ACCEPTED,
                ts_ms=T0_MS + 34,  # updated_at of the recorded "new" frame
                average_fill_price=None,
            )

        def arrange_timeout(venue_accepts: bool) -> None:
            server.forget(order.client_order_id)
            server.next_submit_hang = (2.0, venue_accepts)

        recorded_cid = "ccxt_214efabb8ba04f9fbda29883611402a6"
        cases = [
            ErrorCase(
                "insufficient_balance",
                ErrorKind.REJECTED,
                lambda: server.fail_next_submit(
                    403, {"code": 40310000, "message": "insufficient balance for DOGE (requested: 129.7, available: 0)"}
                ),
                "40310000",
            ),
            ErrorCase(
                "qty_below_minimum",
                ErrorKind.REJECTED,
                lambda: server.fail_next_submit(422, {"code": 42210000, "message": "qty must be >= 12.148645972"}),
                "42210000",
            ),
            ErrorCase(
                "http_500",
                ErrorKind.AMBIGUOUS,
                lambda: server.fail_next_submit(500, {"code": 50010000, "message": "internal server error occurred"}),
                "50010000",
            ),
            ErrorCase("http_502_html", ErrorKind.AMBIGUOUS, lambda: server.fail_next_submit(502, "<html>bad gateway")),
            ErrorCase(
                "not_authorized",
                ErrorKind.FATAL,
                lambda: server.fail_next_submit(401, {"code": 40110000, "message": "request is not authorized"}),
                "40110000",
            ),
            ErrorCase("forbidden", ErrorKind.FATAL, lambda: server.fail_next_submit(403, {"message": "forbidden."})),
            # last: after a 429 the adapter sends nothing on the key until the back-off ends (calls.py)
            ErrorCase("rate_limited", ErrorKind.RETRYABLE, lambda: server.fail_next_submit(429, "rate limit exceeded")),
        ]
        h = ContractHarness(
            adapter=adapter,
            symbol=SYMBOL,
            order=order,
            expected_submit=OrderReport(
                order.client_order_id,
                OrderStatus.SUBMITTED,  # pending_new: Alpaca holds it, it may still be rejected
                0,
                venue_order_id=RECORDED_ORDER_ID,
                filled_quantity=Decimal(0),
            ),
            expected_fetch=snap(order.client_order_id, RECORDED_ORDER_ID, "129.7", "0.09"),
            expected_cancel=OrderReport(
                order.client_order_id, OrderStatus.CANCELLED, 0, RECORDED_ORDER_ID, filled_quantity=Decimal(0)
            ),
            expected_cancel_all=frozenset({order.client_order_id, second.client_order_id}),
            expected_open_orders=[
                snap(order.client_order_id, RECORDED_ORDER_ID, "129.7", "0.09"),
                snap(second.client_order_id, SECOND_ORDER_ID, "50", "0.095"),
            ],
            expected_positions=[PositionSnapshot(SYMBOL, Decimal("129.7"), Decimal("0.0851119"))],
            # cash at cost: recorded cash 5.92 + the position's recorded cost_basis 11.03901343
            expected_balances=[BalanceSnapshot("USD", Decimal("16.95901343"), Decimal("5.92"))],
            error_cases=cases,
            arrange_submit_timeout=arrange_timeout,
            submit_request_count=lambda: server.submit_requests,
            replay_order_stream=server.replay_trade_updates,
            expected_stream_reports=[
                OrderReport(recorded_cid, OrderStatus.SUBMITTED, T0_MS + 19, RECORDED_ORDER_ID, Decimal(0)),
                OrderReport(recorded_cid, OrderStatus.ACCEPTED, T0_MS + 19, RECORDED_ORDER_ID, Decimal(0)),
                Fill(
                    client_order_id=recorded_cid,
                    fill_id="a0b4b946-3ed9-4fd6-bb10-d1c5f28415aa",
                    symbol=SYMBOL,
                    side=Side.SELL,
                    price=Decimal("0.0851119"),
                    quantity=Decimal("129.7"),
                    fee=Decimal(0),
                    liquidity=Liquidity.TAKER,
                    ts_ms=T0_MS + 19,
                    venue="alpaca",
                ),
            ],
            notes="resting limit orders, position and error bodies derived; the rest recorded",
        )
        try:
            yield h
        finally:
            await adapter.close()


async def test_alpaca_adapter_when_built_then_implements_the_protocols(server: AlpacaLoopback) -> None:
    adapter = _adapter(server)
    assert isinstance(adapter, VenueAdapter)
    assert isinstance(adapter, MarketDataStream)
    assert adapter.calendar_name == "XNYS"
    assert adapter.calendar_for("AAPL") == "XNYS"
    assert adapter.calendar_for("BTC/USD") is None
    await adapter.close()


async def test_alpaca_connect_when_key_is_wrong_then_fatal(server: AlpacaLoopback) -> None:
    adapter = _adapter(server, key="PKWRONG")
    with pytest.raises(Fatal) as info:
        await adapter.connect()
    assert info.value.code == "40110000"
    assert API_SECRET not in info.value.message
    await adapter.close()


async def test_alpaca_instruments_when_connected_then_from_asset_increments(server: AlpacaLoopback) -> None:
    adapter = _adapter(server)
    await adapter.connect()
    try:
        doge = adapter.instruments()[SYMBOL]
        assert doge.tick_size == Decimal("0.000000001")
        assert doge.lot_size == Decimal("0.000000001")
        assert doge.min_quantity == Decimal("12.148645972")
        assert (doge.base_currency, doge.quote_currency) == ("DOGE", "USD")
    finally:
        await adapter.close()


async def test_alpaca_connect_when_symbol_unknown_then_config_error(server: AlpacaLoopback) -> None:
    adapter = AlpacaAdapter(API_KEY, API_SECRET, symbols=["NOPE/USD"], url_override=server.url, read_retry_attempts=1)
    with pytest.raises(ConfigError):
        await adapter.connect()
    await adapter.close()


async def test_alpaca_submit_when_client_id_reused_then_ambiguous_not_rejected(server: AlpacaLoopback) -> None:
    adapter = _adapter(server)
    await adapter.connect()
    try:
        order = make_order(SYMBOL, Side.SELL, Decimal("129.7"), Decimal("0.09"), seq=7, venue="alpaca")
        await adapter.submit(order)
        with pytest.raises(Ambiguous) as info:
            await adapter.submit(order)
        assert info.value.code == "40010001"
    finally:
        await adapter.close()


async def test_alpaca_cancel_all_when_no_symbol_then_livegates_orders_and_outside_ones_left_unless_everything(
    server: AlpacaLoopback,
) -> None:
    adapter = _adapter(server)
    await adapter.connect()
    ours_a, ours_b, ours_c = (f"lg0123456789-abcd-{seq}" for seq in "abc")
    try:
        server.seed_order(ours_a, SYMBOL, "sell", "20", "0.09", "00000000-0000-4000-8000-00000000000a")
        server.seed_order(ours_b, "BTC/USD", "buy", "0.001", "60000", "00000000-0000-4000-8000-00000000000b")
        reports = await adapter.cancel_all()  # only livegate's open: the native DELETE /v2/orders
        assert {r.client_order_id for r in reports} == {ours_a, ours_b}
        assert all(r.status is OrderStatus.CANCELLED for r in reports)
        server.seed_order("by-hand-1", SYMBOL, "buy", "1", "1.00", "00000000-0000-4000-8000-00000000000c")
        server.seed_order(ours_c, SYMBOL, "buy", "1", "1.50", "00000000-0000-4000-8000-00000000000d")
        reports = await adapter.cancel_all()  # an outside order open: livegate's one by one, it stays
        assert [r.client_order_id for r in reports] == [ours_c]
        assert [o.client_order_id for o in await adapter.open_orders()] == ["by-hand-1"]
        reports = await adapter.cancel_all(everything=True)  # livegate cancel-all --venue
        assert [r.client_order_id for r in reports] == ["by-hand-1"]
        assert await adapter.open_orders() == []
    finally:
        await adapter.close()


async def test_alpaca_market_data_when_subscribed_then_recorded_quote_and_trade(server: AlpacaLoopback) -> None:
    adapter = _adapter(server)
    stream = adapter.stream_market_data(["BTC/USD"])
    try:
        first = await anext(stream)
        second = await anext(stream)
    finally:
        await stream.aclose()
        await adapter.close()
    assert isinstance(first, Quote)
    assert (first.bid_price, first.bid_size, first.ask_price, first.ask_size) == (
        Decimal("69625.1"),
        Decimal("0.675524"),
        Decimal("69684.9"),
        Decimal("0.682"),
    )
    assert first.ts_event_ms == int(datetime(2024, 11, 2, 2, 0, 19, tzinfo=UTC).timestamp()) * 1000 + 319
    assert isinstance(second, Trade)
    assert (second.price, second.size, second.aggressor_side) == (Decimal("64625.4"), Decimal("0.015155213"), Side.BUY)
    auth = next(f for f in server.data_requests if f.get("action") == "auth")
    assert auth["key"] == API_KEY


@pytest.mark.live
@pytest.mark.skipif(
    not (os.environ.get("LIVEGATE_ALPACA_API_KEY") and os.environ.get("LIVEGATE_ALPACA_API_SECRET")),
    reason="needs LIVEGATE_ALPACA_API_KEY / LIVEGATE_ALPACA_API_SECRET (Alpaca paper account)",
)
async def test_alpaca_live_paper_when_connected_then_balances_readable() -> None:
    adapter = AlpacaAdapter(
        os.environ["LIVEGATE_ALPACA_API_KEY"], os.environ["LIVEGATE_ALPACA_API_SECRET"], symbols=["AAPL"], paper=True
    )
    await adapter.connect()
    try:
        assert await adapter.balances()
    finally:
        await adapter.close()
