"""A venue-stream session reconciles before trading, periodically, and after stream interruptions."""

from __future__ import annotations

from pathlib import Path

import pytest

from livegate.domain.enums import Mode
from livegate.reconcile.result import ReconcileIncomplete
from livegate.runtime.live_session import LiveOptions
from livegate.runtime.session import RunOptions, SessionResult
from livegate.runtime.start import start
from livegate.venues.fake_faults import FakeFaults
from tests.modes.live_helpers import PROFILE, FakeFactory, armed_setup
from tests.runtime.helpers import SteppingClock, UnreachableReadsVenue, ledger_events

RECONCILE_EVERY_SECOND = PROFILE + "\n[reconcile]\ninterval_secs = 0.25\n"  # of stepping-clock time


def run_live(tmp_path: Path, factory: FakeFactory, *, profile_text: str = PROFILE) -> SessionResult:
    setup = armed_setup(tmp_path, mode=Mode.LIVE, profile_text=profile_text, factory=factory)
    options = RunOptions(mode="live", profile=str(setup.profile), out=tmp_path / "run")
    return start(options, LiveOptions(enable_live=True), setup.env, clock=SteppingClock(), factories=factory.factories)


def reconciles(events: list[tuple[str, dict[str, object]]], trigger: str) -> list[int]:
    return [i for i, (kind, p) in enumerate(events) if kind == "reconciled" and p["trigger"] == trigger]


def test_live_session_when_started_then_venue_reconciled_before_first_intent(tmp_path: Path) -> None:
    result = run_live(tmp_path, FakeFactory())
    assert result.exit_code == 0, result.anomalies
    events = ledger_events(result.run_dir)
    first_intent = next(i for i, (kind, _) in enumerate(events) if kind == "intent")
    (startup,) = reconciles(events, "startup")
    assert startup < first_intent
    assert events[startup][1]["venue"] == "fake:demo" and events[startup][1]["clean"] is True
    assert (result.run_dir / "reconcile_drift.jsonl").exists()


def test_live_session_when_interval_passes_then_reconciled_periodically_and_clean(tmp_path: Path) -> None:
    result = run_live(tmp_path, FakeFactory(), profile_text=RECONCILE_EVERY_SECOND)
    assert result.exit_code == 0, result.anomalies
    events = ledger_events(result.run_dir)
    periodic = reconciles(events, "periodic")
    assert len(periodic) >= 2
    assert all(events[i][1]["clean"] for i in periodic)


def test_live_session_when_venue_reads_fail_at_startup_then_refused_before_trading(tmp_path: Path) -> None:
    factory = FakeFactory(venue_class=UnreachableReadsVenue)
    with pytest.raises(ReconcileIncomplete, match="did not answer"):
        run_live(tmp_path, factory)
    (venue,) = factory.built
    assert venue.submitted == []
    kinds = [kind for kind, _ in ledger_events(tmp_path / "run")]
    assert "intent" not in kinds


def test_live_session_when_stream_reconnects_then_reconciled_before_trading_on(tmp_path: Path) -> None:
    factory = FakeFactory(faults=FakeFaults(interruptions={300: "reconnect"}))
    result = run_live(tmp_path, factory)
    assert result.exit_code == 0, result.anomalies
    events = ledger_events(result.run_dir)
    (after_reconnect,) = reconciles(events, "reconnect")
    assert events[after_reconnect][1]["clean"] is True
    later = [p for kind, p in events[after_reconnect:] if kind == "decision"]
    assert any(p["approved"] for p in later)
    telemetry = (result.run_dir / "telemetry.jsonl").read_text(encoding="utf-8")
    assert '"anomaly_kind": "stream_interrupted"' in telemetry or '"anomaly_kind":"stream_interrupted"' in telemetry


def test_live_session_when_reconcile_after_gap_fails_then_orders_denied_reconciling_until_it_succeeds(
    tmp_path: Path,
) -> None:
    factory = FakeFactory(faults=FakeFaults(interruptions={300: "sequence gap"}, failing_reads=1))
    result = run_live(tmp_path, factory, profile_text=RECONCILE_EVERY_SECOND)
    events = ledger_events(result.run_dir)
    failed = next(i for i, (kind, p) in enumerate(events) if kind == "anomaly" and p["kind"] == "reconcile_incomplete")
    assert "reconnect" in str(events[failed][1]["detail"])
    (succeeded,) = reconciles(events, "reconnect")
    assert succeeded > failed
    blocked = [p for kind, p in events[failed:succeeded] if kind == "decision"]
    assert blocked, "the strategy kept asking while the venue was being reconciled"
    assert all(p["code"] == "RECONCILING" for p in blocked)
    assert all(kind != "submit_requested" for kind, _ in events[failed:succeeded])
    assert any(p["approved"] for kind, p in events[succeeded:] if kind == "decision")
    assert result.summary["denied"]["RECONCILING"] == len(blocked)
    assert result.exit_code == 3  # the failed reconciliation is an anomaly
