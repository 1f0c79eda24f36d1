"""Record a shadow session against the exchange emulator, replay it in paper, compare (issue 13 item 4).

The shadow session runs the ``livegate`` CLI as a subprocess with real, unmodified ccxt
pointed at the Binance spot emulator; it records what it saw into ``RUN_DIR/market/``.
The paper replay runs ``livegate run --quotes/--trades`` on those files with the same
profile (only the venue name differs: replayed ``binance`` data instead of the live
``ccxt:binance`` stream). A shadow session never fills, so the profile sets
``[paper] fill_mode = "none"``: the market maker's decisions then depend on the market
data alone and the replay must reproduce every one of them.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from livegate.marketdata.replay import load_replay
from tests.integration.helpers import base_env, livegate_in_process
from tests.venue_emulator import Kind
from tests.venue_emulator.fixtures import EmulatorThread

LIVEGATE = [sys.executable, "-m", "livegate"]

PROFILE = """
seed = 7

[venue]
name = "ccxt:binance"
symbols = ["BTC/USDT"]
rest_url = "{rest_url}"
ws_url = "{ws_url}"
timeout_ms = 3000

[strategy]
spec = "livegate.strategy.examples.market_maker:MarketMaker"

[strategy.params]
quantity = "0.002"
requote_interval_ms = 40
max_position = "1"

[paper]
fill_mode = "none"

# the shadow session judges quote age on wall time, its replay on event time: a loaded test
# machine can hold a burst of quotes back for over the default 1.5 s and deny them STALE_QUOTE
# in the shadow run only (a true difference compare would report); this test is about the data
[tripwires]
max_quote_age_ms = 30000

[instruments."BTC/USDT"]
tick_size = "0.01"
lot_size = "0.00001"
min_notional = "5"
min_quantity = "0.00001"
quote_currency = "USDT"
base_currency = "BTC"
"""


def _env(root: Path) -> dict[str, str]:
    env = base_env()
    env["LIVEGATE_STATE_DIR"] = str(root / "state")
    return env


def _livegate(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LIVEGATE, *args], cwd=root, env=env or _env(root), capture_output=True, text=True, timeout=120, check=False
    )


def _record_shadow(root: Path, venue: EmulatorThread) -> tuple[Path, Path]:
    profile = root / "shadow.toml"
    emu = venue.emulator
    profile.write_text(PROFILE.format(rest_url=emu.rest_url, ws_url=emu.ws_url), encoding="utf-8")
    shadow = root / "shadow"
    result = _livegate(
        root, "run", "--profile", str(profile), "--mode", "shadow", "--no-progress", "--max-events", "600",
        "--out", str(shadow),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "gate mode=shadow status=PASS" in result.stderr
    return profile, shadow


def _replay(root: Path, profile: Path, shadow: Path, out: Path, *extra_env: tuple[str, str]) -> None:
    env = _env(root)
    env.update(extra_env)
    result = _livegate(
        root, "run", "--profile", str(profile), "--venue", "binance", "--mode", "paper", "--no-progress",
        "--quotes", str(shadow / "market" / "quotes.csv.gz"), "--trades", str(shadow / "market" / "trades.csv.gz"),
        "--out", str(out), env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """Record one shadow session (600 market events) against a paced spot emulator; yield (profile, run dir)."""
    venue = EmulatorThread(Kind.SPOT, pace_ms=5, max_events=3000)
    try:
        yield _record_shadow(tmp_path_factory.mktemp("shadow"), venue)
    finally:
        venue.close()


def _compare(root: Path, a: Path, b: Path) -> tuple[int, dict[str, Any]]:
    result = livegate_in_process(["compare", str(a), str(b), "--json", "--limit", "1000"], root)
    assert result.returncode in (0, 3), result.stderr
    return result.returncode, json.loads(result.stdout)


def test_compare_when_paper_replays_a_recorded_shadow_session_then_zero_decision_differences(
    tmp_path: Path, recorded: tuple[Path, Path]
) -> None:
    profile, shadow = recorded

    # the recording holds every event the session processed, in the normalized format
    summary = json.loads((shadow / "summary.json").read_text(encoding="utf-8"))
    manifest = json.loads((shadow / "market" / "recording.json").read_text(encoding="utf-8"))
    assert manifest["quotes"] + manifest["trades"] == summary["quotes_processed"] + summary["trades_processed"] == 600
    assert manifest["symbols"] == ["BTC/USDT"]
    assert manifest["instruments"]["BTC/USDT"]["tick_size"] == "0.01"
    with gzip.open(shadow / "market" / "quotes.csv.gz", "rt", encoding="utf-8") as text:
        assert text.readline().strip() == "ts_recv_ns,ts_event_ms,symbol,bid_price,bid_size,ask_price,ask_size"
    data = load_replay(shadow / "market" / "quotes.csv.gz", shadow / "market" / "trades.csv.gz")
    assert data.bad_rows == []
    assert (data.quotes, data.trades) == (manifest["quotes"], manifest["trades"])

    replay = tmp_path / "replay"
    _replay(tmp_path, profile, shadow, replay)
    code, report = _compare(tmp_path, shadow, replay)

    assert summary["intents"] > 10, "the shadow session made too few decisions to compare"
    assert report["run_a"]["mode"] == "shadow" and report["run_b"]["mode"] == "paper"
    assert report["decision_differences"] == 0, report["decisions"][:5]
    assert report["matched_intents"] == summary["intents"] == report["run_b"]["intents"]
    assert report["run_a"]["approved"] == report["run_b"]["approved"]
    assert code == 0


def test_compare_when_the_replay_fills_then_decision_and_fill_differences_are_reported(
    tmp_path: Path, recorded: tuple[Path, Path]
) -> None:
    profile, shadow = recorded
    replay = tmp_path / "replay_filled"
    # the same data and profile, but the paper venue fills: the market maker's inventory and
    # working orders change, so its later decisions differ from the shadow session's
    _replay(tmp_path, profile, shadow, replay, ("LIVEGATE_PAPER__FILL_MODE", "always"))

    code, report = _compare(tmp_path, shadow, replay)

    assert code == 3
    assert report["run_a"]["fills"] == 0 and report["run_b"]["fills"] > 0
    assert report["run_a"]["fill_rate"] == "0.0000" and report["run_b"]["fill_rate"] != "0.0000"
    assert report["decision_differences"] > 0
    assert report["decision_differences"] == len(report["decisions"])
    kinds = {d["kind"] for d in report["decisions"]}
    assert kinds <= {"only_in_a", "only_in_b", "changed", "decision"}
    assert report["execution_differences"] > 0  # aligned intents filled in B only
    assert report["pnl_difference_usd"]["fees_usd"] != "0"

    text = livegate_in_process(["compare", str(shadow), str(replay)], tmp_path)
    assert text.returncode == 3
    assert f"decision differences: {report['decision_differences']}" in text.stdout
