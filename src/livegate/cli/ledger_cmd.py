"""``livegate ledger verify|export``."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from livegate.config.paths import state_dir
from livegate.domain.errors import DataError
from livegate.ledger.anchor import anchor_path, read_anchor
from livegate.ledger.export import write_export
from livegate.ledger.verify import verify_ledger

app = typer.Typer(help="Verify or export a run's write-ahead ledger.", no_args_is_help=True)


def _ledger_path(run_dir: Path) -> Path:
    path = run_dir / "ledger.sqlite" if run_dir.is_dir() else run_dir
    if not path.is_file():
        typer.echo(f"error: no ledger at {path}", err=True)
        raise typer.Exit(2)
    return path


@app.command("verify")
def verify(run_dir: Annotated[Path, typer.Argument(help="Run directory (or ledger.sqlite)")]) -> None:
    """Recompute the hash chain and compare the head with its anchor in the state dir.

    Exit 0 when both hold; 1 naming the first bad event, or ``truncated`` / ``rewritten``
    when the ledger disagrees with the head anchored in ``LIVEGATE_STATE_DIR``/anchors;
    2 when the ledger or the anchor cannot be read.
    """
    path = _ledger_path(run_dir)
    where = anchor_path(state_dir(os.environ), path.parent)
    try:
        anchor = read_anchor(where)
        result = verify_ledger(path, anchor=anchor)
    except (DataError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if result.ok:
        note = f"anchored at seq {anchor.seq} in {where}" if anchor is not None else f"no anchor at {where}"
        typer.echo(f"ok: {result.events} events, head {result.head_hash} ({note})")
        raise typer.Exit(0)
    if result.verdict in ("truncated", "rewritten"):
        typer.echo(f"FAIL: {result.reason} (anchor {where})")
    else:
        typer.echo(f"FAIL: first bad event seq={result.first_bad_seq}: {result.reason}")
    raise typer.Exit(1)


@app.command("export")
def export(
    run_dir: Annotated[Path, typer.Argument(help="Run directory (or ledger.sqlite)")],
    kind: Annotated[str, typer.Option(help="orders|fills|events")] = "fills",
    fmt: Annotated[str, typer.Option("--format", help="csv|jsonl")] = "csv",
) -> None:
    """Write orders, fills or raw events to stdout as CSV or JSON lines."""
    if kind not in ("orders", "fills", "events") or fmt not in ("csv", "jsonl"):
        typer.echo("error: --kind must be orders|fills|events and --format csv|jsonl", err=True)
        raise typer.Exit(2)
    path = _ledger_path(run_dir)
    write_export(path, kind, fmt, sys.stdout)  # type: ignore[arg-type]
