"""How CLI commands give up: one ``error:`` line on stderr (never wrapped) and an exit code."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

__all__ = ["fail"]


def fail(exc: Exception, code: int = 2) -> NoReturn:
    """Print ``error: <exc>`` on stderr and exit with ``code`` (2: refused, bad input)."""
    Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {escape(str(exc))}")
    raise typer.Exit(code) from exc
