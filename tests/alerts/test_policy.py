from __future__ import annotations

from livegate.alerts.model import Alert, AlertSeverity
from livegate.alerts.policy import AlertPolicy, Verdict

T0 = 1_700_000_000_000


def alert(key: str = "state.halted", body: str = "HALTED by env") -> Alert:
    return Alert(key, AlertSeverity.CRIT, "title", body)


def test_policy_when_same_key_inside_throttle_window_then_throttled_and_counted_into_next_send() -> None:
    policy = AlertPolicy(throttle_secs=60, dedup_secs=0)
    assert policy.admit(alert(), T0).verdict is Verdict.SEND
    for i in range(1, 5):
        assert policy.admit(alert(body=f"n={i}"), T0 + i * 1000).verdict is Verdict.THROTTLED
    later = policy.admit(alert(body="later"), T0 + 60_000)
    assert later.verdict is Verdict.SEND
    assert later.suppressed == 4


def test_policy_when_keys_differ_then_each_key_has_its_own_window() -> None:
    policy = AlertPolicy(throttle_secs=60, dedup_secs=3600)
    assert policy.admit(alert("state.halted"), T0).verdict is Verdict.SEND
    assert policy.admit(alert("anomaly.venue_fatal"), T0).verdict is Verdict.SEND
    assert policy.admit(alert("state.halted", "other"), T0 + 1).verdict is Verdict.THROTTLED


def test_policy_when_identical_alert_after_throttle_inside_dedup_window_then_duplicate() -> None:
    policy = AlertPolicy(throttle_secs=60, dedup_secs=3600)
    assert policy.admit(alert(), T0).verdict is Verdict.SEND
    assert policy.admit(alert(), T0 + 120_000).verdict is Verdict.DUPLICATE
    assert policy.admit(alert(body="changed"), T0 + 120_000).verdict is Verdict.SEND
    assert policy.admit(alert(), T0 + 3_600_001).verdict is Verdict.SEND


def test_policy_when_windows_are_zero_then_everything_is_sent() -> None:
    policy = AlertPolicy(throttle_secs=0, dedup_secs=0)
    assert [policy.admit(alert(), T0).verdict for _ in range(3)] == [Verdict.SEND] * 3
