"""Issue 11 must-show against a venue: the HTTP API of an armed ``livegate run --mode live`` on the fake venue.

The session runs as a subprocess on a fully armed machine (its own state dir, tokens,
preflight), its market data paced at 100 events a second and silent after 1,500 events
(a stale feed). The fake venue writes its book when the session closes it, so the test
checks the venue's own open orders after the process ended.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from livegate.api.auth import create_http_token
from livegate.control.faults import VENUE_FAULT_ENV
from livegate.domain.enums import Mode
from tests.api.helpers import free_port, metric_families, post, request, wait_up
from tests.integration.session_helpers import approved, cli, read_ledger, start_run, stop, wait_for
from tests.modes.live_helpers import BOGUS_KEY, BOGUS_SECRET, armed_setup, subprocess_env
from tests.runtime.test_session_operator_venue_cli import live_args, venue_book


def _ready(base: str) -> bool:
    return request(f"{base}/ready").status == 200


def _stale(base: str) -> bool:
    return any("stale feed" in reason for reason in request(f"{base}/ready").json()["reasons"])


@pytest.mark.slow
def test_http_api_when_live_fake_venue_session_then_endpoints_actions_and_venue_left_without_orders(
    tmp_path: Path,
) -> None:
    setup = armed_setup(tmp_path, mode=Mode.LIVE)
    token = create_http_token(setup.state_dir, force=False).read_text().strip()
    book, run_dir, port = tmp_path / "book.json", tmp_path / "run", free_port()
    base = f"http://127.0.0.1:{port}"
    env = subprocess_env({**setup.env, VENUE_FAULT_ENV: f"pace:100,silent:1500,book_file:{book}"})
    process = start_run([*live_args(setup.profile, run_dir), "--http", f"127.0.0.1:{port}"], env, tmp_path)
    secrets = [token, BOGUS_KEY, BOGUS_SECRET, setup.env["LIVEGATE_LIVE_CONFIRM_TOKEN"]]
    try:
        wait_up(base, 60, process)
        wait_for(lambda: _ready(base), 30, "/ready 200: fresh quotes, venue healthy and reconciled, ACTIVE")
        wait_for(lambda: len(approved(read_ledger(run_dir))) >= 3, 60, "approved orders at the venue")
        status = request(f"{base}/status").json()
        assert status["session"]["mode"] == "live" and status["trading_state"]["state"] == "active"
        assert status["venues"] == [{"venue": "fake:demo", "health": "healthy", "reason": ""}]
        assert request(f"{base}/health").json()["healthy"] is True
        families = metric_families(request(f"{base}/metrics").body.decode())
        assert {s.labels["state"]: s.value for s in families["livegate_trading_state"].samples}["active"] == 1.0
        page = request(f"{base}/")
        assert page.status == 200 and b"<h1>ACTIVE</h1>" in page.body
        config = request(f"{base}/config")
        assert config.json()["config_resolved"]["config"]["venue"]["name"] == "fake:demo"
        for answer in (config, page, request(f"{base}/status"), request(f"{base}/metrics")):
            assert not any(secret.encode() in answer.body for secret in secrets)

        watched = cli(["watch", "--url", base, "--once"], env, tmp_path)
        assert watched.returncode == 0 and "ACTIVE" in watched.stdout and "fake:demo" in watched.stdout, watched.stderr

        cancelled = post(f"{base}/cancel-all", {"reason": "clear the book"}, token)
        assert cancelled.status == 200 and cancelled.json()["open_orders_left"] == 0, cancelled.body
        flatten = post(f"{base}/flatten", {"reason": "flat before the kill"}, token)
        assert flatten.status == 200 and flatten.json()["started"] is True

        assert post(f"{base}/kill", {"reason": "no token"}, None).status == 401
        assert post(f"{base}/kill", {"reason": "wrong"}, token + "0").status == 401
        assert request(f"{base}/status").json()["trading_state"]["state"] == "active"
        killed = post(f"{base}/kill", {"reason": "operator stop via api"}, token)
        assert killed.status == 200 and killed.json()["state"] == "halted" and killed.json()["open_orders"] == 0
        time.sleep(1.2)  # the stream goes on: nothing more may be approved
        assert request(f"{base}/status").json()["open_orders_count"] == 0

        rearmed = post(f"{base}/rearm", {"reason": "checked, resume"}, token)
        assert rearmed.status == 200 and rearmed.json()["state"] == "active", rearmed.body
        wait_for(lambda: _stale(base), 40, "/ready to name the stale feed once the stream is silent")
        assert request(f"{base}/ready").status == 503
        assert request(f"{base}/health").status == 200  # the feed is silent, but the loop ticks
        code, err = stop(process)
    finally:
        process.kill()
    assert code == 3, err[-3000:]
    events = read_ledger(run_dir)
    actions = [(e.payload["action"], e.payload["reason"], e.payload["source"]) for e in events
               if e.kind == "operator_action"]  # fmt: skip
    assert actions == [
        ("cancel-all", "clear the book", "http"),
        ("flatten", "flat before the kill", "http"),
        ("kill", "operator stop via api", "http"),
        ("rearm", "checked, resume", "http"),
    ]
    assert any(
        e.kind == "cancel_requested" and e.payload["reason"] == "operator cancel-all (http): clear the book"
        for e in events
    )
    halted = next(e for e in events if e.kind == "trading_state_changed" and e.payload["source"] == "http:kill")
    active = next(e for e in events if e.kind == "trading_state_changed" and e.payload["source"] == "http:rearm")
    assert active.seq > halted.seq and active.payload["reason"] == "checked, resume"
    kill_wall_ms = killed_wall_ms(setup.state_dir)
    assert [e for e in approved(events) if halted.seq < e.seq < active.seq] == []
    assert [e for e in approved(events) if e.ts_ms > kill_wall_ms + 1000 and e.seq < active.seq] == []
    assert venue_book(book)["open_orders"] == []


def killed_wall_ms(state_dir: Path) -> int:
    """Return the wall time (ms) of the API's kill in the state dir's history."""
    history = json.loads((state_dir / "trading_state.json").read_text())["history"]
    (kill,) = [h for h in history if h.get("source") == "http:kill"]
    return int(kill["ts_ms"])
