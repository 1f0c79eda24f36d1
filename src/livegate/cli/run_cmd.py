"""``livegate run``: a session on replayed data (paper or shadow)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from livegate.domain.errors import ConfigError, DataError, LedgerError
from livegate.runtime.session import RunOptions, run

_SUMMARY_ROWS = (
    "mode",
    "quotes_processed",
    "trades_processed",
    "bad_rows",
    "intents",
    "approved",
    "denied",
    "orders_submitted",
    "fills",
    "turnover_usd",
    "fees_usd",
    "pnl_realized_usd",
    "pnl_unrealized_usd",
    "pnl_total_usd",
    "max_drawdown_usd",
    "ledger_hash",
    "wall_secs",
    "quotes_per_sec",
)


def register(app: typer.Typer) -> None:
    """Add ``run`` to ``app``."""
    app.command("run")(run_command)


def run_command(
    mode: Annotated[str | None, typer.Option(help="shadow|paper (default: paper on replayed data)")] = None,
    quotes: Annotated[Path | None, typer.Option(help="Normalized quotes CSV(.gz)")] = None,
    trades: Annotated[Path | None, typer.Option(help="Normalized trades CSV(.gz)")] = None,
    capture: Annotated[Path | None, typer.Option(help="Raw Binance combined-stream capture (.jsonl.gz)")] = None,
    strategy: Annotated[str | None, typer.Option(help="module:Class or path/to/file.py:Class")] = None,
    profile: Annotated[str | None, typer.Option(help="TOML profile file or packaged profile name")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the paper fill model")] = None,
    out: Annotated[Path | None, typer.Option(help="Run directory (default ./runs/<UTC time>-<mode>)")] = None,
    realtime: Annotated[float | None, typer.Option(help="Pace the replay at SPEED x real time (e.g. 1.0)")] = None,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="Do not draw the progress bar")] = False,
) -> None:
    """Run a strategy on recorded market data through the gated order path."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    console = Console(stderr=True)
    options = RunOptions(
        mode=mode,
        quotes=quotes,
        trades=trades,
        capture=capture,
        strategy=strategy,
        profile=profile,
        seed=seed,
        out=out,
        realtime=realtime,
    )
    try:
        if no_progress or not console.is_terminal:
            result = run(options, os.environ)
        else:
            with Progress(
                TextColumn("replay"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
            ) as bar:
                task = bar.add_task("replay", total=None)

                def progress(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                result = run(options, os.environ, progress)
    except (ConfigError, DataError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    except LedgerError as exc:
        console.print(f"[red]ledger error:[/red] {exc}")
        raise typer.Exit(1) from exc
    _print_summary(result.summary, result.run_dir)
    raise typer.Exit(result.exit_code)


def _print_summary(summary: dict[str, Any], run_dir: Path) -> None:
    table = Table(title="livegate run summary", show_header=False)
    table.add_column("key")
    table.add_column("value")
    for key in _SUMMARY_ROWS:
        table.add_row(key, str(summary.get(key)))
    console = Console()
    console.print(table)
    console.print(f"run directory: {run_dir}")
