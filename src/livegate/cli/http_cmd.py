"""``livegate http token init``: the bearer token of the operator HTTP API (docs/operations.md)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from livegate.api.auth import create_http_token, http_token_path
from livegate.config.paths import state_dir

app = typer.Typer(help="The operator HTTP API of a running session (docs/operations.md).", no_args_is_help=True)
token_app = typer.Typer(help="The API's bearer token (a 0600 file in the state dir).", no_args_is_help=True)
app.add_typer(token_app, name="token")


@token_app.command("init")
def token_init_command(
    force: Annotated[bool, typer.Option("--force", help="Replace an existing token (rotates it)")] = False,
) -> None:
    """Create a random API token file (mode 0600) in the state dir; print how to use it (never the token)."""
    directory = state_dir(os.environ)
    try:
        path = create_http_token(directory, force=force)
    except FileExistsError:
        typer.echo(
            f"token file {http_token_path(directory)} exists; keep it, or rotate with: livegate http token init --force"
        )
        raise typer.Exit(1) from None
    except OSError as exc:
        typer.echo(f"cannot create the token file in {directory}: {exc.strerror}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"token file: {path} (mode 0600)")
    typer.echo("every POST of the API needs it (a running session reads it when its API starts):")
    typer.echo(f'  curl -H "Authorization: Bearer $(cat {path})" ...')
