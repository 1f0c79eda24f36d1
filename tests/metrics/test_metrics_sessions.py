"""Issue 11 item 2 must-show: a paper replay and a fake-venue session write ``metrics.prom`` with every metric moving.

Both sessions run the ``livegate`` CLI as a subprocess; the file is parsed with
prometheus-client's own parser (``text_string_to_metric_families``).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from livegate.control.faults import VENUE_FAULT_ENV
from livegate.domain.enums import Mode
from tests.integration.helpers import summary
from tests.metrics.helpers import REQUIRED, read_families, sample_names, total
from tests.modes.live_helpers import PROFILE, armed_setup, subprocess_env
from tests.runtime.helpers import ledger_events


def _no_created(path: Path) -> None:
    assert not [name for name in sample_names(path) if name.endswith("_created")]
    assert "_created" not in path.read_text(encoding="utf-8")


def test_paper_replay_when_session_ends_then_metrics_prom_has_every_metric_and_the_run_moves_them(
    paper_run: Path,
) -> None:
    path = paper_run / "metrics.prom"
    families = read_families(path)
    assert set(REQUIRED) <= set(families), sorted(set(REQUIRED) - set(families))
    _no_created(path)
    run = summary(paper_run)
    # the order path, counted as summary.json counts it
    assert total(families, "livegate_intents_total", venue="paper", symbol="BTCUSDT") == run["intents"] > 0
    assert total(families, "livegate_orders_submitted_total") == run["orders_submitted"] > 0
    assert total(families, "livegate_fills_total", liquidity="maker") == run["fills"] > 0
    for code, count in run["denied"].items():
        assert total(families, "livegate_denials_total", code=code) == count
    assert total(families, "livegate_denials_total", code="OPEN_ORDERS_CAP") > 0
    assert total(families, "livegate_order_submit_latency_seconds", "_count", venue="paper") == run["orders_submitted"]
    assert total(families, "livegate_order_submit_latency_seconds", "_sum") > 0
    # the drift injected at 12 s: periodic runs find the moved position, trading goes REDUCING
    assert total(families, "livegate_reconcile_runs_total", trigger="startup", outcome="clean") == 1
    assert total(families, "livegate_reconcile_runs_total", trigger="periodic", outcome="drift") > 0
    assert total(families, "livegate_reconcile_mismatches_total", kind="position_mismatch") > 0
    assert total(families, "livegate_trading_state", state="reducing") == 1
    assert total(families, "livegate_trading_state", state="active") == 0
    assert total(families, "livegate_denials_total", code="REDUCING") > 0
    # state gauges at the end equal the summary's numbers
    position = total(families, "livegate_position_notional_usd", symbol="BTCUSDT")
    assert position != 0 and total(families, "livegate_gross_exposure_usd") == abs(position)
    assert abs(total(families, "livegate_pnl_usd") - float(run["pnl_total_usd"])) < 1e-9
    assert total(families, "livegate_drawdown_usd") > 0
    assert total(families, "livegate_venue_healthy", venue="binanceusdm") == 1
    for cap in ("orders_per_day", "daily_turnover", "daily_loss", "drawdown"):
        assert 0 < total(families, "livegate_budget_usage_ratio", cap=cap) < 1, cap
    assert total(families, "livegate_budget_usage_ratio", cap="orders_per_day") == run["approved"] / 5000
    assert total(families, "livegate_loop_lag_seconds") > 0  # paced replay: the wall-clock timer ticked
    assert total(families, "livegate_market_events_total", kind="quote") == run["quotes_processed"]
    # no alert destination in a replay: the series exist at 0
    for severity in ("info", "warn", "crit"):
        assert total(families, "livegate_alerts_sent_total", severity=severity) == 0
        assert total(families, "livegate_alerts_failed_total", severity=severity) == 0


def test_fake_venue_session_when_an_answer_is_lost_then_metrics_show_ambiguous_error_reducing_and_latency(
    tmp_path: Path,
) -> None:
    profile = PROFILE.replace("requote_interval_ms = 0", "requote_interval_ms = 100000000")
    profile += (
        "\n[execution]\nambiguous_timeout_secs = 0.3\n\n[telemetry]\nheartbeat_interval_ms = 50\n"
        "\n[session]\ntimer_interval_ms = 50\n"
    )
    setup = armed_setup(tmp_path, mode=Mode.LIVE, profile_text=profile)
    env = subprocess_env({**setup.env, VENUE_FAULT_ENV: "unknown_after_accept:1,lookup_lag,pace:1000"})
    run_dir = tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-m", "livegate.testing", "run", "--mode", "live", "--enable-live",
         "--profile", str(setup.profile), "--out", str(run_dir), "--no-progress", "--max-events", "1500"],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    in_flight_seen = 0.0
    try:
        while process.poll() is None:  # metrics.prom is rewritten at each wall-clock heartbeat (50 ms here)
            if (run_dir / "metrics.prom").exists():
                live = read_families(run_dir / "metrics.prom")
                in_flight_seen = max(in_flight_seen, total(live, "livegate_ambiguous_orders_in_flight"))
            time.sleep(0.02)
        _, stderr = process.communicate(timeout=180)
    finally:
        process.kill()
    # the lost answer kept one order in flight while the session ran (lookups lag)
    assert in_flight_seen == 1
    assert process.returncode == 3, stderr[-3000:]
    path = run_dir / "metrics.prom"
    families = read_families(path)
    assert set(REQUIRED) <= set(families), sorted(set(REQUIRED) - set(families))
    _no_created(path)
    events = ledger_events(run_dir)
    submitted = sum(1 for kind, _ in events if kind == "submit_requested")
    assert total(families, "livegate_orders_submitted_total", venue="fake:demo", symbol="BTCUSDT") == submitted > 0
    assert total(families, "livegate_intents_total", venue="fake:demo") == summary(run_dir)["intents"]
    # the first submit's answer was lost (-1007): one ambiguous venue error, never a latency sample
    assert total(families, "livegate_venue_errors_total", venue="fake:demo", operation="submit") == 1
    assert total(families, "livegate_venue_errors_total", error_class="ambiguous") == 1
    assert total(families, "livegate_order_submit_latency_seconds", "_count", venue="fake:demo") == submitted - 1
    assert total(families, "livegate_anomalies_total", kind="ambiguous_submit") == 1
    # unresolved after ambiguous_timeout_secs it moved trading to REDUCING; the end's cancel-all settled it
    assert total(families, "livegate_ambiguous_orders_in_flight") == 0
    assert total(families, "livegate_trading_state", state="reducing") == 1
    assert total(families, "livegate_reconcile_runs_total", venue="fake:demo", trigger="startup") == 1
    assert total(families, "livegate_venue_healthy", venue="fake:demo") == 1
    assert total(families, "livegate_loop_lag_seconds") > 0
    assert total(families, "livegate_quote_age_seconds", symbol="BTCUSDT") >= 0
    assert total(families, "livegate_budget_usage_ratio", cap="daily_turnover") >= 0
    assert total(families, "livegate_session_info", mode="live") == 1
