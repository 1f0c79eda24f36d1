"""``livegate reconcile RUN_DIR``: compare a run's ledger with its venue and print the differences."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from livegate.cli.exits import fail
from livegate.domain.errors import ConfigError, DataError, LedgerError
from livegate.reconcile.result import ReconcileIncomplete, ReconcileResult
from livegate.runtime.offline import open_run, reconcile_run


def register(app: typer.Typer) -> None:
    """Add ``reconcile`` to ``app``."""
    app.command("reconcile")(reconcile_command)


def reconcile_command(
    run_dir: Annotated[Path, typer.Argument(help="Run directory (paper, testnet, canary or live run)")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print only; append nothing to reconcile_drift.jsonl")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
) -> None:
    """Compare open orders, positions, balances and fills with the venue; exit 0 clean, 3 with differences."""
    try:
        result = asyncio.run(_reconcile(run_dir, dry_run))
    except (ReconcileIncomplete, ConfigError, DataError, LedgerError) as exc:
        fail(exc)
    if as_json:
        typer.echo(json.dumps(_as_record(run_dir, result), indent=2))
    else:
        _print_table(run_dir, result)
    raise typer.Exit(0 if result.clean else 3)


async def _reconcile(run_dir: Path, dry_run: bool) -> ReconcileResult:
    run = await open_run(run_dir, os.environ, purpose="reconcile")
    try:
        return await reconcile_run(run, dry_run=dry_run)
    finally:
        await run.aclose()


def _as_record(run_dir: Path, result: ReconcileResult) -> dict[str, object]:
    return {
        "run_dir": str(run_dir),
        "clean": result.clean,
        "beyond_tolerance": len(result.beyond_tolerance),
        "records": [r.to_record() for r in result.records],
    }


def _print_table(run_dir: Path, result: ReconcileResult) -> None:
    console = Console()
    if result.clean:
        console.print(f"clean: ledger and venue agree ({run_dir})")
        return
    table = Table(title=f"reconcile {run_dir}")
    for column in (
        "kind",
        "symbol",
        "client order id",
        "internal",
        "venue",
        "difference",
        "tolerance",
        "source",
        "beyond",
    ):
        table.add_column(column)
    for r in result.records:
        table.add_row(
            r.kind.value, r.symbol, r.client_order_id, r.internal_value, r.venue_value, r.difference,
            r.tolerance, r.source, "yes" if r.beyond_tolerance else "no",
        )  # fmt: skip
    console.print(table)
    console.print(f"{len(result.records)} differences, {len(result.beyond_tolerance)} beyond tolerance")
