"""``livegate flatten RUN_DIR``: cancel, then close every position of a run with reduce-only orders."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from livegate.cli.exits import fail
from livegate.domain.decisions import Denied
from livegate.domain.errors import ConfigError, DataError, LedgerError
from livegate.runtime.flatten import FlattenResult
from livegate.runtime.offline import open_run
from livegate.runtime.operator import FlattenStep, flatten_run, flatten_steps


def register(app: typer.Typer) -> None:
    """Add ``flatten`` to ``app``."""
    app.command("flatten")(flatten_command)


def flatten_command(
    run_dir: Annotated[Path, typer.Argument(help="Run directory (paper, testnet, canary or live run)")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the positions to close; send nothing")] = False,
    timeout_secs: Annotated[float, typer.Option("--timeout-secs", help="Give up after this many seconds")] = 30.0,
    retry_secs: Annotated[float, typer.Option("--retry-secs", help="Wait between two rounds")] = 0.5,
) -> None:
    """Cancel working orders, then close each position with reduce-only market IOC orders (docs/recovery.md).

    Orders are split to ``[risk] max_order_notional_usd``, pass a HALTED state, are exempt
    from the rate, duplicate, turnover and daily-count caps (never from reduce-only, the
    price band or a stale quote), and are retried until flat or the timeout.
    Exit 0 when flat, 3 when positions or open orders remain, 2 when refused.
    """
    try:
        steps, result = asyncio.run(_flatten(run_dir, dry_run, timeout_secs, retry_secs))
    except (ConfigError, DataError, LedgerError) as exc:
        fail(exc)
    _print_plan(steps, dry_run)
    if result is None:
        raise typer.Exit(0)
    for d in result.decisions:
        outcome = f"DENIED {d.code.value}: {d.detail}" if isinstance(d, Denied) else "approved, sent"
        typer.echo(f"{d.client_order_id} {d.intent.symbol} {d.intent.side.value} {d.intent.quantity}: {outcome}")
    if result.flat:
        typer.echo(f"flat after {result.rounds} round(s): no position, no open order")
        raise typer.Exit(0)
    left = ", ".join(f"{s} {q}" for s, q in sorted(result.remaining.items())) or "none"
    typer.echo(f"NOT FLAT after {result.rounds} round(s): positions left: {left}; open orders: {result.open_orders}")
    raise typer.Exit(3)


async def _flatten(
    run_dir: Path, dry_run: bool, timeout_secs: float, retry_secs: float
) -> tuple[list[FlattenStep], FlattenResult | None]:
    run = await open_run(run_dir, os.environ, purpose="flatten")
    try:
        steps = await flatten_steps(run)
        if run.venue is None:
            return [], None  # shadow: nothing was ever placed at a venue
        if dry_run or not steps:
            return steps, None
        return steps, await flatten_run(run, os.environ, timeout_secs=timeout_secs, retry_secs=retry_secs)
    finally:
        await run.aclose()


def _print_plan(steps: list[FlattenStep], dry_run: bool) -> None:
    console = Console()
    if not steps:
        console.print("nothing to flatten: no open positions in the ledger")
        return
    table = Table(title="flatten plan" + (" (dry run: nothing sent)" if dry_run else ""))
    for column in ("symbol", "ledger position", "venue position", "order"):
        table.add_column(column)
    for s in steps:
        order = f"{s.side.value} {s.quantity} market IOC reduce-only (split to the per-order cap)"
        table.add_row(s.symbol, str(s.position), str(s.venue_position), order)
    console.print(table)
