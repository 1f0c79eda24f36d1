"""AlertDispatcher: routing by severity, throttling, de-duplication, the bounded queue, failures, health."""

from __future__ import annotations

import threading

from livegate.alerts.catalog import state_changed_alert
from livegate.alerts.dispatcher import AlertDispatcher, AlertStats, Outcome
from livegate.alerts.model import Alert, AlertSeverity
from livegate.alerts.policy import Verdict
from livegate.domain.alerts import AlertHealth
from livegate.domain.enums import TradingState
from tests.alerts.fakes import BlockingDestination, FakeClock, FakeDestination, ScriptedDestination


def make(routes: dict[AlertSeverity, list[object]], **kw: object) -> tuple[AlertDispatcher, FakeClock]:
    clock = FakeClock()
    return AlertDispatcher(routes, clock, **kw), clock  # type: ignore[arg-type]


def info(key: str = "session.started", body: str = "b") -> Alert:
    return Alert(key, AlertSeverity.INFO, "t", body)


def test_dispatcher_when_routed_by_severity_then_each_alert_reaches_only_its_destinations() -> None:
    everyone, pager = FakeDestination("ntfy"), FakeDestination("slack")
    d, _ = make({AlertSeverity.INFO: [everyone], AlertSeverity.WARN: [everyone], AlertSeverity.CRIT: [everyone, pager]})
    d.emit(info())
    d.emit(state_changed_alert(TradingState.HALTED, TradingState.ACTIVE, "KILL file", "kill_file"))
    stats = d.close(drain_secs=10)
    assert [a.key for a in everyone.got] == ["session.started", "state.halted"]
    assert [a.key for a in pager.got] == ["state.halted"]
    assert stats.health == AlertHealth(sent_total=3, failed_total=0, dropped_total=0, last_error=None, failing=False)


def test_dispatcher_when_severity_has_no_destination_then_alert_is_not_queued() -> None:
    pager = FakeDestination("slack")
    d, _ = make({AlertSeverity.CRIT: [pager]})
    assert d.emit(info()) == Outcome.NO_DESTINATION
    d.close(drain_secs=10)
    assert pager.got == []


def test_dispatcher_when_n_identical_alerts_then_one_delivered_and_the_rest_counted_throttled() -> None:
    dest = FakeDestination("ntfy")
    d, clock = make({AlertSeverity.INFO: [dest]}, throttle_secs=60, dedup_secs=0)
    outcomes = [d.emit(info()) for _ in range(10)]
    assert outcomes == [Outcome.QUEUED] + [Verdict.THROTTLED] * 9
    clock.advance_secs(61)
    d.emit(info(body="after the window"))
    stats = d.close(drain_secs=10)
    assert len(dest.got) == 2
    assert dest.got[1].body.endswith("(9 more 'session.started' alert(s) throttled)")
    assert (stats.emitted_total, stats.throttled_total, stats.health.sent_total) == (11, 9, 2)


def test_dispatcher_when_identical_alert_repeats_after_throttle_window_then_deduplicated() -> None:
    dest = FakeDestination("ntfy")
    d, clock = make({AlertSeverity.INFO: [dest]}, throttle_secs=60, dedup_secs=3600)
    d.emit(info())
    clock.advance_secs(120)
    assert d.emit(info()) == Verdict.DUPLICATE
    stats = d.close(drain_secs=10)
    assert len(dest.got) == 1 and stats.duplicate_total == 1


def test_dispatcher_when_a_destination_fails_then_counted_failing_and_others_still_delivered() -> None:
    dead = FakeDestination("ntfy://127.0.0.1:9/***", error="ntfy://127.0.0.1:9/***: connection refused")
    good = FakeDestination("slack://***")
    seen: list[tuple[AlertSeverity, bool]] = []
    d, _ = make({AlertSeverity.INFO: [dead, good]}, on_delivery=lambda s, ok: seen.append((s, ok)))
    d.emit(info())
    stats = d.close(drain_secs=10)
    assert stats.health == AlertHealth(
        sent_total=1,
        failed_total=1,
        dropped_total=0,
        last_error="ntfy://127.0.0.1:9/***: connection refused",
        failing=True,
    )
    assert [(x.name, x.failing) for x in stats.destinations] == [
        ("ntfy://127.0.0.1:9/***", True),
        ("slack://***", False),
    ]
    assert seen == [(AlertSeverity.INFO, False), (AlertSeverity.INFO, True)]


def test_dispatcher_when_failing_destination_recovers_then_not_failing_but_failures_stay_counted() -> None:
    flaky = ScriptedDestination("ntfy", ["down", None])
    d, _ = make({AlertSeverity.INFO: [flaky]}, throttle_secs=0, dedup_secs=0)
    d.emit(info(body="1"))
    d.emit(info(body="2"))
    health = d.close(drain_secs=10).health
    assert health == AlertHealth(sent_total=1, failed_total=1, dropped_total=0, last_error="down", failing=False)


def test_dispatcher_when_delivery_is_stuck_then_emit_returns_and_a_full_queue_drops_and_counts() -> None:
    stuck = BlockingDestination("slow")
    d, _ = make({AlertSeverity.INFO: [stuck]}, throttle_secs=0, dedup_secs=0, queue_size=2)
    assert d.emit(info(body="0")) == Outcome.QUEUED
    assert stuck.entered.wait(10)  # the delivery thread is inside deliver() and stays there
    outcomes = [d.emit(info(body=str(i))) for i in range(1, 6)]
    assert not stuck.release.is_set()  # every emit above returned while the delivery was stuck
    assert outcomes == [Outcome.QUEUED, Outcome.QUEUED, Outcome.DROPPED, Outcome.DROPPED, Outcome.DROPPED]
    assert d.health().dropped_total == 3
    stuck.release.set()
    stats = d.close(drain_secs=10)
    assert [a.body for a in stuck.got] == ["0", "1", "2"]
    assert (stats.health.sent_total, stats.health.dropped_total) == (3, 3)


def test_dispatcher_when_drain_time_runs_out_then_queued_alerts_are_dropped_and_counted() -> None:
    stuck = BlockingDestination("slow")
    d, _ = make({AlertSeverity.INFO: [stuck]}, throttle_secs=0, dedup_secs=0, queue_size=10)
    d.emit(info(body="0"))
    assert stuck.entered.wait(10)
    d.emit(info(body="1"))
    d.emit(info(body="2"))
    stats = d.close(drain_secs=0.2)
    stuck.release.set()
    assert (stats.health.dropped_total, stats.health.sent_total) == (3, 0)  # the one in flight counts as dropped
    assert d.emit(info(body="3")) == Outcome.NO_DESTINATION  # closed


def test_dispatcher_when_on_change_given_then_told_after_each_delivery_and_at_close() -> None:
    dest = FakeDestination("ntfy")
    changes: list[AlertStats] = []
    lock = threading.Lock()

    def on_change(stats: AlertStats) -> None:
        with lock:
            changes.append(stats)

    d, _ = make({AlertSeverity.INFO: [dest]}, on_change=on_change, throttle_secs=0, dedup_secs=0)
    d.emit(info(body="1"))
    d.emit(info(body="2"))
    d.close(drain_secs=10)
    assert [c.health.sent_total for c in changes] == [1, 2, 2]
