"""The ledger fill index reads only the new events (markouts left to SQLite) and gives the full fold's fills."""

from __future__ import annotations

from pathlib import Path

from livegate.ledger import Ledger
from livegate.ledger import events as ev
from livegate.ledger.fold import fold_events
from livegate.reconcile.fills import LedgerFillIndex


def test_ledger_fill_index_when_a_real_session_ledger_grows_then_new_ids_add_up_to_the_full_folds_fills(
    bundled_paper_run: Path, tmp_path: Path
) -> None:
    with Ledger.open(bundled_paper_run / "ledger.sqlite", synchronous="OFF") as recorded:
        events = list(recorded.events())
    kinds = {e.kind for e in events}
    assert ev.MARKOUT in kinds and ev.FILL in kinds  # the case this is about: markouts between fills
    full = fold_events(events)
    seen: list[str] = []
    with Ledger.open(tmp_path / "ledger.sqlite", synchronous="OFF") as ledger:
        index = LedgerFillIndex(ledger)
        for n, event in enumerate(events, 1):
            ledger.append(event.kind, event.ts_ms, event.payload, durable=False)
            if n % 37 == 0 or event.kind == ev.MARKOUT:  # passes that end on a markout and ones that do not
                seen += index.new_ids("paper")
        seen += index.new_ids("paper")
        assert index.ids("paper") == full.fill_ids("paper")
    assert seen == [f.fill_id for f in full.fills if f.venue in ("paper", "")]
    assert len(seen) == len(set(seen)) > 0
