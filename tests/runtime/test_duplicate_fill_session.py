"""A venue that reports every fill twice: the session counts each trade once (issue 9 item 7).

The whole live session runs (composition, reconciliation, engine) against the fake venue;
only the venue's report stream is doubled, as a stream replay plus a REST lookup would.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from livegate.domain.orders import Fill
from livegate.venues.base import Report, ReportSink
from livegate.venues.fake import FakeVenue
from tests.modes.live_helpers import FakeFactory
from tests.runtime.helpers import ledger_events
from tests.runtime.test_live_session_reconcile import RECONCILE_EVERY_SECOND, run_live

#: The taker example trades on order-flow imbalance, so the short stream has fills.
TAKER_PROFILE = RECONCILE_EVERY_SECOND.replace(
    'spec = "livegate.strategy.examples.market_maker:MarketMaker"', 'spec = "livegate.strategy.examples.taker:Taker"'
).replace("requote_interval_ms = 0\n", "cooldown_ms = 200\nthreshold = 0.2\n")


class DuplicatingFillsVenue(FakeVenue):
    """The fake venue, except that every fill report reaches the engine twice."""

    delivered = 0

    def bind(self, sink: ReportSink) -> None:
        def twice(report: Report) -> None:
            sink(report)
            if isinstance(report, Fill):
                self.delivered += 1
                sink(report)

        super().bind(twice)


def test_live_session_when_venue_reports_each_fill_twice_then_position_matches_venue(tmp_path: Path) -> None:
    factory = FakeFactory(venue_class=DuplicatingFillsVenue)
    assert "Taker" in TAKER_PROFILE
    result = run_live(tmp_path, factory, profile_text=TAKER_PROFILE)
    (venue,) = factory.built
    assert isinstance(venue, DuplicatingFillsVenue) and venue.delivered > 0
    fills = [p for kind, p in ledger_events(result.run_dir) if kind == "fill"]
    assert len(fills) == venue.delivered == result.summary["fills"]
    assert len({(p["client_order_id"], p["fill_id"]) for p in fills}) == len(fills)
    at_venue = {p.symbol: p.quantity for p in asyncio.run(venue.positions())}
    ours = {s: Decimal(p["quantity"]) for s, p in result.summary["positions"].items()}
    assert ours.get("BTCUSDT", Decimal(0)) == at_venue.get("BTCUSDT", Decimal(0))
    assert not [a for a in result.anomalies if a["kind"] in ("invariant_violation", "reconcile_drift")]
