"""The ``livegate`` command: one typer app; each command group lives in its own module."""

from __future__ import annotations

from typing import Annotated

import typer

from livegate.cli import (
    arm_cmd,
    cancel_all_cmd,
    compare_cmd,
    flatten_cmd,
    kill_cmd,
    ledger_cmd,
    preflight_cmd,
    reconcile_cmd,
    run_cmd,
    telemetry_cmd,
    venues_cmd,
)
from livegate.runtime.artifacts import build_identity

app = typer.Typer(
    name="livegate",
    help="Safety-first runtime between a trading strategy and the venues.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(build_identity().describe())
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the version and the git commit it was built from, then exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Safety-first runtime between a trading strategy and the venues."""


run_cmd.register(app)
kill_cmd.register(app)
telemetry_cmd.register(app)
app.add_typer(ledger_cmd.app, name="ledger")
preflight_cmd.register(app)
app.add_typer(arm_cmd.app, name="arm")
reconcile_cmd.register(app)
flatten_cmd.register(app)
cancel_all_cmd.register(app)
venues_cmd.register(app)
compare_cmd.register(app)


def main() -> None:
    """Entry point for ``python -m livegate``."""
    app()
