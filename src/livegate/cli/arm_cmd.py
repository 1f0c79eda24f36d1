"""``livegate arm init``: create the state dir and the live confirm token file (0600)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from livegate.config.paths import state_dir
from livegate.config.secret_files import create_secret_file
from livegate.modes.live_gate import TOKEN_ENV
from livegate.modes.preflight_artifact import token_path

app = typer.Typer(help="Live arming: the confirm token of docs/architecture.md §3.3.", no_args_is_help=True)

#: Random bytes in a token (256 bits, URL-safe base64).
TOKEN_BYTES = 32


def create_token_file(directory: Path, *, force: bool) -> Path:
    """Create ``directory`` (0700) and a fresh random token file (0600) in it; return its path.

    Raises
    ------
    FileExistsError
        If a token file exists and ``force`` is false.
    """
    return create_secret_file(token_path(directory), nbytes=TOKEN_BYTES, force=force)


@app.command("init")
def init_command(
    force: Annotated[bool, typer.Option("--force", help="Replace an existing token (rotates it)")] = False,
) -> None:
    """Create the state dir and a random live token file (mode 0600); print how to export it."""
    directory = state_dir(os.environ)
    try:
        path = create_token_file(directory, force=force)
    except FileExistsError:
        typer.echo(f"token file {token_path(directory)} exists; keep it, or rotate with: livegate arm init --force")
        raise typer.Exit(1) from None
    except OSError as exc:
        typer.echo(f"cannot create the token file in {directory}: {exc.strerror}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"state dir: {directory} (mode 0700)")
    typer.echo(f"token file: {path} (mode 0600)")
    typer.echo("arm a live start in this shell with (the token is read from the file, never printed):")
    typer.echo(f'  export {TOKEN_ENV}="$(cat {path})"')
