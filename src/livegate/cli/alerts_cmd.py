"""``livegate alerts test``: send one alert to the configured destinations, now (docs/alerts.md)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from livegate.alerts.catalog import probe_alert
from livegate.alerts.model import AlertSeverity
from livegate.alerts.send import send_now
from livegate.config.loader import load_config
from livegate.domain.errors import ConfigError

app = typer.Typer(help="Alert destinations (the profile's alerts section or LIVEGATE_ALERTS__*).", no_args_is_help=True)


@app.command("test")
def test_command(
    severity: Annotated[
        AlertSeverity, typer.Option(case_sensitive=False, help="Severity: routes the alert like a real one")
    ] = AlertSeverity.INFO,
    profile: Annotated[str | None, typer.Option(help="TOML profile file or packaged profile name")] = None,
    message: Annotated[str, typer.Option(help="Text of the test alert")] = "livegate alerts test",
) -> None:
    """Send one test alert to the destinations of SEVERITY; exit 0 when every one took it, 1 when one failed.

    Exit 2 when the configuration is invalid or no destination receives that severity.
    """
    try:
        config = load_config(profile, os.environ).config.alerts
        report = send_now(config, probe_alert(severity, message))
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if not report.results:
        sev = severity.value
        typer.echo(f"error: no alert destination receives {sev.upper()} ([alerts] urls, {sev}_urls)")
        raise typer.Exit(2)
    for name, error in report.results:
        typer.echo(f"OK   {name}" if error is None else f"FAIL {error}")
    delivered = sum(1 for _, error in report.results if error is None)
    typer.echo(f"{delivered}/{len(report.results)} destination(s) took the {severity.value.upper()} test alert")
    raise typer.Exit(0 if report.delivered else 1)
