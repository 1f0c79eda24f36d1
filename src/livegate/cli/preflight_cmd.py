"""``livegate preflight``: one ``PASS|WARN|FAIL <check>: <detail>`` line per check, an artifact, exit 0 or 2."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer

from livegate.config.live_models import run_overrides
from livegate.config.loader import ResolvedConfig, load_config
from livegate.config.paths import state_dir
from livegate.domain.enums import Mode
from livegate.domain.errors import ConfigError
from livegate.modes.live_gate import is_real_venue_name
from livegate.modes.resolve import resolve_mode
from livegate.ops.preflight import PreflightInputs, run_preflight, write_artifact


def register(app: typer.Typer) -> None:
    """Add ``preflight`` to ``app``."""
    app.command("preflight")(preflight_command)


def preflight_command(
    profile: Annotated[str | None, typer.Option(help="TOML profile file or packaged profile name")] = None,
    mode: Annotated[str | None, typer.Option(help="Mode to check for: shadow|paper|testnet|canary|live")] = None,
    venue: Annotated[str | None, typer.Option(help="Real venue <adapter>:<venue>, as given to livegate run")] = None,
    symbol: Annotated[list[str] | None, typer.Option("--symbol", help="Symbol (repeatable), as given to run")] = None,
    strategy: Annotated[str | None, typer.Option(help="Strategy, as given to livegate run")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed, as given to livegate run")] = None,
    runs: Annotated[Path, typer.Option(help="Directory of run directories (last ledger check)")] = Path("runs"),
) -> None:
    """Check this machine, config and venue before a session; exit 0 when nothing failed, 2 otherwise.

    Give the same profile and overrides as the ``livegate run`` that follows: the artifact
    carries the config hash, and the live gate accepts it only for the same configuration.
    """
    env = os.environ
    resolved: ResolvedConfig | None = None
    error = ""
    run_mode = Mode.PAPER
    try:
        cli = run_overrides(seed=seed, strategy=strategy, venue=venue, symbols=list(symbol or ()))
        resolved = load_config(profile, env, cli)
        real = is_real_venue_name(resolved.config.venue.name)
        run_mode = resolve_mode(mode, env, resolved.config.mode, real_venue_configured=real).mode
    except ConfigError as exc:
        error = str(exc)
        if mode and mode.lower() in {m.value for m in Mode}:
            run_mode = Mode(mode.lower())
    directory = state_dir(env)
    inputs = PreflightInputs(
        resolved=resolved, mode=run_mode, env=env, state_dir=directory, config_error=error, runs_root=runs
    )
    artifact = asyncio.run(run_preflight(inputs))
    for check in artifact.checks:
        typer.echo(check.line())
    path = write_artifact(directory, artifact)
    if path is None:
        typer.echo(f"{artifact.status} preflight (mode {run_mode.value}): artifact not written, {directory} unusable")
    else:
        typer.echo(f"{artifact.status} preflight (mode {run_mode.value}): artifact {path}")
    raise typer.Exit(0 if artifact.passed else 2)
