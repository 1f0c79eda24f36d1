"""``livegate rollup``: per trading day, mode, venue and symbol, from the runs' ledgers (docs/daily.md)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from livegate.cli.exits import fail
from livegate.domain.errors import ConfigError
from livegate.ops.rollup_output import Rollup, build_rollup, find_runs, write_rollup

#: Columns of the terminal table (every column is in --json and --out).
_TABLE_COLUMNS = (
    ("day", "day"),
    ("mode", "mode"),
    ("venue", "venue"),
    ("symbol", "symbol"),
    ("intents", "intents"),
    ("denials", "denied"),
    ("fills", "fills"),
    ("fill_rate", "fill rate"),
    ("turnover_usd", "turnover USD"),
    ("fees_usd", "fees USD"),
    ("total_pnl_usd", "PnL USD"),
    ("max_drawdown_usd", "max DD USD"),
    ("slippage_median_bps", "slip p50 bps"),
    ("slippage_p95_bps", "slip p95 bps"),
    ("markout_5s_bps", "markout 5s bps"),
    ("anomalies", "anomalies"),
    ("kills", "kills"),
)


def register(app: typer.Typer) -> None:
    """Add ``rollup`` to ``app``."""
    app.command("rollup")(rollup_command)


def run_dirs_from(run_dirs: list[Path] | None, runs_dir: Path | None) -> list[Path]:
    """Return the run directories named, or those under ``runs_dir``.

    Raises
    ------
    ConfigError
        When both or neither are given, or ``runs_dir`` is not a directory.
    """
    if run_dirs and runs_dir is not None:
        raise ConfigError("give RUN_DIR arguments or --runs-dir, not both")
    if run_dirs:
        return list(run_dirs)
    if runs_dir is None:
        raise ConfigError("give one or more RUN_DIR arguments, or --runs-dir DIR")
    return find_runs(runs_dir)


def parse_since(since: str | None) -> dt.date | None:
    """Return ``--since`` as a date (``YYYY-MM-DD``).

    Raises
    ------
    ConfigError
        If it is not an ISO date.
    """
    if since is None:
        return None
    try:
        return dt.date.fromisoformat(since)
    except ValueError as exc:
        raise ConfigError(f"--since {since!r}: expected a date YYYY-MM-DD") from exc


def rollup_command(
    run_dirs: Annotated[list[Path] | None, typer.Argument(help="Run directories (or use --runs-dir)")] = None,
    runs_dir: Annotated[Path | None, typer.Option(help="Roll up every run directory under DIR")] = None,
    since: Annotated[str | None, typer.Option(help="Only trading days on or after DATE (YYYY-MM-DD)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rollup as JSON instead of a table")] = False,
    out: Annotated[Path | None, typer.Option(help="Also write FILE: .csv, .json, or .parquet (needs pyarrow)")] = None,
) -> None:
    """Roll runs up per trading day, mode, venue and symbol, read from their ledgers.

    Exit 0; 2 when no run could be read or the arguments are wrong. Unreadable runs are
    named on stderr and skipped.
    """
    try:
        first_day = parse_since(since)
        dirs = run_dirs_from(run_dirs, runs_dir)
        if not dirs:
            raise ConfigError("no run directories found (a run directory holds ledger.sqlite)")
        rollup = build_rollup(dirs, first_day)
        if len(rollup.skipped) == len(dirs):
            raise ConfigError(f"no run could be read: {rollup.skipped[0][1]}")
        if out is not None:
            write_rollup(rollup, out)
    except (ConfigError, OSError) as exc:
        fail(exc)
    err = Console(stderr=True, soft_wrap=True)
    for path, error in rollup.skipped:
        err.print(f"skipped {path}: {error}", markup=False)
    if as_json:
        typer.echo(json.dumps(rollup.to_json(), indent=2))
    else:
        print_table(rollup)
    if out is not None:
        err.print(f"rollup written: {out}", markup=False)


def print_table(rollup: Rollup) -> None:
    """Print the rollup's main columns as a table."""
    table = Table(title=f"livegate rollup ({len(rollup.runs)} runs)")
    for _, title in _TABLE_COLUMNS:
        table.add_column(title, overflow="fold")
    for row in rollup.rows:
        table.add_row(*("" if row.get(name) is None else str(row.get(name)) for name, _ in _TABLE_COLUMNS))
    Console(width=200).print(table)
