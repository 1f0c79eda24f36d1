"""``livegate report``: rebuild a run's report.html, or one page over several runs (docs/daily.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from livegate.cli.exits import fail
from livegate.domain.errors import ConfigError, DataError
from livegate.ops.report import write_run_report
from livegate.ops.report_rollup import resolve_report_inputs, write_rollup_report
from livegate.ops.rollup_read import LEDGER_FILE


def register(app: typer.Typer) -> None:
    """Add ``report`` to ``app``."""
    app.command("report")(report_command)


def default_report_path(inputs: list[Path]) -> Path:
    """Return where the page goes without ``--out``.

    One run directory: its ``report.html``. One directory of runs: ``DIR/rollup_report.html``.
    A rollup JSON file: ``rollup_report.html`` beside it. Anything else: ``./rollup_report.html``.
    """
    if len(inputs) == 1:
        item = inputs[0]
        if item.is_dir() and (item / LEDGER_FILE).is_file():
            return item / "report.html"
        if item.is_dir():
            return item / "rollup_report.html"
        return item.parent / "rollup_report.html"
    return Path("rollup_report.html")


def report_command(
    inputs: Annotated[list[Path], typer.Argument(help="Run directories, a directory of runs, or a rollup .json")],
    out: Annotated[Path | None, typer.Option(help="Write the page to FILE (default: see --help text)")] = None,
) -> None:
    """Write a self-contained HTML report (no network; inline SVG charts; relative links).

    One run directory: its report.html is rebuilt from the ledger. Several runs, a
    directory of runs or a rollup JSON file (``livegate rollup --out x.json``): one page with
    the rollup, its charts and links to each run's report (written when missing), by
    default DIR/rollup_report.html. Exit 0; 2 on bad input.
    """
    target = out or default_report_path(inputs)
    try:
        single = len(inputs) == 1 and inputs[0].is_dir() and (inputs[0] / LEDGER_FILE).is_file()
        if single and out is None:
            run_dir = inputs[0]
            try:
                summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                summary = {}
            write_run_report(run_dir, summary if isinstance(summary, dict) else {})
        else:
            write_rollup_report(resolve_report_inputs(inputs), target)
    except (ConfigError, DataError, OSError) as exc:
        fail(exc)
    typer.echo(f"report written: {target}")
