"""``livegate run``: a session on replayed data (paper, shadow) or on a venue stream (any mode, gated)."""

from __future__ import annotations

import gc
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from livegate.cli.exits import fail
from livegate.domain.errors import ConfigError, DataError, LedgerError
from livegate.marketdata.stream import ReaderProcess
from livegate.reconcile.result import ReconcileIncomplete
from livegate.runtime.live_options import LiveOptions
from livegate.runtime.session import ProgressCallback, RunOptions, SessionResult
from livegate.runtime.start import GateRefused, start
from livegate.telemetry.logging_setup import LogFormat, configure_logging

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
    mode: Annotated[
        str | None,
        typer.Option(help="shadow|paper|testnet|canary|live (default: shadow with a real venue, else paper)"),
    ] = None,
    quotes: Annotated[Path | None, typer.Option(help="Normalized quotes CSV(.gz)")] = None,
    trades: Annotated[Path | None, typer.Option(help="Normalized trades CSV(.gz)")] = None,
    capture: Annotated[Path | None, typer.Option(help="Raw Binance combined-stream capture (.jsonl.gz)")] = None,
    strategy: Annotated[str | None, typer.Option(help="module:Class or path/to/file.py:Class")] = None,
    profile: Annotated[str | None, typer.Option(help="TOML profile file or packaged profile name")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the paper fill model")] = None,
    out: Annotated[Path | None, typer.Option(help="Run directory (default ./runs/<UTC time>-<mode>)")] = None,
    realtime: Annotated[float | None, typer.Option(help="Pace the replay at SPEED x real time (e.g. 1.0)")] = None,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="Do not draw the progress bar")] = False,
    reader_process: Annotated[
        ReaderProcess,
        typer.Option(
            "--reader-process",
            help="Read replay inputs in a second process: auto (files of 4 MiB or more, 2+ CPUs), off, always",
        ),
    ] = ReaderProcess.AUTO,
    enable_live: Annotated[
        bool, typer.Option("--enable-live", help="Arming key for testnet/canary/live (one of several)")
    ] = False,
    fallback_shadow: Annotated[
        bool, typer.Option("--fallback-shadow", help="Run shadow instead of refusing when the live gate refuses")
    ] = False,
    ignore_market_hours: Annotated[
        bool, typer.Option("--ignore-market-hours", help="Trade even while the venue calendar says closed")
    ] = False,
    venue: Annotated[str | None, typer.Option(help="Real venue <adapter>:<venue>, e.g. fake:demo")] = None,
    symbol: Annotated[list[str] | None, typer.Option("--symbol", help="Symbol to trade (repeatable)")] = None,
    symbols: Annotated[str | None, typer.Option("--symbols", help="Comma-separated symbols, e.g. SPY,TSLA")] = None,
    max_events: Annotated[int | None, typer.Option(help="Stop a venue-stream session after N events")] = None,
    minutes: Annotated[
        float | None, typer.Option("--minutes", min=0, help="Stop a venue-stream session after M minutes of wall time")
    ] = None,
    resume: Annotated[
        Path | None, typer.Option(help="Continue the crashed run in RUN_DIR (its config and data; docs/recovery.md)")
    ] = None,
    http: Annotated[
        str | None,
        typer.Option(
            "--http",
            metavar="ADDR",
            help="Serve the operator HTTP API on HOST:PORT, e.g. 127.0.0.1:9898 (docs/operations.md)",
        ),
    ] = None,
    log_format: Annotated[
        LogFormat | None, typer.Option("--log-format", help="console or json (default: the global --log-format)")
    ] = None,
) -> None:
    """Run a strategy on recorded data or a venue stream through the gated order path.

    SIGTERM or Ctrl-C stops gracefully: working orders cancelled, summary written, exit
    143 (SIGTERM) or 130 (SIGINT); a second signal stops at once. Exit 3: anomalies (a
    kill, a storage failure, a stuck strategy callback). See docs/risk.md.
    """
    if log_format is not None:  # `livegate run --log-format json` (the same as `livegate --log-format json run`)
        configure_logging(log_format)
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
        http=http,
        reader_process=reader_process,
    )
    live = LiveOptions(
        enable_live=enable_live,
        fallback_shadow=fallback_shadow,
        ignore_market_hours=ignore_market_hours,
        venue=venue,
        symbols=(*(symbol or ()), *(s.strip() for s in (symbols or "").split(",") if s.strip())),
        max_events=max_events,
        max_minutes=minutes,
    )
    try:
        if no_progress or not console.is_terminal:
            result = _start_or_resume(resume, options, live, None)
        else:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            with Progress(
                TextColumn("replay"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
            ) as bar:
                task = bar.add_task("replay", total=None)

                def progress(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                result = _start_or_resume(resume, options, live, progress)
    except GateRefused as exc:
        console.print("[red]refused to start:[/red] the live gate line above names every missing key (exit 2)")
        raise typer.Exit(2) from exc
    except (ConfigError, DataError, ReconcileIncomplete) as exc:
        fail(exc)
    except LedgerError as exc:
        console.print(f"[red]ledger error:[/red] {exc}")
        raise typer.Exit(1) from exc
    _print_summary(result.summary, result.run_dir)
    raise typer.Exit(result.exit_code)


def _start_or_resume(
    resume: Path | None, options: RunOptions, live: LiveOptions, progress: ProgressCallback | None
) -> SessionResult:
    """Start a new run, or continue ``resume`` (which takes its config and data from the run directory)."""
    _tune_gc()
    if resume is None:
        return start(options, live, os.environ, progress)
    given = [name for name in ("mode", "quotes", "trades", "capture", "strategy", "profile", "seed", "out", "http")]
    given = [name for name in given if getattr(options, name) is not None]
    if given:
        raise ConfigError(f"--resume takes config and data from the run directory; drop --{', --'.join(given)}")
    from livegate.runtime.restart import resume_run  # only a resume needs it

    gc.disable()  # until the rebuilt session is ready (_resumed_session_ready), whatever happens
    try:
        return resume_run(
            resume,
            os.environ,
            realtime=options.realtime,
            progress=progress,
            live=live,
            on_ready=_resumed_session_ready,
            reader_process=options.reader_process,
        )
    finally:
        gc.enable()


def _print_summary(summary: dict[str, Any], run_dir: Path) -> None:
    table = Table(title="livegate run summary", show_header=False)
    table.add_column("key")
    table.add_column("value")
    for key in _SUMMARY_ROWS:
        table.add_row(key, str(summary.get(key)))
    console = Console()
    console.print(table)
    # The path's highlighting only shows in colour; without colour (a pipe, a file) it would
    # cost its regexes' compilation (~25 ms) for the same bytes.
    console.print(f"run directory: {run_dir}", highlight=console.color_system is not None)


#: Allocations of tracked objects between two young-generation collections (CPython's default is 700).
GC_YOUNG_THRESHOLD = 100_000


def _tune_gc() -> None:
    """Set this process's cyclic garbage collector for a session (the ``livegate run`` process only).

    A session allocates a tuple per market event and frees it by reference counting; with
    CPython's default threshold a young collection ran every 700 of them. Objects alive at
    start (modules, config) are frozen out of every later collection (:func:`gc.freeze`).
    A 200,000-quote replay took 0.91x the CPU time with this (farm-bench A/B, 4 pairs; issue 14).
    """
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 50, 100)


def _resumed_session_ready() -> None:
    """Freeze what a resume rebuilt (orders, fills, intents, counters) out of later collections; GC back on.

    The collector is off while ``--resume`` rebuilds the session (millions of objects
    without reference cycles, alive for the whole session); with it on, the first
    collections after the rebuild walked all of them (issue 14 item 7).
    """
    gc.freeze()
    gc.enable()
