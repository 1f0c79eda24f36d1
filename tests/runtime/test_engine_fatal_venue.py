"""A venue that answers Fatal gets nothing more; after a halt nothing in flight is resent."""

from __future__ import annotations

from pathlib import Path

import pytest

from livegate.domain.enums import OrderStatus
from livegate.domain.errors import Fatal
from livegate.domain.orders import Order, OrderReport
from tests.execution.test_engine_ambiguous_submit import ScriptedVenue, _engine, _intent


class RefusingKeysVenue(ScriptedVenue):
    """A venue that refuses the API key on every submit (an exchange's authentication error)."""

    async def submit(self, order: Order) -> OrderReport:
        self.submits.append(order.client_order_id)
        raise Fatal("scripted: authentication failed: invalid API key", "AUTH")


@pytest.mark.asyncio
async def test_engine_when_venue_answers_fatal_then_later_orders_rejected_unsent(tmp_path: Path) -> None:
    venue = RefusingKeysVenue("lost")
    engine, portfolio, anomalies = _engine(tmp_path, venue)
    first, second = engine.submit_intent(_intent(engine)), engine.submit_intent(_intent(engine))
    await engine.dispatch()
    assert venue.submits == [first.client_order_id]
    assert anomalies == [("venue_fatal", "scripted: authentication failed: invalid API key")]
    unsent = portfolio.order(second.client_order_id)
    assert unsent is not None and unsent.status is OrderStatus.REJECTED
    refused = portfolio.order(first.client_order_id)
    assert refused is not None and refused.status is OrderStatus.REJECTED, "an auth error is a definite refusal"
    assert first.client_order_id not in engine.ambiguous_orders


@pytest.mark.asyncio
async def test_engine_when_halted_then_order_of_unknown_outcome_stays_in_flight_not_resent(tmp_path: Path) -> None:
    venue = ScriptedVenue("lost")  # submit times out; the venue never saw it
    engine, portfolio, anomalies = _engine(tmp_path, venue)
    decision = engine.submit_intent(_intent(engine))
    await engine.dispatch()
    await engine.halt_all_venues("kill: test")
    await engine.resolve_ambiguous()
    assert venue.submits == [decision.client_order_id]  # no resend
    order = portfolio.order(decision.client_order_id)
    # a lookup that finds nothing is not venue truth (read lag): in flight until one shows it
    assert order is not None and order.status is OrderStatus.SUBMITTED
    assert decision.client_order_id in engine.ambiguous_orders
    assert [kind for kind, _ in anomalies] == ["ambiguous_submit"]
