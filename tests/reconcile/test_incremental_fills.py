"""Periodic fill reconciliation reads only what is new and finds what a full comparison finds (issue 14 item 1)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from livegate.config.reconcile_models import ReconcileConfig
from livegate.domain.clock import ReplayClock
from livegate.domain.enums import Liquidity, Side
from livegate.domain.orders import Fill
from livegate.domain.snapshots import BalanceSnapshot, PositionSnapshot, VenueOrderSnapshot
from livegate.portfolio import Portfolio
from livegate.reconcile.compare import InternalView, Tolerances, VenueView, compare
from livegate.reconcile.drift import DriftKind
from livegate.reconcile.fills import FillMatcher
from livegate.reconcile.reconciler import Reconciler
from livegate.venues.base import VenueCapabilities

VENUE = "paper"


def fill(fill_id: str, ts_ms: int = 1) -> Fill:
    return Fill(f"c-{fill_id}", fill_id, "BTCUSDT", Side.BUY, Decimal(100), Decimal(1), Decimal(0), Liquidity.TAKER,
                ts_ms, VENUE)  # fmt: skip


def full_fill_drift(venue_fills: list[Fill], ledger_ids: set[str]) -> list[tuple[str, str, str]]:
    """The comparison of the two complete sets, as the reconciler made it before issue 14."""
    records = compare(
        InternalView(working={}, positions={}, fill_ids=ledger_ids),
        VenueView(venue=VENUE, open_orders=[], positions=[], fills=venue_fills),
        Tolerances(),
        trigger="periodic",
        ts_ms=0,
    )
    return [(r.kind.value, r.client_order_id, r.venue_value) for r in records]


steps = st.lists(st.tuples(st.sampled_from(["venue", "ledger"]), st.lists(st.integers(0, 12), max_size=4)), max_size=12)


@settings(max_examples=300, deadline=None)
@given(steps)
def test_fill_matcher_when_fed_new_fills_then_drift_equals_the_full_comparison(
    batches: list[tuple[str, list[int]]],
) -> None:
    matcher = FillMatcher()
    venue_fills: list[Fill] = []
    ledger_ids: set[str] = set()
    for side, ids in batches:
        names = [f"t{i}" for i in ids]
        if side == "venue":
            new = [fill(n) for n in names]
            matcher.add_venue(new)
            seen = {f.fill_id for f in venue_fills}
            for f in new:
                if f.fill_id not in seen:
                    venue_fills.append(f)
                    seen.add(f.fill_id)
        else:
            matcher.add_ledger(names)
            ledger_ids.update(names)
        got = [(r.kind.value, r.client_order_id, r.venue_value) for r in matcher.drift(VENUE, "periodic", 0)]
        assert got == full_fill_drift(venue_fills, ledger_ids)


class JournalVenue:
    """A venue numbering its fills; records every cursor it was asked from."""

    name = VENUE
    capabilities = VenueCapabilities(positions=True, simulated=True)

    def __init__(self) -> None:
        self.fills: list[Fill] = []
        self.asked: list[int] = []
        self.handed_out = 0

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrderSnapshot]:
        return []

    async def positions(self) -> list[PositionSnapshot]:
        return []

    async def balances(self) -> list[BalanceSnapshot]:
        return []

    async def fills_after(self, cursor: int) -> tuple[list[Fill], int]:
        self.asked.append(cursor)
        new = self.fills[cursor:]
        self.handed_out += len(new)
        return new, len(self.fills)


class FakeLedgerFills:
    def __init__(self) -> None:
        self.ids: list[str] = []
        self.read = 0

    def new_ids(self, venue: str) -> list[str]:
        new, self.read = self.ids[self.read :], len(self.ids)
        return new


def reconciler(venue: JournalVenue, ledger: FakeLedgerFills) -> Reconciler:
    return Reconciler(
        venue=venue,  # type: ignore[arg-type]
        portfolio=Portfolio(),
        config=ReconcileConfig(),
        clock=ReplayClock(1_000),
        currency_of={"BTCUSDT": "USDT"},
        ledger_fills=ledger,
    )


async def test_reconciler_when_passes_repeat_then_each_reads_only_fills_since_the_last() -> None:
    venue, ledger = JournalVenue(), FakeLedgerFills()
    rec = reconciler(venue, ledger)
    for k in range(5):
        venue.fills += [fill(f"t{k}-{i}") for i in range(100)]
        ledger.ids += [f"t{k}-{i}" for i in range(100)]
        result = await rec.reconcile("periodic")
        assert result.clean
    assert venue.asked == [0, 100, 200, 300, 400]
    assert venue.handed_out == 500


async def test_reconciler_when_a_fill_is_missing_on_either_side_then_it_stays_drift_until_matched() -> None:
    venue, ledger = JournalVenue(), FakeLedgerFills()
    rec = reconciler(venue, ledger)
    venue.fills += [fill("a"), fill("b")]
    ledger.ids += ["a", "z"]
    first = await rec.reconcile("startup")
    kinds = sorted((r.kind, r.venue_value or r.internal_value) for r in first.beyond_tolerance)
    assert kinds == [(DriftKind.MISSING_INTERNAL, "b buy 1@100"), (DriftKind.MISSING_VENUE, "z")]
    second = await rec.reconcile("startup")  # nothing new: the same two differences, from memory
    assert len(second.beyond_tolerance) == 2
    venue.fills.append(fill("z"))
    ledger.ids.append("b")
    third = await rec.reconcile("startup")
    assert third.clean
    assert venue.asked == [0, 2, 2]
