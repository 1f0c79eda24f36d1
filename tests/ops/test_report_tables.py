"""The run report builds only the table rows it shows, and says how many there are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from livegate.ops import report
from livegate.ops.rollup_read import read_run


def test_read_run_when_table_rows_limited_then_first_rows_equal_the_full_tables_and_counts_are_whole(
    bundled_paper_run: Path,
) -> None:
    full = read_run(bundled_paper_run)
    cut = read_run(bundled_paper_run, table_rows=2)
    assert len(full.orders_table) > 2 and len(full.fills_table) > 2
    assert cut.orders_table == full.orders_table[:2]
    assert cut.fills_table == full.fills_table[:2]
    assert (cut.orders_count, cut.fills_count) == (len(full.orders_table), len(full.fills_table))
    assert read_run(bundled_paper_run, table_rows=0).orders_table == []


def test_render_run_report_when_more_orders_than_shown_then_heading_says_first_n_of_total(
    bundled_paper_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report, "TABLE_LIMIT", 2)
    facts = read_run(bundled_paper_run, table_rows=2)
    summary = json.loads((bundled_paper_run / "summary.json").read_text())
    page = report.render_run_report(facts, summary)
    assert f"<h2>Orders (first 2 of {facts.orders_count})</h2>" in page
    assert f"<h2>Fills (first 2 of {facts.fills_count})</h2>" in page
