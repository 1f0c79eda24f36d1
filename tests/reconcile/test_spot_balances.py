"""Spot reconciliation compares asset balances (free + locked) with livegate's inventory (issue 10 §3j).

The venue is the real ccxt ``binance`` class on a loopback server answering ``GET
/api/v3/account`` with the recorded "Spot balance" body, its ``balances`` set per step.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest

from livegate.config.reconcile_models import ReconcileConfig
from livegate.domain.clock import ReplayClock
from livegate.domain.enums import Liquidity, OrderStatus, OrderType, Side, TimeInForce, TradingState
from livegate.domain.orders import Fill, Order, OrderIntent
from livegate.ledger import events as ev
from livegate.ledger.store import Ledger
from livegate.portfolio import Portfolio
from livegate.reconcile.drift import DriftKind
from livegate.reconcile.reconciler import Reconciler
from livegate.reconcile.result import ReconcileResult
from tests.contract.ccxt_harness import BINANCE_CREDS, Loopback, case, fixture, make_adapter, servers
from tests.contract.loopback import Reply

pytestmark = pytest.mark.asyncio
SYMBOL = "LTC/USDT"


def account(**assets: tuple[str, str]) -> dict[str, object]:
    """The recorded spot account body with ``asset=(free, locked)`` balances."""
    body = copy.deepcopy(case(fixture("response", "binance"), "fetchBalance", "Spot balance")["httpResponse"])
    body["balances"] = [{"asset": a, "free": f, "locked": lk} for a, (f, lk) in assets.items()]
    return body


@dataclass(slots=True)
class Spot:
    lb: Loopback
    reconciler: Reconciler
    portfolio: Portfolio
    ledger: Ledger
    drift: list[tuple[TradingState, str]] = field(default_factory=list)

    def balances(self, **assets: tuple[str, str]) -> None:
        self.lb.http.route("GET", "/api/v3/account", Reply(account(**assets)))

    def buy(self, quantity: str, price: str, fee_in_base: str) -> None:
        intent = OrderIntent(SYMBOL, Side.BUY, Decimal(quantity), OrderType.LIMIT, Decimal(price), TimeInForce.GTC,
                             False, False, "s", 0, 1)  # fmt: skip
        order = Order("c1", intent, "ccxt:binance")
        order.transition(OrderStatus.SUBMITTED, 1)
        self.portfolio.add_order(order)
        fee = Decimal(fee_in_base)
        fill = Fill("c1", "t1", SYMBOL, Side.BUY, Decimal(price), Decimal(quantity), fee * Decimal(price),
                    Liquidity.TAKER, 2, "ccxt:binance", fee_asset="LTC", fee_in_asset=fee)  # fmt: skip
        self.ledger.append(ev.FILL, 2, fill.to_record())
        self.portfolio.apply_fill(fill)


@asynccontextmanager
async def spot(tmp_path: Path) -> AsyncIterator[Spot]:
    async with servers() as lb:
        lb.http.route("GET", "/api/v3/openOrders", Reply([]))
        lb.http.route("GET", "/api/v3/myTrades", Reply([]))
        adapter = make_adapter(
            lb, "binance", "binance", BINANCE_CREDS, 2, order_stream=False,
            options={"warnOnFetchOpenOrdersWithoutSymbol": False},
        )  # fmt: skip
        await adapter.connect()
        ledger = Ledger.open(tmp_path / "ledger.sqlite")
        portfolio = Portfolio()
        drift: list[tuple[TradingState, str]] = []
        reconciler = Reconciler(
            venue=adapter,
            portfolio=portfolio,
            config=ReconcileConfig(),
            clock=ReplayClock(1_700_000_000_000),
            currency_of={SYMBOL: "USDT"},
            ledger=ledger,
            on_drift=lambda state, reason: drift.append((state, reason)),
        )
        try:
            yield Spot(lb, reconciler, portfolio, ledger, drift)
        finally:
            ledger.close()
            await adapter.close()


async def test_spot_reconcile_when_holding_inventory_bought_with_base_fee_then_no_drift(tmp_path: Path) -> None:
    async with spot(tmp_path) as s:
        s.balances(LTC=("0.5", "0"), USDT=("1000", "0"))
        assert (await s.reconciler.reconcile("startup")).clean  # learns the baseline
        s.buy("2", "70", fee_in_base="0.002")
        # 0.5 + 2 - 0.002 LTC; 1000 - 140 USDT, part of it locked by a resting order
        s.balances(LTC=("2.498", "0"), USDT=("800", "60"))
        for _ in range(3):
            result = await s.reconciler.reconcile("periodic")
            assert result.clean, result.records
        assert s.drift == []


async def test_spot_reconcile_when_base_asset_withdrawn_then_drift_in_its_own_units(tmp_path: Path) -> None:
    async with spot(tmp_path) as s:
        s.balances(LTC=("0.5", "0"), USDT=("1000", "0"))
        await s.reconciler.reconcile("startup")
        s.buy("2", "70", fee_in_base="0.002")
        s.balances(LTC=("2.493", "0"), USDT=("860", "0"))  # 0.005 LTC withdrawn
        first = await s.reconciler.reconcile("periodic")
        assert first.beyond_tolerance == []  # held back: a fill report in flight looks the same for a moment
        result = await s.reconciler.reconcile("periodic")  # still there one interval later: drift
        (record,) = result.beyond_tolerance
        assert (record.kind, record.symbol, record.difference) == (DriftKind.BALANCE_MISMATCH, "LTC", "-0.005")
        assert record.tolerance == "0 LTC or 0.01 USD"  # 0.005 LTC is worth 0.35 USD at the last fill
        assert [state for state, _ in s.drift] == [TradingState.REDUCING]


async def test_spot_reconcile_when_dust_below_usd_tolerance_then_accepted(tmp_path: Path) -> None:
    async with spot(tmp_path) as s:
        s.balances(LTC=("0.5", "0"), USDT=("1000", "0"))
        await s.reconciler.reconcile("startup")
        s.buy("2", "70", fee_in_base="0.002")
        s.balances(LTC=("2.49799", "0"), USDT=("860", "0"))  # 0.00001 LTC = 0.0007 USD
        result = await s.reconciler.reconcile("periodic")
        assert result.beyond_tolerance == []


async def test_spot_reconcile_when_difference_gone_at_next_pass_then_never_drift(tmp_path: Path) -> None:
    async with spot(tmp_path) as s:
        s.balances(LTC=("0.5", "0"), USDT=("1000", "0"))
        await s.reconciler.reconcile("startup")
        s.balances(LTC=("2.498", "0"), USDT=("860", "0"))  # the venue filled; its report is still in flight
        first = await s.reconciler.reconcile("periodic")
        s.buy("2", "70", fee_in_base="0.002")  # the fill report arrives
        second = await s.reconciler.reconcile("periodic")
        assert first.beyond_tolerance == [] and second.beyond_tolerance == []
        assert s.drift == []


async def _reconcile_while_a_buy_arrives(
    s: Spot, before: dict[str, object], after: dict[str, object]
) -> ReconcileResult:
    """Reconcile (``operator``: counts at once) while the venue answers ``before`` 0.2 s late, then ``after``.

    The buy's report is applied to the book while the first account answer is on its way.
    """

    async def buy_arrives() -> None:
        await asyncio.sleep(0.1)
        s.buy("2", "70", fee_in_base="0.002")

    s.lb.http.route("GET", "/api/v3/account", Reply(before, delay_secs=0.2), Reply(after))
    arrives = asyncio.create_task(buy_arrives())
    result = await s.reconciler.reconcile("operator")
    await arrives
    return result


async def test_spot_reconcile_when_a_fill_arrives_during_the_account_read_then_read_again_and_no_drift(
    tmp_path: Path,
) -> None:
    async with spot(tmp_path) as s:
        s.balances(LTC=("0.5", "0"), USDT=("1000", "0"))
        await s.reconciler.reconcile("startup")
        # the venue answers its account as it was before the fill, the fill is applied meanwhile;
        # asked again, it answers the account with the fill
        before, after = account(LTC=("0.5", "0"), USDT=("1000", "0")), account(LTC=("2.498", "0"), USDT=("860", "0"))
        result = await _reconcile_while_a_buy_arrives(s, before, after)
        assert result.clean, result.records
        assert s.drift == []
        assert len(s.lb.http.seen("GET", "/api/v3/account")) == 3  # the startup read, then read twice


async def test_spot_reconcile_when_withdrawn_and_a_fill_arrives_during_the_account_read_then_drift_is_the_withdrawal(
    tmp_path: Path,
) -> None:
    async with spot(tmp_path) as s:
        s.balances(LTC=("0.5", "0"), USDT=("1000", "0"))
        await s.reconciler.reconcile("startup")
        before = account(LTC=("0.495", "0"), USDT=("1000", "0"))  # 0.005 LTC withdrawn
        after = account(LTC=("2.493", "0"), USDT=("860", "0"))
        result = await _reconcile_while_a_buy_arrives(s, before, after)
        (record,) = result.beyond_tolerance
        assert (record.kind, record.symbol, record.difference) == (DriftKind.BALANCE_MISMATCH, "LTC", "-0.005")
