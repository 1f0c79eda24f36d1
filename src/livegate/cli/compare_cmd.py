"""``livegate compare RUN_A RUN_B``: intent-level differences between two runs (exit 0 none, 3 some)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from livegate.cli.exits import fail
from livegate.domain.errors import DataError
from livegate.ops.compare import RunComparison, compare_runs, run_stats

_ROWS = (
    "mode",
    "intents",
    "approved",
    "denied_by_code",
    "intents_filled",
    "fill_rate",
    "fills",
    "slippage_median_bps",
    "recorded_events",
    "recorded_out_of_order",
    "pnl_realized_usd",
    "pnl_unrealized_usd",
    "pnl_total_usd",
    "fees_usd",
    "turnover_usd",
)


def register(app: typer.Typer) -> None:
    """Add ``compare`` to ``app``."""
    app.command("compare")(compare_command)


def compare_command(
    run_a: Annotated[Path, typer.Argument(help="First run directory (e.g. a shadow or live run)")],
    run_b: Annotated[Path, typer.Argument(help="Second run directory (e.g. its paper replay)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables")] = False,
    limit: Annotated[int, typer.Option(min=0, help="List at most N differences of each kind")] = 20,
) -> None:
    """Compare two runs intent by intent: decisions, fill rate, fill prices, slippage, PnL.

    Exit 0 when no decision differs, 3 when some do, 2 when a run cannot be read.
    Intents are aligned by content (strategy, symbol, side, type, quantity, price,
    flags) in sequence order; see docs/deploy.md, "Record and compare".
    """
    try:
        result = compare_runs(run_a, run_b)
    except DataError as exc:
        fail(exc)
    if as_json:
        typer.echo(json.dumps(result.to_record(limit), indent=2))
    else:
        _print(result, limit)
    raise typer.Exit(0 if result.clean else 3)


def _print(result: RunComparison, limit: int) -> None:
    console = Console(soft_wrap=True)
    stats_a, stats_b = run_stats(result.a), run_stats(result.b)
    table = Table(title="livegate compare")
    table.add_column("")
    table.add_column(f"A {escape(str(result.a.run_dir))}")
    table.add_column(f"B {escape(str(result.b.run_dir))}")
    for key in _ROWS:
        table.add_row(key, escape(str(stats_a.get(key))), escape(str(stats_b.get(key))))
    console.print(table)
    record = result.to_record(0)
    offset = record["time_offset_ms"]
    console.print(f"matched intents: {result.matched}; time offset B-A (ms): {offset}")
    console.print(f"PnL difference B-A (USD): {record['pnl_difference_usd']}")
    console.print(f"decision differences: {len(result.decisions)} {record['decision_differences_by_kind']}")
    for diff in result.decisions[:limit]:
        console.print(f"  {escape(diff.describe())}")
    console.print(f"execution differences: {len(result.executions)}")
    for exe in result.executions[:limit]:
        console.print(f"  {escape(exe.describe())}")
