"""The one venue-adapter contract suite (docs/architecture.md §6), reusable for every adapter.

How to reuse it for a new adapter (Alpaca, IBKR, ...):

1. Build a :class:`ContractHarness` in an async pytest fixture named ``harness``: a
   *connected* adapter talking to a loopback server that replays the venue's recorded
   traffic, the symbol to trade, the order to submit and the domain results you expect,
   derived from the recordings (never from the adapter's own parsing code).
2. Fill the ``arrange_*`` hooks: each one reconfigures the loopback server so that the
   *next* call of that kind meets the given condition (an error body, a 5xx, a hang...).
3. Subclass :class:`AdapterContract` in a ``test_*.py`` module and give the fixture::

       class TestAlpacaContract(AdapterContract):
           @pytest.fixture
           async def harness(self, tmp_path) -> AsyncIterator[ContractHarness]:
               async with alpaca_harness(tmp_path) as h:
                   yield h

The tests compare domain values (``OrderReport``, ``VenueOrderSnapshot``,
``PositionSnapshot``, ``BalanceSnapshot``, ``Fill``) with the harness's expectations, and
run two ambiguity scenarios through the real :class:`~livegate.execution.engine.ExecutionEngine`
(``resolve_ambiguous``): a timed-out submit that the venue did accept yields exactly one
order and no resend; one the venue never saw is never resent: it stays in flight, counted
against the caps, until ``[execution] ambiguous_timeout_secs`` raises ``ambiguous_unresolved``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

import pytest

from livegate.domain.clock import ReplayClock
from livegate.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from livegate.domain.errors import Ambiguous, Fatal, Rejected, Retryable, VenueError
from livegate.domain.ids import client_order_id, is_livegate_client_id
from livegate.domain.instruments import Instrument
from livegate.domain.orders import Fill, Order, OrderIntent, OrderReport
from livegate.domain.snapshots import BalanceSnapshot, PositionSnapshot, VenueOrderSnapshot
from livegate.execution.engine import ExecutionEngine
from livegate.ledger.store import Ledger
from livegate.marketdata.quote_cache import QuoteCache
from livegate.portfolio import Portfolio
from livegate.risk.gate import RiskContext
from livegate.risk.pipeline import RiskPipeline
from livegate.telemetry.writer import TelemetryWriter
from livegate.venues.base import Report, VenueAdapter


class ErrorKind(StrEnum):
    """The four translated error classes every adapter must produce (docs/architecture.md §6)."""

    REJECTED = "rejected"
    AMBIGUOUS = "ambiguous"
    RETRYABLE = "retryable"
    FATAL = "fatal"


ERROR_CLASSES: dict[ErrorKind, type[VenueError]] = {
    ErrorKind.REJECTED: Rejected,
    ErrorKind.AMBIGUOUS: Ambiguous,
    ErrorKind.RETRYABLE: Retryable,
    ErrorKind.FATAL: Fatal,
}


@dataclass(frozen=True, slots=True)
class ErrorCase:
    """One error scenario: how to provoke it and what must come out.

    Parameters
    ----------
    name:
        Test id, e.g. ``"insufficient_funds"`` or ``"http_503"``.
    kind:
        Translated class expected from :meth:`VenueAdapter.submit`.
    arrange:
        Reconfigure the loopback venue so that the next submit meets this condition.
    code:
        The venue's code the error must carry (``""``: do not check).
    """

    name: str
    kind: ErrorKind
    arrange: Callable[[], None]
    code: str = ""


NOT_APPLICABLE_KEYS = frozenset(
    {
        "submit",
        "cancel",
        "cancel_all",
        "fetch_order",
        "open_orders",
        "positions",
        "balances",
        "errors",
        "timeout_found",
        "timeout_resend",
        "auth_fatal",
    }
)


@dataclass(slots=True)
class ContractHarness:
    """A connected adapter on a loopback venue plus what the recordings say it must report.

    Parameters
    ----------
    adapter:
        Connected adapter (``connect()`` already awaited); the fixture closes it.
    symbol:
        Symbol the scenario trades, in the adapter's naming.
    order:
        The order to submit (state ``NEW``); its client order id is the one the venue
        recordings are replayed for.
    expected_submit:
        Report :meth:`VenueAdapter.submit` must return (``ts_ms`` is not compared).
    expected_fetch:
        Snapshot :meth:`VenueAdapter.fetch_order` must return for ``order``.
    expected_cancel:
        Report :meth:`VenueAdapter.cancel` must return for ``order``.
    expected_cancel_all:
        Client order ids (or venue order ids when the venue has no client id) the
        ``cancel_all(symbol)`` reports must name, in any order.
    expected_open_orders:
        Snapshots :meth:`VenueAdapter.open_orders` must return for ``symbol``.
    expected_positions, expected_balances:
        Snapshots that must be among ``positions()`` / ``balances()``.
    error_cases:
        Error scenarios for submit; at least one per :class:`ErrorKind`.
    arrange_submit_timeout:
        ``arrange_submit_timeout(venue_accepts)`` makes the next submit hang past the
        adapter's timeout; when ``venue_accepts`` the venue keeps the order (a later
        lookup by client order id finds it), else it never saw it.
    submit_request_count:
        Number of submit requests the loopback venue has received so far.
    replay_order_stream:
        Send the recorded private order/fill frames; None when the venue has none.
    expected_stream_reports:
        Reports the sink must receive after ``replay_order_stream`` (``ts_ms`` compared).
    instruments:
        Instruments for the engine scenarios (defaults to ``adapter.instruments()``).
    notes:
        Which expectations are recorded and which are derived, for the reader.
    not_applicable:
        Contract checks this venue cannot be held to, by key (``"submit"``, ``"cancel"``,
        ``"cancel_all"``, ``"fetch_order"``, ``"open_orders"``, ``"positions"``,
        ``"balances"``, ``"errors"``, ``"timeout_found"``, ``"timeout_resend"``,
        ``"auth_fatal"``), each with the reason (e.g. the recording that is missing).
        Those tests are skipped with that reason; the expectations they would read are
        then placeholders. Empty for a venue that passes the whole suite.
    """

    adapter: VenueAdapter
    symbol: str
    order: Order
    expected_submit: OrderReport
    expected_fetch: VenueOrderSnapshot
    expected_cancel: OrderReport
    expected_cancel_all: frozenset[str]
    expected_open_orders: list[VenueOrderSnapshot]
    expected_positions: list[PositionSnapshot]
    expected_balances: list[BalanceSnapshot]
    error_cases: list[ErrorCase]
    arrange_submit_timeout: Callable[[bool], None]
    submit_request_count: Callable[[], int]
    replay_order_stream: Callable[[], Awaitable[None]] | None = None
    expected_stream_reports: list[Report] = field(default_factory=list)
    instruments: dict[str, Instrument] | None = None
    notes: str = ""
    not_applicable: dict[str, str] = field(default_factory=dict)

    def require(self, check: str) -> None:
        """Skip the calling test with the documented reason when ``check`` is not applicable."""
        if check not in NOT_APPLICABLE_KEYS:
            raise ValueError(f"unknown contract check {check!r}")
        unknown = set(self.not_applicable) - NOT_APPLICABLE_KEYS
        if unknown:
            raise ValueError(f"unknown contract checks in not_applicable: {sorted(unknown)}")
        reason = self.not_applicable.get(check)
        if reason is not None:
            if not reason.strip():
                raise ValueError(f"{check}: a not-applicable check needs a reason")
            pytest.skip(f"n.a. for {self.adapter.name}: {reason}")


def make_order(
    symbol: str,
    side: Side,
    quantity: Decimal,
    price: Decimal | None,
    *,
    seq: int = 0,
    session_id: str = "0123456789",
    strategy: str = "contract",
    venue: str = "venue",
    ts_ms: int = 0,
) -> Order:
    """Build a ``NEW`` order with the deterministic client order id of (session, strategy, seq)."""
    intent = OrderIntent(
        symbol=symbol,
        side=side,
        quantity=quantity,
        order_type=OrderType.LIMIT if price is not None else OrderType.MARKET,
        price=price,
        time_in_force=TimeInForce.GTC,
        post_only=False,
        reduce_only=False,
        strategy_id=strategy,
        seq=seq,
        ts_ms=ts_ms,
    )
    return Order(client_order_id(session_id, strategy, seq), intent, venue)


def _without_ts(report: OrderReport) -> tuple[object, ...]:
    return (
        report.client_order_id,
        report.status,
        report.venue_order_id,
        report.filled_quantity,
        report.code,
    )


class CollectingSink:
    """A report sink that keeps every report and lets a test wait for a count."""

    def __init__(self) -> None:
        self.reports: list[Report] = []
        self._event = asyncio.Event()

    def __call__(self, report: Report) -> None:
        self.reports.append(report)
        self._event.set()

    async def wait_for(self, count: int, timeout_secs: float = 5.0) -> list[Report]:
        """Wait until at least ``count`` reports arrived; return them all."""
        async with asyncio.timeout(timeout_secs):
            while len(self.reports) < count:
                self._event.clear()
                await self._event.wait()
        return list(self.reports)


@dataclass(slots=True)
class EngineRig:
    """A real execution engine over one adapter, with no gates (everything is approved)."""

    engine: ExecutionEngine
    portfolio: Portfolio
    anomalies: list[tuple[str, str]]
    ledger: Ledger
    telemetry: TelemetryWriter
    clock: ReplayClock

    def close(self) -> None:
        """Close ledger and telemetry."""
        self.telemetry.close()
        self.ledger.close()


def build_engine(adapter: VenueAdapter, instruments: dict[str, Instrument], run_dir: Path) -> EngineRig:
    """Wire ``adapter`` into an :class:`ExecutionEngine` with an empty risk pipeline."""
    clock = ReplayClock(1_700_000_000_000)
    portfolio = Portfolio()
    ledger = Ledger.open(run_dir / "ledger.sqlite")
    telemetry = TelemetryWriter(run_dir / "telemetry.jsonl")
    ctx = RiskContext(instruments=instruments, quotes=QuoteCache(), portfolio=portfolio, clock=clock)
    engine = ExecutionEngine(
        pipeline=RiskPipeline([], ctx),
        ledger=ledger,
        telemetry=telemetry,
        portfolio=portfolio,
        venues={adapter.name: adapter},
        router=lambda _intent: adapter.name,
        clock=clock,
        session_id="0123456789",
        strategy_name="contract",
    )
    anomalies: list[tuple[str, str]] = []
    engine.add_anomaly_handler(lambda kind, detail: anomalies.append((kind, detail)))
    return EngineRig(engine, portfolio, anomalies, ledger, telemetry, clock)


class AdapterContract:
    """Contract tests every venue adapter passes; subclasses provide the ``harness`` fixture."""

    async def test_contract_submit_when_venue_accepts_then_report_matches_recording(
        self, harness: ContractHarness
    ) -> None:
        harness.require("submit")
        harness.adapter.bind(CollectingSink())
        report = await harness.adapter.submit(harness.order)
        assert _without_ts(report) == _without_ts(harness.expected_submit)
        assert harness.submit_request_count() == 1

    async def test_contract_cancel_when_order_open_then_cancelled(self, harness: ContractHarness) -> None:
        harness.require("cancel")
        report = await harness.adapter.cancel(harness.order.client_order_id, harness.symbol)
        assert report.status is OrderStatus.CANCELLED
        assert _without_ts(report) == _without_ts(harness.expected_cancel)

    async def test_contract_cancel_all_when_orders_open_then_each_reported_cancelled(
        self, harness: ContractHarness
    ) -> None:
        harness.require("cancel_all")
        reports = await harness.adapter.cancel_all(harness.symbol, everything=True)
        assert all(r.status is OrderStatus.CANCELLED for r in reports)
        named = {r.client_order_id or r.venue_order_id for r in reports}
        assert named == set(harness.expected_cancel_all)

    async def test_contract_cancel_all_when_open_orders_are_not_livegates_then_left_open(
        self, harness: ContractHarness
    ) -> None:
        # open orders whose client ids livegate did not make (the ccxt recordings') are left open by a halt's cancel-all
        harness.require("cancel_all")
        outside = {cid for cid in harness.expected_cancel_all if not is_livegate_client_id(cid)}
        reports = await harness.adapter.cancel_all(harness.symbol)
        assert {r.client_order_id or r.venue_order_id for r in reports} == set(harness.expected_cancel_all) - outside

    async def test_contract_fetch_order_when_known_then_snapshot_by_client_id(self, harness: ContractHarness) -> None:
        harness.require("fetch_order")
        snapshot = await harness.adapter.fetch_order(harness.order.client_order_id, harness.symbol)
        assert snapshot == harness.expected_fetch

    async def test_contract_open_orders_then_match_recording(self, harness: ContractHarness) -> None:
        harness.require("open_orders")
        orders = await harness.adapter.open_orders(harness.symbol)
        assert orders == harness.expected_open_orders

    async def test_contract_positions_then_match_recording(self, harness: ContractHarness) -> None:
        harness.require("positions")
        positions = await harness.adapter.positions()
        for expected in harness.expected_positions:
            assert expected in positions

    async def test_contract_balances_then_match_recording(self, harness: ContractHarness) -> None:
        harness.require("balances")
        balances = await harness.adapter.balances()
        for expected in harness.expected_balances:
            assert expected in balances

    async def test_contract_errors_when_venue_fails_then_translated_once(self, harness: ContractHarness) -> None:
        harness.require("errors")
        kinds = {case.kind for case in harness.error_cases}
        assert kinds == set(ErrorKind), f"harness must cover every error kind, has {sorted(kinds)}"
        harness.adapter.bind(CollectingSink())
        for case in harness.error_cases:
            case.arrange()
            with pytest.raises(VenueError) as info:
                await harness.adapter.submit(harness.order)
            assert type(info.value) is ERROR_CLASSES[case.kind], f"{case.name}: got {type(info.value).__name__}"
            assert info.value.__cause__ is not None, f"{case.name}: translate with `raise ... from`"
            if case.code:
                assert info.value.code == case.code, case.name

    async def test_contract_stream_when_venue_reports_then_sink_receives_domain_reports(
        self, harness: ContractHarness
    ) -> None:
        if harness.replay_order_stream is None:
            pytest.skip("no recorded private order stream for this venue")
        sink = CollectingSink()
        harness.adapter.bind(sink)
        await harness.replay_order_stream()
        reports = await sink.wait_for(len(harness.expected_stream_reports))
        # order and fill streams are separate subscriptions: compare each in venue order
        for kind in (OrderReport, Fill):
            got = [r for r in reports if isinstance(r, kind)]
            assert got == [r for r in harness.expected_stream_reports if isinstance(r, kind)], kind.__name__

    async def test_contract_submit_timeout_when_venue_has_order_then_exactly_one_order(
        self, harness: ContractHarness, tmp_path: Path
    ) -> None:
        harness.require("timeout_found")
        rig = build_engine(harness.adapter, harness.instruments or harness.adapter.instruments(), tmp_path)
        try:
            harness.arrange_submit_timeout(True)
            order = _approve(rig, harness)
            await rig.engine.dispatch()
            assert order.client_order_id in rig.engine.ambiguous_orders
            assert order.status is OrderStatus.SUBMITTED
            await rig.engine.resolve_ambiguous()
            assert rig.engine.ambiguous_orders == {}
            assert harness.submit_request_count() == 1, "found by client order id: no resend"
            assert len(list(rig.portfolio.all_orders())) == 1
            assert order.venue_order_id == harness.expected_fetch.venue_order_id
        finally:
            rig.close()

    async def test_contract_submit_timeout_when_lookup_finds_nothing_then_never_resent_and_stays_in_flight(
        self, harness: ContractHarness, tmp_path: Path
    ) -> None:
        harness.require("timeout_resend")
        rig = build_engine(harness.adapter, harness.instruments or harness.adapter.instruments(), tmp_path)
        try:
            harness.arrange_submit_timeout(False)
            order = _approve(rig, harness)
            await rig.engine.dispatch()
            assert order.client_order_id in rig.engine.ambiguous_orders
            for step_ms in (0, 2_000, 10_000, 61_000):
                rig.clock.advance_to(1_700_000_000_000 + step_ms)
                await rig.engine.resolve_ambiguous()
            assert harness.submit_request_count() == 1, "a lookup that finds nothing is not truth: no resend"
            assert order.client_order_id in rig.engine.ambiguous_orders
            assert order.status is OrderStatus.SUBMITTED
            assert order in rig.portfolio.working_orders(), "in flight: counted against the caps"
            kinds = [k for k, _ in rig.anomalies]
            assert kinds == ["ambiguous_submit", "ambiguous_unresolved"]
        finally:
            rig.close()

    async def test_contract_submit_when_auth_fails_then_engine_reports_fatal(
        self, harness: ContractHarness, tmp_path: Path
    ) -> None:
        harness.require("auth_fatal")
        fatal = next(c for c in harness.error_cases if c.kind is ErrorKind.FATAL)
        rig = build_engine(harness.adapter, harness.instruments or harness.adapter.instruments(), tmp_path)
        try:
            fatal.arrange()
            _approve(rig, harness)
            await rig.engine.dispatch()
            assert [k for k, _ in rig.anomalies] == ["venue_fatal"]
        finally:
            rig.close()


def _approve(rig: EngineRig, harness: ContractHarness) -> Order:
    """Run the harness order's intent through the engine (sequence 0 keeps its client id)."""
    intent = harness.order.intent
    decision = rig.engine.submit_intent(intent)
    assert decision.approved, decision
    assert decision.client_order_id == harness.order.client_order_id
    order = rig.portfolio.order(decision.client_order_id)
    assert order is not None
    return order


__all__ = [
    "ERROR_CLASSES",
    "NOT_APPLICABLE_KEYS",
    "AdapterContract",
    "CollectingSink",
    "ContractHarness",
    "EngineRig",
    "ErrorCase",
    "ErrorKind",
    "Fill",
    "build_engine",
    "make_order",
]
