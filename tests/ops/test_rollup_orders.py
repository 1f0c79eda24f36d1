"""The rollup's order count per row: distinct client order ids submitted or filled there, counted on disk.

The count is the rule written plainly (a set of ids per (day, mode, venue, symbol)); two
reads of the same run rolled up together count each id once, as sets do.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from livegate.ops.rollup import rollup_rows
from livegate.ops.rollup_read import read_run
from livegate.ops.run_facts import RunFacts


def _plain_orders(runs: list[RunFacts]) -> dict[tuple[str, str, str], int]:
    ids: dict[tuple[str, str, str], set[str]] = {}
    for facts in runs:
        for cid, ts in facts.submits.items():
            venue, symbol = facts.fold.routed(cid)
            ids.setdefault((facts.day(ts), venue, symbol), set()).add(cid)
        for f in facts.fills:
            ids.setdefault((facts.day(f.fill.ts_ms), f.venue, f.fill.symbol), set()).add(f.fill.client_order_id)
    return {key: len(cids) for key, cids in ids.items()}


def test_rollup_when_runs_read_then_orders_are_the_distinct_ids_of_each_row(
    bundled_paper_run: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(bundled_paper_run, copy)  # the same ids in a second run directory
    one = read_run(bundled_paper_run)
    rows = rollup_rows([one])
    assert sum(int(row["orders"]) for row in rows) > 100  # type: ignore[call-overload]
    assert {(r["day"], r["venue"], r["symbol"]): r["orders"] for r in rows} == _plain_orders(
        [read_run(bundled_paper_run)]
    )
    both = rollup_rows([read_run(bundled_paper_run), read_run(copy)])
    assert [r["runs"] for r in both] == [2] * len(both)
    assert [r["orders"] for r in both] == [r["orders"] for r in rows]  # each id once
