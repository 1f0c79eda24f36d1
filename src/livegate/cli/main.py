"""The ``livegate`` command: one typer app; each command group lives in its own module."""

from __future__ import annotations

import typer

from livegate.cli import ledger_cmd, run_cmd, telemetry_cmd

app = typer.Typer(
    name="livegate",
    help="Safety-first runtime between a trading strategy and the venues.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
run_cmd.register(app)
telemetry_cmd.register(app)
app.add_typer(ledger_cmd.app, name="ledger")


def main() -> None:
    """Entry point for ``python -m livegate``."""
    app()
