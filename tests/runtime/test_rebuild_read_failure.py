"""A session that cannot read a retired order back from its ledger stops trading (issue 14 item 2, fail closed).

The session's report reader lets a finished order go from its fold
:data:`~livegate.ledger.fold_retire.RETIRE_AFTER_EVENTS` events after it finished, and the
engine's book lets it go with it (:mod:`livegate.ledger.fold_retire`). An event naming it
later rebuilds it from the ledger rows between two seqs (``Ledger.rows_between``). Here that
read fails (SQLite answers ``database disk image is malformed``): the whole live session
runs against the fake venue, whose private stream sends the order's final report again
from a task of its own (as ccxt's order stream does). The session must halt, say which
order and which seqs it could not read, place no order after it and exit 3; its ledger
stays whole and says what the venue did.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Collection, Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest

from livegate.domain.errors import DataError, LedgerError
from livegate.domain.orders import Fill, OrderReport
from livegate.execution.engine import ExecutionEngine
from livegate.ledger import Ledger
from livegate.ledger.fold import fold_events
from livegate.ledger.verify import verify_ledger
from livegate.ops import rollup_read
from livegate.runtime.live_session import LiveOptions
from livegate.runtime.session import RunOptions, SessionResult
from livegate.runtime.start import start
from livegate.venues.base import MarketDataEvent, ReportSink
from livegate.venues.fake import FakeVenue
from livegate.venues.fake_faults import FakeFaults
from tests.modes.live_helpers import PROFILE, FakeFactory, armed_setup
from tests.runtime.test_live_session_reconcile import run_live

STRATEGY = f"{Path(__file__).with_name('retire_probe_strategy.py')}:RetireProbe"
PROBE_PROFILE = PROFILE.replace('"livegate.strategy.examples.market_maker:MarketMaker"', f'"{STRATEGY}"').replace(
    'requote_interval_ms = 0\nquantity = "0.002"\n',
    'quantity = "0.002"\noffset = "200"\noversize = "1"\npad = 500\nafter = 540\nper_quote = 50\n',
)
#: Stream positions: a reconnect (reconciliation: the reader and the engine let the first buy go),
#: the venue's repeat of its final report, a reconnect again (the reader reads the repeat).
RETIRED_AT, RESENT_AT, READ_AT = 200, 300, 400


class RepeatingVenue(FakeVenue):
    """The fake venue listing its fills; its private stream sends the first cancel's report again, from a task."""

    #: Stream position before which the report is sent again (None: when the test says, :meth:`resend_now`).
    resend_at: int | None = RESENT_AT
    #: The market stream goes silent once the report was sent again.
    silent_after_resend = False

    def bind(self, sink: ReportSink) -> None:
        self.sink = sink
        self.first_cancel: OrderReport | None = None
        self.resent: asyncio.Future[None] | None = None
        super().bind(sink)

    async def recent_fills(self, since_ms: int | None = None) -> list[Fill]:
        """List the account's fills, as every real venue adapter does (reconciliation reads them)."""
        return await self._paper.recent_fills(since_ms)

    async def cancel(self, client_order_id: str, symbol: str) -> OrderReport:
        report = await super().cancel(client_order_id, symbol)
        if self.first_cancel is None:
            self.first_cancel = report
        return report

    async def stream_market_data(self, symbols: Sequence[str]) -> AsyncIterator[MarketDataEvent]:
        yielded = 0
        async for event in super().stream_market_data(symbols):
            if yielded == self.resend_at:
                self.resend_now()
            if self.resent is not None and self.silent_after_resend:
                await asyncio.Event().wait()  # connected, silent: only the timer runs until the session stops
            yielded += 1
            yield event

    def resend_now(self) -> None:
        """Send the first cancelled order's report again now, from a task (once)."""
        if self.resent is None and self.first_cancel is not None:
            self.resent = asyncio.ensure_future(self._resend(self.first_cancel))

    async def _resend(self, report: OrderReport) -> None:
        self.sink(report)

    async def close(self) -> None:
        if self.resent is not None:
            await asyncio.gather(self.resent, return_exceptions=True)  # what a stream task raised goes nowhere
        await super().close()


def _failing_reads(monkeypatch: pytest.MonkeyPatch, failing: Collection[int]) -> list[tuple[int, int]]:
    """Make the ``failing`` calls (1-based) of ``Ledger.rows_between`` fail as SQLite does on a damaged page."""
    calls: list[tuple[int, int]] = []
    real = Ledger.rows_between

    def rows_between(self: Ledger, first_seq: int, last_seq: int) -> list[tuple[int, int, str, str, str, str]]:
        calls.append((first_seq, last_seq))
        if len(calls) not in failing:
            return real(self, first_seq, last_seq)
        exc = sqlite3.DatabaseError("database disk image is malformed")
        raise LedgerError(f"cannot read ledger {self.path}: {exc}") from exc

    monkeypatch.setattr(Ledger, "rows_between", rows_between)
    return calls


def _run(
    tmp_path: Path, interruptions: dict[int, str], factory: FakeFactory | None = None, profile: str = PROBE_PROFILE
) -> tuple[SessionResult, RepeatingVenue]:
    factory = factory or FakeFactory(venue_class=RepeatingVenue, faults=FakeFaults(interruptions=interruptions))
    result = run_live(tmp_path, factory, profile_text=profile)
    (venue,) = factory.built
    assert isinstance(venue, RepeatingVenue) and venue.first_cancel is not None
    return result, venue


def _rows(run_dir: Path) -> list[tuple[int, str, dict[str, Any]]]:
    with sqlite3.connect(run_dir / "ledger.sqlite") as conn:
        rows = conn.execute("SELECT seq, kind, payload FROM events ORDER BY seq").fetchall()
    return [(seq, kind, json.loads(payload)) for seq, kind, payload in rows]


def _telemetry_anomalies(run_dir: Path) -> list[dict[str, Any]]:
    lines = (run_dir / "telemetry.jsonl").read_text(encoding="utf-8").splitlines()
    return [line for line in map(json.loads, lines) if line["kind"] == "anomaly"]


def _assert_failed_closed(result: SessionResult, venue: RepeatingVenue, cid: str, asker: str) -> int:
    """Check the session halted on the failed read and placed no order after it; return the anomaly's seq."""
    assert result.exit_code == 3, result.anomalies
    rows = _rows(result.run_dir)
    first_seq = next(seq for seq, kind, p in rows if kind == "intent" and p["client_order_id"] == cid)
    said = f"ledger read failed: cannot rebuild finished order {cid} from ledger seqs {first_seq} to "
    (failed,) = [a for a in result.anomalies if a["kind"] == "storage_failed"]  # said once, not again on its way up
    assert failed["detail"].startswith(said) and f"for {asker}: " in failed["detail"], failed
    assert failed["detail"].endswith("database disk image is malformed"), failed
    assert [a["kind"] for a in result.anomalies] == ["storage_failed"], result.anomalies
    # the ledger, telemetry and summary say what failed and where
    (at,) = [seq for seq, kind, p in rows if kind == "anomaly" and p["detail"] == failed["detail"]]
    (halted,) = [p for seq, kind, p in rows if kind == "trading_state_changed"]
    assert (halted["state"], halted["source"]) == ("halted", "storage_failed")
    assert halted["reason"] == f"storage_failed: {failed['detail']}"
    said_in_telemetry = [a for a in _telemetry_anomalies(result.run_dir) if a["anomaly_kind"] != "stream_interrupted"]
    assert [(a["anomaly_kind"], a["detail"]) for a in said_in_telemetry] == [("storage_failed", failed["detail"])]
    assert result.summary["end_reason"] == f"storage failure: {failed['detail']}"
    assert result.summary["trading_state"]["state"] == "halted"
    # no order after it: nothing approved, nothing sent; the venue got exactly the orders recorded before it
    assert not [p for seq, kind, p in rows if seq > at and kind == "decision" and p["approved"]]
    assert not [seq for seq, kind, _ in rows if seq > at and kind == "submit_requested"]
    sent_before = [p["client_order_id"] for seq, kind, p in rows if kind == "submit_requested" and seq < at]
    assert [o.client_order_id for o in venue.submitted] == sent_before
    # the ledger stays whole, and a whole fold of it is what the venue holds: no open order, no position
    assert verify_ledger(result.run_dir / "ledger.sqlite").ok
    with Ledger.open(result.run_dir / "ledger.sqlite", synchronous="OFF") as ledger:
        whole = fold_events(list(ledger.events()))
    assert whole.portfolio.working_orders() == [] and asyncio.run(venue.open_orders()) == []
    assert all(p.quantity == 0 for p in whole.portfolio.positions()) and asyncio.run(venue.positions()) == []
    assert rows[-1][1] == "session_ended" and rows[-1][2]["reason"] == result.summary["end_reason"]
    return at


def test_live_session_when_engine_cannot_read_a_retired_order_back_then_halted_no_order_after_and_exit_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # only the engine's read back fails (a private-stream task's report): the reader's later read would work
    calls = _failing_reads(monkeypatch, failing={1})
    result, venue = _run(tmp_path, {RETIRED_AT: "reconnect", READ_AT: "reconnect"})
    assert venue.first_cancel is not None and venue.resent is not None
    cid = venue.first_cancel.client_order_id
    at = _assert_failed_closed(result, venue, cid, "the execution engine's book")
    # the session stopped before its reconciliation read the repeat; the end-of-run report did (the second read)
    assert len(calls) == 2 and calls[0] == calls[1]
    assert (result.run_dir / "report.html").is_file()
    rows = _rows(result.run_dir)
    # the repeated report is recorded (the venue's answer), right before the session halted on it
    repeat = [seq for seq, kind, p in rows if kind == "order_report" and p["client_order_id"] == cid][-1]
    assert repeat < at and not [seq for seq, kind, p in rows if repeat < seq < at and kind != "trading_state_changed"]
    # the order was let go at the first reconnect's reconciliation, more than RETIRE_AFTER_EVENTS later
    reconciled = [seq for seq, kind, p in rows if kind == "reconciled" and p["trigger"] == "reconnect"]
    assert len(reconciled) == 1 and reconciled[0] < repeat
    # what the stream task raised went nowhere, yet the session stopped: the loop did not reach the reconnect
    assert venue.resent is not None and isinstance(venue.resent.exception(), LedgerError)


def test_live_session_when_reader_cannot_read_a_retired_order_back_in_a_reconciliation_then_halted_and_exit_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the engine reads the order back for the repeated report; the reader's read at the next reconciliation fails
    calls = _failing_reads(monkeypatch, failing={2})
    result, venue = _run(tmp_path, {RETIRED_AT: "reconnect", READ_AT: "reconnect"})
    assert venue.first_cancel is not None and venue.resent is not None and venue.resent.exception() is None
    cid = venue.first_cancel.client_order_id
    at = _assert_failed_closed(result, venue, cid, "the ledger reader")
    assert len(calls) == 2 and calls[0] == calls[1]
    rows = _rows(result.run_dir)
    reconciled = [seq for seq, kind, p in rows if kind == "reconciled" and p["trigger"] == "reconnect"]
    assert len(reconciled) == 1 and reconciled[0] < at  # the second reconnect's reconciliation never finished
    assert "ledger reader" in result.summary["end_reason"]


def test_live_session_when_only_the_end_of_run_report_cannot_read_back_then_it_reads_the_file_and_exits_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # no reconciliation after the repeat: the reader meets it when the report reads the last events, the
    # ledger closed; that read back fails, the report reads the whole file instead
    calls = _failing_reads(monkeypatch, failing={2})
    result, venue = _run(tmp_path, {RETIRED_AT: "reconnect"})
    assert len(calls) == 2 and venue.resent is not None and venue.resent.exception() is None
    assert result.exit_code == 0, result.anomalies
    assert (result.run_dir / "report.html").is_file()
    assert result.summary["end_reason"] == "end of stream"


def test_live_session_when_the_end_of_run_report_cannot_read_the_file_either_then_its_banner_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _failing_reads(monkeypatch, failing={2})

    def unreadable_file(path: Path, first_seq: int, last_seq: int) -> list[tuple[int, int, str, str, str, str]]:
        raise DataError(f"cannot read ledger {path}: database disk image is malformed")

    monkeypatch.setattr(rollup_read, "rows_between", unreadable_file)  # the whole file's read backs fail too
    result, venue = _run(tmp_path, {RETIRED_AT: "reconnect"})
    # the session traded and ended cleanly: its end never depends on the report, which says what it could not read
    assert result.exit_code == 0, result.anomalies
    page = (result.run_dir / "report.html").read_text(encoding="utf-8")
    assert venue.first_cancel is not None and "data-banner='bad'" in page
    assert f"cannot rebuild finished order {venue.first_cancel.client_order_id} from ledger seqs" in page


class QuietVenue(RepeatingVenue):
    """As :class:`RepeatingVenue`, never sending a report again."""

    resend_at = None


def test_live_session_when_a_strategy_cancel_cannot_read_a_retired_order_back_and_swallows_the_error_then_halted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # long after the reconnect let it go, the strategy cancels the first buy again and catches what that raises
    calls = _failing_reads(monkeypatch, failing={1})
    factory = FakeFactory(venue_class=QuietVenue, faults=FakeFaults(interruptions={RETIRED_AT: "reconnect"}))
    profile = PROBE_PROFILE.replace("per_quote = 50\n", "per_quote = 50\ncancel_first_at = 300\n")
    result, venue = _run(tmp_path, {}, factory, profile)
    assert venue.first_cancel is not None and venue.resent is None
    _assert_failed_closed(result, venue, venue.first_cancel.client_order_id, "the execution engine's book")
    assert len(calls) == 1
    rows = _rows(result.run_dir)
    (at,) = [seq for seq, kind, p in rows if kind == "anomaly"]
    # the strategy went on asking on that very quote: denied (the loop stopped before the next one)
    assert [p["approved"] for seq, kind, p in rows if kind == "decision" and seq > at] == [False]


class RepeatOnRetireVenue(RepeatingVenue):
    """As :class:`RepeatingVenue`, sending the report again once the engine let the order go, then silent."""

    resend_at = None
    silent_after_resend = True


def test_live_session_when_a_periodic_reconciliation_cannot_read_a_retired_order_back_then_storage_failed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the market stream is silent after the repeat: the next periodic reconciliation runs on the wall-clock
    # timer, and the reader's failed read raises in a timer tick (a storage failure, not timer_failed)
    factory = FakeFactory(venue_class=RepeatOnRetireVenue, faults=FakeFaults(events_per_sec=1000))
    real = ExecutionEngine.retire_finished

    def retire_finished(self: ExecutionEngine, client_order_ids: Iterable[str]) -> int:
        ids = list(client_order_ids)
        gone = real(self, ids)
        (venue,) = factory.built
        if isinstance(venue, RepeatingVenue) and venue.first_cancel and venue.first_cancel.client_order_id in ids:
            venue.resend_now()
        return gone

    monkeypatch.setattr(ExecutionEngine, "retire_finished", retire_finished)
    calls = _failing_reads(monkeypatch, failing={2})
    setup = armed_setup(tmp_path, profile_text=PROBE_PROFILE + "\n[reconcile]\ninterval_secs = 0.25\n", factory=factory)
    options = RunOptions(mode="live", profile=str(setup.profile), out=tmp_path / "run")
    live = LiveOptions(enable_live=True, max_minutes=0.5)  # a bound, should the session not stop by itself
    result = start(options, live, setup.env, factories=factory.factories)  # wall time: the timer reconciles
    (venue,) = factory.built
    assert isinstance(venue, RepeatingVenue)
    assert venue.first_cancel is not None and venue.resent is not None and venue.resent.exception() is None
    _assert_failed_closed(result, venue, venue.first_cancel.client_order_id, "the ledger reader")  # not timer_failed
    assert len(calls) == 2
    rows = _rows(result.run_dir)
    assert {p["trigger"] for _, kind, p in rows if kind == "reconciled"} == {"startup", "periodic"}
