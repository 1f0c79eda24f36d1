"""Issue 9 §10: ``livegate flatten`` and ``livegate cancel-all`` work in an emergency (CLI end to end).

Checked at the venue afterwards: the paper venue's own store (positions, open orders) and
the run's ledger (fills sum to a flat position; the flatten decisions).
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from tests.modes.live_helpers import BOGUS_KEY, BOGUS_SECRET
from tests.runtime.helpers import ledger_events

LIVEGATE = str(Path(sys.executable).with_name("livegate"))
OPEN = ("new", "accepted", "partially_filled", "cancel_pending")

# A market maker under tight caps: 1 order/s, duplicates 5 s, 26 orders a day (all used by
# the end of the run), 1,000 USD per order, so the closing order must be split.
TIGHT_PROFILE = """seed = 7
[strategy]
spec = "livegate.strategy.examples.market_maker:MarketMaker"
[strategy.params]
quantity = "0.01"
max_position = "0.5"
half_spread_bps = "0.5"
requote_interval_ms = 300
[risk]
max_order_notional_usd = 1000
max_symbol_notional_usd = 40000
max_gross_notional_usd = 40000
max_order_rate_per_sec = 1
duplicate_window_ms = 5000
max_orders_per_day = 26
"""


def cli(args: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LIVEGATE, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)


def venue_positions(run_dir: Path) -> dict[str, Decimal]:
    with sqlite3.connect(f"file:{run_dir / 'paper_venue.sqlite'}?mode=ro", uri=True) as conn:
        return {s: Decimal(q) for s, q in conn.execute("SELECT symbol, quantity FROM positions")}


def venue_open_orders(run_dir: Path) -> int:
    marks = ",".join("?" * len(OPEN))
    with sqlite3.connect(f"file:{run_dir / 'paper_venue.sqlite'}?mode=ro", uri=True) as conn:
        return int(conn.execute(f"SELECT COUNT(*) FROM orders WHERE status IN ({marks})", OPEN).fetchone()[0])


def ledger_positions(run_dir: Path) -> dict[str, Decimal]:
    """Return the signed position per symbol summed from the ledger's fills (base units)."""
    positions: dict[str, Decimal] = defaultdict(Decimal)
    for kind, p in ledger_events(run_dir):
        if kind == "fill":
            quantity = Decimal(str(p["quantity"]))
            positions[str(p["symbol"])] += quantity if p["side"] == "buy" else -quantity
    return dict(positions)


@pytest.fixture
def default_run(bundled_paper_run: Path) -> Path:
    """The default market-maker run on the bundled sample (``livegate run`` with no data options); copy to change."""
    return bundled_paper_run


def test_flatten_when_default_market_maker_run_and_halted_then_flat_at_venue_and_in_ledger(
    default_run: Path, tmp_path: Path, clean_env: dict[str, str]
) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(default_run, run_dir)
    assert any(q != 0 for q in venue_positions(run_dir).values()), "the run should end with a position"
    assert cli(["kill", "--reason", "emergency drill"], clean_env).returncode == 0
    done = cli(["flatten", str(run_dir)], clean_env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "flat after" in done.stdout
    assert all(q == 0 for q in venue_positions(run_dir).values())
    assert venue_open_orders(run_dir) == 0
    assert all(q == 0 for q in ledger_positions(run_dir).values())
    assert cli(["reconcile", str(run_dir)], clean_env).returncode == 0
    assert cli(["ledger", "verify", str(run_dir)], clean_env).returncode == 0


def test_cancel_all_when_run_has_resting_orders_then_zero_open_orders_at_venue(
    default_run: Path, tmp_path: Path, clean_env: dict[str, str]
) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(default_run, run_dir)
    assert venue_open_orders(run_dir) > 0, "the run should end with resting orders"
    done = cli(["cancel-all", str(run_dir)], clean_env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "open orders left: 0" in done.stdout
    assert venue_open_orders(run_dir) == 0
    cancels = [p for kind, p in ledger_events(run_dir) if kind == "cancel_requested"]
    assert cancels, "the cancels are recorded in the run's ledger"


def test_flatten_when_caps_used_up_and_position_above_order_cap_then_split_exempt_and_flat(
    slice_30s: tuple[Path, Path], tmp_path: Path, clean_env: dict[str, str]
) -> None:
    quotes, trades = slice_30s
    profile = tmp_path / "tight.toml"
    profile.write_text(TIGHT_PROFILE, encoding="utf-8")
    run_dir = tmp_path / "run"
    argv = ["run", "--no-progress", "--profile", str(profile), "--quotes", str(quotes), "--trades", str(trades)]
    assert cli([*argv, "--out", str(run_dir)], clean_env).returncode in (0, 3)
    before = sum(1 for kind, p in ledger_events(run_dir) if kind == "decision" and p["approved"])
    assert before == 26  # the day's order count is used up
    position = venue_positions(run_dir)["BTCUSDT"]
    assert abs(position) * 55_000 > 1000  # more than one order's cap to close
    done = cli(["flatten", str(run_dir)], clean_env)
    assert done.returncode == 0, done.stdout + done.stderr
    events = ledger_events(run_dir)
    intents = {str(p["client_order_id"]): p for kind, p in events if kind == "intent" and p.get("flatten")}
    decisions = [p for kind, p in events if kind == "decision" and str(p["client_order_id"]) in intents]
    assert len(decisions) >= 2, "split to the per-order cap"
    assert all(p["approved"] for p in decisions), [p["code"] for p in decisions]  # not rate, count or duplicate
    assert all(p["reduce_only"] and p["strategy_id"] == "livegate-flatten" for p in intents.values())
    assert sum(Decimal(str(p["quantity"])) for p in intents.values()) == abs(position)
    assert venue_positions(run_dir)["BTCUSDT"] == 0


def test_cancel_all_when_direct_at_fake_venue_then_zero_open_orders(clean_env: dict[str, str]) -> None:
    env = {**clean_env, "LIVEGATE_FAKE_API_KEY": BOGUS_KEY, "LIVEGATE_FAKE_API_SECRET": BOGUS_SECRET}
    done = cli(["cancel-all", "--venue", "fake:demo"], env)
    assert done.returncode == 0, done.stderr
    assert "open orders left: 0" in done.stdout
    refused = cli(["cancel-all", "--venue", "fake:demo"], clean_env)  # no credentials: refused, named
    assert refused.returncode == 2
    assert "LIVEGATE_FAKE_API_KEY" in refused.stderr


def test_flatten_when_direct_at_fake_venue_then_audited_run_dir_and_refused_without_credentials(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    env = {**clean_env, "LIVEGATE_FAKE_API_KEY": BOGUS_KEY, "LIVEGATE_FAKE_API_SECRET": BOGUS_SECRET}
    out = tmp_path / "flatten-run"
    done = cli(["flatten", "--venue", "fake:demo", "--out", str(out)], env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "flat after" in done.stdout
    kinds = [kind for kind, _ in ledger_events(out)]
    assert kinds == ["session_started", "reconciled", "session_ended"]  # nothing held: read, recorded, done
    assert cli(["ledger", "verify", str(out)], env).returncode == 0
    assert cli(["flatten", "--venue", "fake:demo", "--out", str(out)], env).returncode == 2  # never reuses a run
    refused = cli(["flatten", "--venue", "fake:demo", "--out", str(tmp_path / "other")], clean_env)
    assert refused.returncode == 2
    assert "LIVEGATE_FAKE_API_KEY" in refused.stderr
    assert not (tmp_path / "other").exists()
    both = cli(["flatten", str(out), "--venue", "fake:demo"], env)
    assert both.returncode == 2 and "either RUN_DIR or --venue" in both.stderr
