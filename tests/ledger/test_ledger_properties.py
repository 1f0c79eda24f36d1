"""Properties of the hash chain under random appends and random single-event tampering."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from livegate.ledger import LEDGER_FILENAME, Ledger, verify_ledger
from tests.ledger.helpers import tamper

json_scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=12)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
payloads = st.dictionaries(st.text(max_size=8), json_values, max_size=4)
kinds = st.sampled_from(["intent", "decision", "fill", "order_report", "anomaly", "custom_kind"])
appends = st.lists(st.tuples(kinds, st.integers(0, 2**62), payloads), min_size=1, max_size=25)


def _write(directory: Path, events: list[tuple[str, int, dict[str, object]]]) -> Path:
    path = directory / LEDGER_FILENAME
    with Ledger.open(path, synchronous="OFF") as ledger:
        for kind, ts_ms, payload in events:
            ledger.append(kind, ts_ms, payload)
    return path


@settings(max_examples=60, deadline=None)
@given(events=appends)
def test_chain_when_random_appends_then_verifies(events: list[tuple[str, int, dict[str, object]]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp), events)
        with Ledger.open(path, synchronous="OFF") as ledger:
            stored = [(e.kind, e.ts_ms, e.payload) for e in ledger.events()]
            head = ledger.head_hash
        result = verify_ledger(path)
    assert result.ok and result.events == len(events) and result.head_hash == head
    assert stored == [(k, t, dict(p)) for k, t, p in events]


@settings(max_examples=60, deadline=None)
@given(events=appends, data=st.data())
def test_chain_when_any_one_event_mutated_then_fails_at_or_before_it(
    events: list[tuple[str, int, dict[str, object]]], data: st.DataObject
) -> None:
    seq = data.draw(st.integers(1, len(events)), label="seq")
    column = data.draw(st.sampled_from(["payload", "ts_ms", "kind", "delete"]), label="column")
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp), events)
        conn = sqlite3.connect(path)
        ts_ms, kind, payload = conn.execute("SELECT ts_ms, kind, payload FROM events WHERE seq = ?", (seq,)).fetchone()
        conn.close()
        if column == "payload":
            tamper(
                path,
                "UPDATE events SET payload = ? WHERE seq = ?",
                (payload[:-1] + ',"x":1}' if payload != "{}" else '{"x":1}', seq),
            )
        elif column == "ts_ms":
            tamper(path, "UPDATE events SET ts_ms = ? WHERE seq = ?", (ts_ms + 1, seq))
        elif column == "kind":
            tamper(path, "UPDATE events SET kind = ? WHERE seq = ?", (kind + "x", seq))
        else:
            tamper(path, "DELETE FROM events WHERE seq = ?", (seq,))
        result = verify_ledger(path)
    if column == "delete" and seq == len(events):
        assert result.ok  # a cut tail needs the expected head hash; see the verify tests
        return
    assert not result.ok
    assert result.first_bad_seq is not None and result.first_bad_seq <= seq
