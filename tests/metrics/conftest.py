"""One paper replay through the CLI whose ``metrics.prom`` several metrics tests read."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from livegate.runtime.session import bundled_sample
from livegate.testing.crash_harness import HARNESS_PROFILE, hooked_exe, write_slice
from tests.integration.helpers import base_env

#: The harness market maker (fills in parts) with every trading-day cap set, so each budget gauge moves,
#: and at most one working order, so the open-orders cap denies.
PAPER_PROFILE = (
    HARNESS_PROFILE
    + """
[risk]
max_open_orders = 1
max_orders_per_day = 5000
max_daily_turnover_usd = 2000000
daily_loss_limit_usd = 5000
max_drawdown_usd = 5000

[reconcile]
interval_secs = 5
on_drift = "reducing"
"""
)


@pytest.fixture(scope="session")
def paper_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run 30 s of the bundled sample in paper at 10 x real time, a position moved behind livegate's back at 12 s.

    Returns the run directory (exit code 3: the drift is an anomaly).
    """
    root = tmp_path_factory.mktemp("metrics-paper")
    quotes, trades = write_slice(*bundled_sample(), root, 30)
    profile = root / "paper.toml"
    profile.write_text(PAPER_PROFILE, encoding="utf-8")
    run_dir = root / "run"
    env = base_env()
    env.update(LIVEGATE_STATE_DIR=str(root / "state"), LIVEGATE_TEST_DRIFT="12:BTCUSDT:0.3")
    argv = [*hooked_exe(), "run", "--no-progress", "--profile", str(profile), "--quotes", str(quotes)]
    argv += ["--trades", str(trades), "--out", str(run_dir), "--realtime", "10"]  # paced: the timer ticks
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 3, done.stderr[-3000:]
    return run_dir
