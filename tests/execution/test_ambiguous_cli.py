"""End to end: an order whose answer was lost is never resent; unresolved it moves trading to REDUCING (§3b).

``livegate run`` in live mode as a subprocess against the fake venue with the faults
``unknown_after_accept:1`` (the venue takes the first order, then answers 503 -1007) and
``lookup_lag`` (lookups by client order id do not see it). The ledger must show one
``submit_requested`` per client order id, no resend, the ``ambiguous_submit`` anomaly, and
after ``[execution] ambiguous_timeout_secs`` of session time the ``ambiguous_unresolved``
anomaly with the trading state REDUCING.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

from livegate.control.faults import VENUE_FAULT_ENV
from livegate.domain.enums import Mode
from tests.modes.live_helpers import PROFILE, armed_setup, subprocess_env
from tests.runtime.helpers import ledger_events


def test_cli_when_first_submit_answer_lost_and_lookups_lag_then_never_resent_and_reducing(tmp_path: Path) -> None:
    # the market maker quotes once per side and never requotes, so nothing but venue truth can settle the order
    profile = PROFILE.replace("requote_interval_ms = 0", "requote_interval_ms = 100000000")
    # the stream is paced at 1,000 events/s (1.5 s of wall time); the session timer looks the
    # order up every 50 ms and gives up after 0.3 s
    profile += (
        "\n[execution]\nambiguous_timeout_secs = 0.3\n\n[telemetry]\nheartbeat_interval_ms = 50\n"
        "\n[session]\ntimer_interval_ms = 50\n"
    )
    setup = armed_setup(tmp_path, mode=Mode.LIVE, profile_text=profile)
    env = subprocess_env({**setup.env, VENUE_FAULT_ENV: "unknown_after_accept:1,lookup_lag,pace:1000"})
    run = subprocess.run(
        [sys.executable, "-m", "livegate.testing", "run", "--mode", "live", "--enable-live",
         "--profile", str(setup.profile), "--out", str(tmp_path / "run"), "--no-progress", "--max-events", "1500"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert run.returncode == 3, run.stderr  # completed with anomalies
    events = ledger_events(tmp_path / "run")
    requested = Counter(str(p["client_order_id"]) for kind, p in events if kind == "submit_requested")
    assert requested and max(requested.values()) == 1, "one submit per client order id"
    anomalies = [(str(p["kind"]), str(p["detail"])) for kind, p in events if kind == "anomaly"]
    kinds = [k for k, _ in anomalies]
    assert "resend_after_lookup" not in kinds
    first_cid = next(iter(requested))
    assert any(k == "ambiguous_submit" and d.startswith(f"{first_cid}: -1007") for k, d in anomalies), anomalies
    assert any(k == "ambiguous_unresolved" and d.startswith(first_cid) for k, d in anomalies), anomalies
    states = [p["state"] for kind, p in events if kind == "trading_state_changed"]
    assert "reducing" in states, states
    reports = [p for kind, p in events if kind == "order_report" and p.get("client_order_id") == first_cid]
    assert all(p["status"] != "rejected" for p in reports), "an order of unknown outcome is never marked rejected"
