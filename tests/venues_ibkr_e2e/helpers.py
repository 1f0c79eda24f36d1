"""Arm a machine for an ``ibkr:paper`` / ``ibkr:live`` session against the TWS emulator and run the CLI."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from livegate.cli.arm_cmd import create_token_file
from tests.arming import preflight_in_process
from tests.integration.helpers import base_env
from tests.run_dir_helpers import explain, finish, ledger_events, summary, wait_until  # noqa: F401 (re-exported)

LIVEGATE = [sys.executable, "-m", "livegate"]
STRATEGY = Path(__file__).with_name("equity_strategy.py")
SYMBOL = "AAPL"

PROFILE = """
seed = 7

[venue]
name = "{venue}"
symbols = ["{symbol}"]
port = {port}
client_id = {client_id}
timeout_ms = 1500
{venue_extra}

[strategy]
spec = "{strategy}"

[strategy.params]
{params}

[risk]
max_order_notional_usd = 1000
max_symbol_notional_usd = 5000
max_gross_notional_usd = 5000
max_daily_turnover_usd = 100000
daily_loss_limit_usd = 500

[canary]
size_multiplier = 1.0
live_fraction = 1.0
max_live_notional_usd_per_day = 5000
{extra}
"""

REST_AND_TAKE = 'quantity = "1"\ntake_every = 20\nmax_position = "3"'


@dataclass
class Armed:
    """Paths and environment of a machine armed to trade the TWS emulator."""

    root: Path
    profile: Path
    env: dict[str, str]
    venue: str


def arm(
    root: Path,
    port: int,
    *,
    venue: str = "ibkr:paper",
    client_id: int = 11,
    params: str = REST_AND_TAKE,
    strategy: str = f"{STRATEGY}:RestAndTake",
    venue_extra: str = "",
    extra: str = "",
    symbol: str = SYMBOL,
) -> Armed:
    """Write the profile and the confirm token; IBKR needs no credentials (TWS holds the login)."""
    state = root / "state"
    token = create_token_file(state, force=False).read_text(encoding="utf-8").strip()
    profile = root / "ibkr.toml"
    text = PROFILE.format(
        venue=venue,
        symbol=symbol,
        port=port,
        client_id=client_id,
        strategy=strategy,
        params=params,
        venue_extra=venue_extra,
        extra=extra,
    )
    profile.write_text(text, encoding="utf-8")
    env = base_env()
    env.update({"LIVEGATE_STATE_DIR": str(state), "LIVEGATE_LIVE_ENABLE": "1", "LIVEGATE_LIVE_CONFIRM_TOKEN": token})
    return Armed(root, profile, env, venue)


def cli(armed: Armed, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """Run ``livegate ARGS`` with the armed environment (never raises on the exit code)."""
    return subprocess.run(
        [*LIVEGATE, *args], cwd=armed.root, env=armed.env, capture_output=True, text=True, timeout=timeout, check=False
    )


def preflight(armed: Armed, mode: str) -> subprocess.CompletedProcess[str]:
    """Run ``livegate preflight`` for ``mode`` (writes the artifact the live gate needs)."""
    return cli(armed, "preflight", "--profile", str(armed.profile), "--mode", mode, "--runs", str(armed.root / "runs"))


def write_preflight(armed: Armed, mode: str) -> None:
    """Write the artifact :func:`preflight` writes, in-process (tests/arming.py); fail the test unless it passed."""
    preflight_in_process(armed.profile, armed.env, mode, armed.root / "runs")


def run_args(armed: Armed, mode: str, out: Path, max_events: int, *extra: str) -> list[str]:
    """Return the argument list of one armed ``livegate run``."""
    return [
        *LIVEGATE,
        "run",
        "--profile",
        str(armed.profile),
        "--mode",
        mode,
        "--enable-live",
        "--no-progress",
        "--max-events",
        str(max_events),
        "--out",
        str(out),
        *extra,
    ]


def run(armed: Armed, mode: str, out: Path, max_events: int, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run one armed session of ``max_events`` market-data events into ``out``."""
    args = run_args(armed, mode, out, max_events, *extra)
    return subprocess.run(args, cwd=armed.root, env=armed.env, capture_output=True, text=True, timeout=120, check=False)


def start_run(
    armed: Armed,
    mode: str,
    out: Path,
    max_events: int,
    *extra: str,
    script: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    """Start one armed session and return at once (inject faults, kill, SIGKILL while it trades).

    ``script``: run ``python SCRIPT run ...`` instead of ``python -m livegate run ...`` (a
    test's CLI wrapper that injects a fault, e.g. tests/venues_ibkr_e2e/connect_fault_cli.py);
    ``env``: variables added to the armed environment.
    """
    args = run_args(armed, mode, out, max_events, *extra)
    if script is not None:
        args = [sys.executable, str(script), *args[len(LIVEGATE) :]]
    return subprocess.Popen(
        args,
        cwd=armed.root,
        env={**armed.env, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def session_refs(out: Path) -> set[str]:
    """Return the client order ids the run in ``out`` asked the venue for."""
    return {str(p["client_order_id"]) for k, p in ledger_events(out) if k == "submit_requested"}


def ledger_fill_ids(out: Path) -> list[str]:
    """Return the venue fill ids recorded in the run's ledger, in order."""
    return [str(p["fill_id"]) for k, p in ledger_events(out) if k == "fill"]
