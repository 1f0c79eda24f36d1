"""``livegate check-telemetry FILE``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from livegate.telemetry.check import check_telemetry


def register(app: typer.Typer) -> None:
    """Add ``check-telemetry`` to ``app``."""
    app.command("check-telemetry")(check_telemetry_command)


def check_telemetry_command(path: Annotated[Path, typer.Argument(help="telemetry.jsonl file")]) -> None:
    """Validate a telemetry file against the shipped JSON Schema: exit 0 valid, 1 violation, 2 missing."""
    result = check_telemetry(path)
    for error in result.errors:
        typer.echo(error)
    if result.code == 0:
        typer.echo(f"ok: {result.lines} lines valid (schema_version 1)")
    raise typer.Exit(result.code)
