"""A stopping session stops waiting for the venue calls of orders already finished, and only those."""

from __future__ import annotations

import asyncio

from livegate.execution.calls import VenueCalls


async def test_venue_calls_when_abandoned_then_only_the_finished_orders_calls_are_cancelled() -> None:
    done: list[str] = []
    calls = VenueCalls(None, lambda kind, detail: None, done.append)
    hung, pending = asyncio.Event(), asyncio.Event()
    calls.spawn("finished-at-venue", hung.wait())  # a submit whose answer never comes
    calls.spawn("still-working", pending.wait())
    await asyncio.sleep(0)

    abandoned = await calls.abandon(lambda cid: cid == "finished-at-venue")

    assert abandoned == ["finished-at-venue"]
    assert calls.busy == {"still-working"} and len(calls) == 1
    assert done == ["finished-at-venue"]  # the engine re-queues what waited for that order's submit
    pending.set()
    await calls.settle()
    assert calls.busy == set() and len(calls) == 0 and done == ["finished-at-venue", "still-working"]
