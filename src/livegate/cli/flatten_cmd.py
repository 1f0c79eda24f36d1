"""``livegate flatten RUN_DIR``: close every position of a paper run with reduce-only orders."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from livegate.cli.exits import fail, open_run_or_exit
from livegate.domain.decisions import Denied
from livegate.domain.errors import ConfigError, DataError
from livegate.runtime.offline import FlattenStep, flatten_plan, flatten_run


def register(app: typer.Typer) -> None:
    """Add ``flatten`` to ``app``."""
    app.command("flatten")(flatten_command)


def flatten_command(
    run_dir: Annotated[Path, typer.Argument(help="Run directory of a paper run")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the orders; send nothing")] = False,
) -> None:
    """Show, then send, one reduce-only market IOC per open position through the risk pipeline (allowed while HALTED).

    Exit 0 when every order was approved (or nothing to do), 3 when one was denied.
    """
    run = open_run_or_exit(run_dir)
    try:
        steps = asyncio.run(flatten_plan(run))
        _print_plan(steps, dry_run)
        if dry_run or not steps:
            raise typer.Exit(0)
        try:
            decisions = asyncio.run(flatten_run(run, steps, os.environ))
        except (ConfigError, DataError) as exc:
            fail(exc)
    finally:
        run.close()
    denied = [d for d in decisions if isinstance(d, Denied)]
    for d in decisions:
        outcome = f"DENIED {d.code.value}: {d.detail}" if isinstance(d, Denied) else "approved, sent"
        typer.echo(f"{d.client_order_id} {d.intent.symbol} {d.intent.side.value} {d.intent.quantity}: {outcome}")
    raise typer.Exit(3 if denied else 0)


def _print_plan(steps: list[FlattenStep], dry_run: bool) -> None:
    console = Console()
    if not steps:
        console.print("nothing to flatten: no open positions in the ledger")
        return
    table = Table(title="flatten plan" + (" (dry run: nothing sent)" if dry_run else ""))
    for column in ("symbol", "ledger position", "venue position", "order"):
        table.add_column(column)
    for s in steps:
        table.add_row(
            s.symbol, str(s.position), str(s.venue_position), f"{s.side.value} {s.quantity} market IOC reduce-only"
        )
    console.print(table)
