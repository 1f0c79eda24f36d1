"""``livegate flatten RUN_DIR``: cancel, then close every position of a run with reduce-only orders."""

from __future__ import annotations

import asyncio
import os
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from livegate.cli.exits import fail
from livegate.config.loader import load_config
from livegate.control.flatten import FlattenResult
from livegate.domain.decisions import Denied
from livegate.domain.enums import Mode
from livegate.domain.errors import ConfigError, DataError, LedgerError
from livegate.runtime.artifacts import default_run_dir
from livegate.runtime.offline import open_run
from livegate.runtime.operator import FlattenStep, flatten_run, flatten_steps
from livegate.runtime.venue_flatten import VenueFlatten, VenueFlattenRequest, flatten_venue

_VENUE_MODES = (Mode.LIVE.value, Mode.CANARY.value, Mode.TESTNET.value)


def register(app: typer.Typer) -> None:
    """Add ``flatten`` to ``app``."""
    app.command("flatten")(flatten_command)


def flatten_command(
    run_dir: Annotated[Path | None, typer.Argument(help="Run directory (paper, testnet, canary or live run)")] = None,
    venue: Annotated[
        str | None, typer.Option("--venue", help="Flatten the account at ADAPTER:VENUE directly, no run dir")
    ] = None,
    symbol: Annotated[
        list[str] | None, typer.Option("--symbol", help="With --venue: a symbol to flatten (repeat); spot: required")
    ] = None,
    keep: Annotated[
        str, typer.Option("--keep", help="With --venue on spot: base units of each base asset left unsold")
    ] = "0",
    profile: Annotated[
        str | None, typer.Option("--profile", help="With --venue: profile for \\[venue] endpoints and \\[risk] caps")
    ] = None,
    mode: Annotated[
        str, typer.Option("--mode", help="With --venue: whose credentials (live, canary, testnet = sandbox)")
    ] = Mode.LIVE.value,
    out: Annotated[
        Path | None, typer.Option("--out", help="With --venue: new run directory for the ledger (runs/<stamp>-flatten)")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the positions to close; send nothing")] = False,
    timeout_secs: Annotated[float, typer.Option("--timeout-secs", help="Give up after this many seconds")] = 30.0,
    retry_secs: Annotated[float, typer.Option("--retry-secs", help="Wait between two rounds")] = 0.5,
) -> None:
    r"""Cancel working orders, then close each position with reduce-only market IOC orders (docs/recovery.md).

    Orders are split to ``\[risk] max_order_notional_usd``, pass a HALTED state, are exempt
    from the rate, duplicate, turnover and daily-count caps (never from reduce-only, the
    price band or a stale quote), and are retried until flat or the timeout. With
    ``--venue`` the account's positions (spot: base balances above ``--keep``) are closed
    and recorded in a new run directory.
    Exit 0 when flat, 3 when positions or open orders remain, 2 when refused.
    """
    if (run_dir is None) == (venue is None):
        fail(ConfigError("give either RUN_DIR or --venue ADAPTER:VENUE"))
    if venue is not None:
        _flatten_venue_command(venue, symbol or [], keep, profile, mode, out, dry_run, timeout_secs, retry_secs)
    assert run_dir is not None
    try:
        steps, result = asyncio.run(_flatten(run_dir, dry_run, timeout_secs, retry_secs))
    except (ConfigError, DataError, LedgerError) as exc:
        fail(exc)
    _print_plan(steps, dry_run)
    if result is None:
        raise typer.Exit(0)
    _report(result)


def _flatten_venue_command(
    venue: str,
    symbols: list[str],
    keep: str,
    profile: str | None,
    mode: str,
    out: Path | None,
    dry_run: bool,
    timeout_secs: float,
    retry_secs: float,
) -> NoReturn:
    if mode not in _VENUE_MODES:
        fail(ConfigError(f"--mode {mode!r}: one of {', '.join(_VENUE_MODES)}"))
    try:
        keep_units = Decimal(keep)
    except InvalidOperation:
        fail(ConfigError(f"--keep {keep!r}: not a number of base units"))
    if keep_units < 0:
        fail(ConfigError(f"--keep {keep}: must be 0 or more base units"))
    try:
        resolved = load_config(profile, os.environ, cli={"venue.name": venue})
        request = VenueFlattenRequest(
            venue=venue,
            mode=Mode(mode),
            symbols=tuple(symbols),
            keep=keep_units,
            out_dir=out if out is not None else default_run_dir("flatten"),
            timeout_secs=timeout_secs,
            retry_secs=retry_secs,
        )
        outcome = asyncio.run(flatten_venue(request, resolved, os.environ, dry_run=dry_run))
    except (ConfigError, DataError, LedgerError) as exc:
        fail(exc)
    _print_venue_plan(venue, outcome, dry_run)
    if outcome.result is None:
        raise typer.Exit(0)
    typer.echo(f"ledger: {outcome.run_dir}")
    _report(outcome.result)


def _report(result: FlattenResult) -> NoReturn:
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


def _print_venue_plan(venue: str, outcome: VenueFlatten, dry_run: bool) -> None:
    console = Console()
    kind = "spot base balances" if outcome.spot else "positions"
    console.print(f"{venue}: {len(outcome.holdings)} {kind} to close, {outcome.open_orders} open order(s) to cancel")
    if not outcome.holdings:
        return
    table = Table(title=f"flatten plan at {venue}" + (" (dry run: nothing sent)" if dry_run else ""))
    for column in ("symbol", "held at venue", "order"):
        table.add_column(column)
    for h in outcome.holdings:
        order = (
            f"{h.side.value} {abs(h.to_close)} market IOC reduce-only (split to the per-order cap)"
            if h.to_close
            else "nothing (below one lot: dust)"
        )
        table.add_row(h.symbol, str(h.held), order)
    console.print(table)


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
