"""``livegate cancel-all``: cancel every open order of a run directory, or directly at a venue."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer

from livegate.cli.exits import fail
from livegate.domain.enums import Mode
from livegate.domain.errors import ConfigError, DataError, LedgerError
from livegate.runtime.offline import open_run
from livegate.runtime.operator import cancel_all_run, cancel_all_venue

_VENUE_MODES = (Mode.LIVE.value, Mode.CANARY.value, Mode.TESTNET.value)


def register(app: typer.Typer) -> None:
    """Add ``cancel-all`` to ``app``."""
    app.command("cancel-all")(cancel_all_command)


def cancel_all_command(
    run_dir: Annotated[Path | None, typer.Argument(help="Run directory (paper, testnet, canary or live run)")] = None,
    venue: Annotated[
        str | None, typer.Option("--venue", help="Cancel directly at ADAPTER:VENUE (e.g. fake:demo), no run dir")
    ] = None,
    mode: Annotated[
        str, typer.Option("--mode", help="With --venue: whose credentials (live, canary, testnet = sandbox)")
    ] = Mode.LIVE.value,
    timeout_secs: Annotated[float, typer.Option("--timeout-secs", help="Wait this long for none to remain")] = 10.0,
) -> None:
    """Cancel livegate's open orders (RUN_DIR) or every order at a venue (--venue); wait until none remain.

    With RUN_DIR, orders livegate did not make are left open, as a halt leaves them;
    --venue cancels every open order of the account (docs/recovery.md).

    Works in any trading state. Exit 0 when no open order remains, 3 when some do after
    the timeout, 2 when refused (no such run, run in use, credentials missing).
    """
    if (run_dir is None) == (venue is None):
        fail(ConfigError("give either RUN_DIR or --venue ADAPTER:VENUE"))
    if mode not in _VENUE_MODES:
        fail(ConfigError(f"--mode {mode!r}: one of {', '.join(_VENUE_MODES)}"))
    try:
        if run_dir is not None:
            remaining = asyncio.run(_cancel_run(run_dir, timeout_secs))
        else:
            target = str(venue)
            result = asyncio.run(cancel_all_venue(target, Mode(mode), os.environ, timeout_secs=timeout_secs))
            typer.echo(f"{target}: {result.found} open order(s) found, {result.cancelled} cancel(s) sent")
            remaining = result.remaining
    except (ConfigError, DataError, LedgerError) as exc:
        fail(exc)
    typer.echo(f"open orders left: {remaining}")
    raise typer.Exit(0 if remaining == 0 else 3)


async def _cancel_run(run_dir: Path, timeout_secs: float) -> int:
    run = await open_run(run_dir, os.environ, purpose="cancel-all")
    try:
        if run.venue is None:
            typer.echo(f"{run_dir}: a {run.mode.value} run keeps no orders at a venue")
            return 0
        return await cancel_all_run(run, os.environ, timeout_secs=timeout_secs)
    finally:
        await run.aclose()
