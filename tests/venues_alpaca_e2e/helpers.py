"""Arm a machine for an ``alpaca:paper`` / ``alpaca:live`` session against the Alpaca emulator and run the CLI."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from livegate.cli.arm_cmd import create_token_file
from tests.alpaca_emulator import API_KEY, API_SECRET, AlpacaEmulator
from tests.arming import preflight_in_process
from tests.integration.helpers import base_env
from tests.run_dir_helpers import finish, ledger_events, summary, wait_until  # noqa: F401 (re-exported)

LIVEGATE = [sys.executable, "-m", "livegate"]
STRATEGY = f"{Path(__file__).with_name('strategies.py')}:RestingBuyer"

PROFILE = """
seed = 7

[venue]
name = "{venue}"
symbols = [{symbols}]
rest_url = "{rest_url}"
ws_url = "{ws_url}"
timeout_ms = {timeout_ms}

[alpaca]
feed = "{feed}"

[strategy]
spec = "{strategy}"

[strategy.params]
{params}

[tripwires]
max_quote_age_ms = 1500
max_spread_bps = 50

[risk]
max_order_notional_usd = 2000
max_symbol_notional_usd = 5000
max_gross_notional_usd = 5000
max_daily_turnover_usd = 100000
daily_loss_limit_usd = 500

[canary]
size_multiplier = 1.0
live_fraction = 1.0
max_live_notional_usd_per_day = 5000
"""


@dataclass
class Armed:
    """Paths and environment of a machine armed to trade the emulator."""

    root: Path
    profile: Path
    env: dict[str, str]


def arm(
    root: Path,
    emulator: AlpacaEmulator,
    *,
    venue: str = "alpaca:paper",
    symbols: tuple[str, ...] = ("SPY",),
    params: str = 'quantity = "1"\noffset = "0.50"',
    feed: str = "iex",
    timeout_ms: int = 3000,
    apca_names: bool = False,
) -> Armed:
    """Write the profile, the confirm token and the keys (``LIVEGATE_ALPACA_*`` or alpaca-py's ``APCA_*``)."""
    state = root / "state"
    token = create_token_file(state, force=False).read_text(encoding="utf-8").strip()
    profile = root / "alpaca.toml"
    profile.write_text(
        PROFILE.format(
            venue=venue,
            symbols=", ".join(f'"{s}"' for s in symbols),
            rest_url=emulator.url,
            ws_url=emulator.ws_url,
            timeout_ms=timeout_ms,
            feed=feed,
            strategy=STRATEGY,
            params=params,
        ),
        encoding="utf-8",
    )
    env = {k: v for k, v in base_env().items() if not k.startswith("APCA_")}
    keys = (
        ("APCA_API_KEY_ID", "APCA_API_SECRET_KEY")
        if apca_names
        else ("LIVEGATE_ALPACA_API_KEY", "LIVEGATE_ALPACA_API_SECRET")
    )
    env.update(
        {
            "LIVEGATE_STATE_DIR": str(state),
            "LIVEGATE_LIVE_ENABLE": "1",
            "LIVEGATE_LIVE_CONFIRM_TOKEN": token,
            keys[0]: API_KEY,
            keys[1]: API_SECRET,
        }
    )
    return Armed(root, profile, env)


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
    """Return the ``livegate run`` command line of one armed session."""
    return [*LIVEGATE, "run", "--profile", str(armed.profile), "--mode", mode, "--enable-live", "--no-progress",
            "--max-events", str(max_events), "--out", str(out), *extra]  # fmt: skip


def run(armed: Armed, mode: str, out: Path, max_events: int, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run one armed session of ``max_events`` venue events into ``out``."""
    return subprocess.run(
        run_args(armed, mode, out, max_events, *extra),
        cwd=armed.root,
        env=armed.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def start_run(armed: Armed, mode: str, out: Path, max_events: int, *extra: str) -> subprocess.Popen[str]:
    """Start one armed session and return at once (act on it while it trades)."""
    return subprocess.Popen(
        run_args(armed, mode, out, max_events, *extra),
        cwd=armed.root,
        env=armed.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def ledger_fill_ids(out: Path) -> list[str]:
    """Return the venue fill ids the run's ledger holds, in order."""
    return [str(p["fill_id"]) for kind, p in ledger_events(out) if kind == "fill"]
