"""A resume carries the reject and venue-error windows over, not the run's lifetime counts (``[kill]``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from livegate.domain.enums import TradingState
from livegate.ledger import events as ev
from livegate.ledger.fold_rules import EngineStats
from tests.risk.helpers import T0
from tests.risk.test_risk_halt_cancel import _session

WINDOW_MS = 60_000  # [kill] reject_window_secs, default


def _resumed(tmp_path: Path, reject_times_ms: list[int], lifetime: int) -> tuple[object, object]:
    """A session that adopts a crashed run's counters: ``lifetime`` rejects, these ones in its ledger."""
    risk, engine, _ = _session(tmp_path, [])
    for i, ts in enumerate(reject_times_ms):
        payload = {"client_order_id": f"c{i}", "status": "rejected", "reason": "post-only would cross"}
        risk._ledger.append(ev.ORDER_REPORT, ts, payload)
        risk._ledger.append(ev.ORDER_REPORT, ts + 1, payload)  # a repeated report of the same rejection
    engine.stats = EngineStats(rejected=lifetime, fills=4)  # what the crashed run's fold gives back
    risk.adopt(engine)
    return risk, engine


def test_resume_when_lifetime_rejects_exceed_the_cap_but_none_is_recent_then_active(tmp_path: Path) -> None:
    risk, engine = _resumed(tmp_path, [T0 - 5 * WINDOW_MS + i * 1_000 for i in range(20)], lifetime=20)
    asyncio.run(risk.service(engine))  # type: ignore[attr-defined]
    engine.stats.rejected += 1  # type: ignore[attr-defined]  # one new reject after the resume
    asyncio.run(risk.service(engine))  # type: ignore[attr-defined]
    assert risk.kill.state is TradingState.ACTIVE  # type: ignore[attr-defined]


def test_resume_when_a_storm_was_under_way_then_its_rejects_still_count(tmp_path: Path) -> None:
    recent = [T0 - 30_000 + i * 1_000 for i in range(9)]  # 9 within the last 60 s (each reported twice)
    risk, engine = _resumed(tmp_path, recent, lifetime=30)
    asyncio.run(risk.service(engine))  # type: ignore[attr-defined]
    assert risk.kill.state is TradingState.ACTIVE  # type: ignore[attr-defined]
    engine.stats.rejected += 1  # type: ignore[attr-defined]  # the tenth within the window
    asyncio.run(risk.service(engine))  # type: ignore[attr-defined]
    assert risk.kill.state is TradingState.HALTED  # type: ignore[attr-defined]
    assert "reject_storm: 10 in 60 s" in risk.kill.record.reason  # type: ignore[attr-defined]


def test_resume_when_a_rejection_was_reported_twice_then_it_counts_once(tmp_path: Path) -> None:
    recent = [T0 - 30_000 + i * 1_000 for i in range(5)]  # 5 rejected orders, 10 reports
    risk, engine = _resumed(tmp_path, recent, lifetime=5)
    engine.stats.rejected += 4  # type: ignore[attr-defined]  # 9 in the window: one short of the storm
    asyncio.run(risk.service(engine))  # type: ignore[attr-defined]
    assert risk.kill.state is TradingState.ACTIVE  # type: ignore[attr-defined]


def test_resume_when_venue_errors_were_piling_up_then_they_still_count(tmp_path: Path) -> None:
    risk, engine = _resumed(tmp_path, [], lifetime=0)
    ledger = risk._ledger  # type: ignore[attr-defined]
    old = {"kind": "cancel_failed", "detail": "ccxt:binance: 503"}
    for i in range(10):  # long ago: outside the 60 s window
        ledger.append(ev.ANOMALY, T0 - 10 * WINDOW_MS + i, old)
    for i in range(4):  # within the window: one short of [kill] max_venue_errors (5)
        ledger.append(ev.ANOMALY, T0 - 20_000 + i, {"kind": "lookup_failed", "detail": "ccxt:binance: timeout"})
    ledger.append(ev.ANOMALY, T0 - 10_000, {"kind": "storage_failed", "detail": "not a venue error"})
    risk.adopt(engine)  # type: ignore[attr-defined]
    risk.on_anomaly("ambiguous_submit", "ccxt:binance: timeout after accept")  # type: ignore[attr-defined]
    assert risk.kill.state is TradingState.HALTED  # type: ignore[attr-defined]
    assert "venue_errors: 5 in 60 s" in risk.kill.record.reason  # type: ignore[attr-defined]
