"""How CLI commands give up: one ``error:`` line on stderr (never wrapped) and an exit code."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from livegate.domain.errors import ConfigError, DataError, LedgerError
from livegate.runtime.offline import OfflineRun, open_run

__all__ = ["fail", "open_run_or_exit"]


def fail(exc: Exception, code: int = 2) -> NoReturn:
    """Print ``error: <exc>`` on stderr and exit with ``code`` (2: refused, bad input)."""
    Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {escape(str(exc))}")
    raise typer.Exit(code) from exc


def open_run_or_exit(run_dir: Path) -> OfflineRun:
    """Open ``run_dir`` for ``livegate reconcile`` / ``livegate flatten``; exit 2 when it is not a paper run."""
    try:
        return open_run(run_dir)
    except (ConfigError, DataError, LedgerError) as exc:
        fail(exc)
