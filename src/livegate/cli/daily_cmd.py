"""``livegate daily``: the daily maintenance workflow (docs/daily.md); exit 0 green, 2 preflight failed, 3 not green."""

from __future__ import annotations

import datetime as dt
import logging
import os
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from livegate.cli.exits import fail
from livegate.config.loader import load_config
from livegate.config.paths import state_dir
from livegate.control.faults import TestHooks, installed_hooks
from livegate.domain.clock import wall_time_ms
from livegate.domain.errors import ConfigError
from livegate.modes.live_gate import is_real_venue_name
from livegate.ops.daily import DailyOptions, DailyOutcome, run_daily, slippage_limit
from livegate.ops.daily_steps import SubprocessRunner


def register(app: typer.Typer) -> None:
    """Add ``daily`` to ``app``."""
    app.command("daily")(daily_command)


def _now() -> dt.datetime:
    return dt.datetime.fromtimestamp(wall_time_ms() / 1000, tz=dt.UTC)


def daily_command(
    symbols: Annotated[
        str | None, typer.Option(help="Comma-separated symbols of the canary shadow session (default: the profile's)")
    ] = None,
    minutes: Annotated[float, typer.Option(help="Length of the canary shadow session, minutes")] = 10.0,
    skip_paper: Annotated[bool, typer.Option("--skip-paper", help="Do not run the paper session")] = False,
    skip_canary: Annotated[bool, typer.Option("--skip-canary", help="Do not run the canary shadow session")] = False,
    keep_days: Annotated[int, typer.Option(help="Remove runs, daily directories and logs older than DAYS")] = 14,
    runs_dir: Annotated[Path, typer.Option(help="Where daily directories are written and cleaned")] = Path("runs"),
    profile: Annotated[str | None, typer.Option(help="TOML profile file or packaged profile name")] = None,
    venue: Annotated[
        str | None, typer.Option(help="Real venue <adapter>:<venue> for the canary shadow (default: the profile's)")
    ] = None,
    slippage_margin_bps: Annotated[
        float, typer.Option(help=r"Green when median fill slippage <= \[paper] slippage_bps + this, bps")
    ] = 5.0,
) -> None:
    """Preflight, paper session, canary shadow on real quotes, rollup, validation, housekeeping, summary alert.

    Offline (no venue configured) it runs the paper session on the bundled sample and skips
    the canary. Writes RUNS_DIR/daily-<UTC time>/ with the sessions, rollup.csv,
    rollup.json, report.html and daily_summary.json. Exit 0 all green; 2 preflight failed;
    3 not green (anomalies, drift, slippage beyond the limit, a fallback, a failed session).
    """
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    env = os.environ
    try:
        if minutes <= 0 or keep_days < 0 or slippage_margin_bps < 0:
            raise ConfigError("--minutes must be > 0, --keep-days and --slippage-margin-bps >= 0")
        resolved = load_config(profile, env, {})
        configured = venue or resolved.config.venue.name
        real_venue = configured if is_real_venue_name(configured) else None
        limit = slippage_limit(resolved.config.paper.slippage_bps, Decimal(str(slippage_margin_bps)))
        _prepare_state_dir(state_dir(env))
        options = DailyOptions(
            runs_dir=runs_dir,
            symbols=tuple(s.strip().upper() for s in (symbols or "").split(",") if s.strip()),
            minutes=minutes,
            skip_paper=skip_paper,
            skip_canary=skip_canary,
            keep_days=keep_days,
            profile=profile,
            venue=real_venue,
            slippage_limit_bps=limit,
            alerts=resolved.config.alerts,
        )
        runner = SubprocessRunner(with_test_hooks=installed_hooks() != TestHooks(), env=env)
        outcome = run_daily(options, runner, _now)
    except (ConfigError, ValueError, OSError) as exc:
        fail(exc)
    _print(outcome)
    raise typer.Exit(outcome.exit_code)


def _prepare_state_dir(directory: Path) -> None:
    """Create the state dir (mode 0700) when missing, as ``livegate arm init`` would, without a live token."""
    if not directory.exists():
        directory.mkdir(mode=0o700, parents=True)


def _print(outcome: DailyOutcome) -> None:
    console = Console(soft_wrap=True)
    for step in outcome.steps:
        console.print(f"{step.status.value.upper():4} {step.name}: {step.detail}", markup=False)
    for criterion in outcome.criteria:
        console.print(f"{'GREEN' if criterion.ok else 'RED':5} {criterion.name}: {criterion.detail}", markup=False)
    verdict = {0: "all green", 2: "preflight failed", 3: "not green"}.get(outcome.exit_code, "")
    console.print(f"daily: {verdict} (exit {outcome.exit_code}); {outcome.daily_dir}", markup=False)
