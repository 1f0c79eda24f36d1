"""Issue 11 must-show on a paced paper replay: the HTTP API served by ``livegate run --http`` (a subprocess).

The replay is cut from the bundled sample (:mod:`tests.api.sessions`): trades only for
its first 3 s, then quotes, then 14 s without a quote while trades go on (a stale feed),
paced at real time. The strategy buys once at market and keeps one bid resting, so there
is a position and an open order to see, and a stream of intents after a kill.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from livegate.api.auth import http_token_path
from tests.api.helpers import (
    Answer,
    TmuxPane,
    chromium_binary,
    chromium_dump_dom,
    free_port,
    metric_families,
    post,
    request,
    wait_up,
)
from tests.api.sessions import buy_and_rest_profile, crafted_replay
from tests.integration.helpers import clean_env
from tests.integration.session_helpers import (
    LIVEGATE,
    approved,
    cli,
    paper_open_orders,
    read_ledger,
    start_run,
    stop,
)
from tests.metrics.helpers import REQUIRED, exported_name


def _quotes(families: dict[str, Any]) -> float:
    """Return the session's processed-quote count from a scrape."""
    family = families["livegate_market_events"]
    return next(s.value for s in family.samples if s.name.endswith("_total") and s.labels.get("kind") == "quote")


def _status(base: str) -> dict[str, Any]:
    answer = request(f"{base}/status")
    assert answer.status == 200
    data: dict[str, Any] = answer.json()
    return data


def _wait_answer(base: str, path: str, check: Callable[[Answer], Any], timeout_secs: float, what: str) -> Answer:
    deadline = time.monotonic() + timeout_secs
    while True:
        answer = request(base + path)
        if check(answer):
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_secs} s waiting for {what}; last: {answer.body[-500:]!r}")
        time.sleep(0.05)


@dataclass
class Session:
    """A ``livegate run --http`` subprocess and what a test needs to reach it."""

    env: dict[str, str]
    run_dir: Path
    base: str
    process: subprocess.Popen[str]
    token: str


def _start(tmp_path: Path) -> Session:
    env, run_dir = clean_env(tmp_path), tmp_path / "run"
    made = cli(["http", "token", "init"], env, tmp_path)
    assert made.returncode == 0, made.stderr
    token = http_token_path(tmp_path / "state").read_text().strip()
    assert token not in made.stdout + made.stderr
    quotes, trades = crafted_replay(tmp_path)
    profile = buy_and_rest_profile(tmp_path)
    port = free_port()
    args = ["--realtime", "1", "--profile", str(profile), "--quotes", str(quotes), "--trades", str(trades)]
    process = start_run([*args, "--out", str(run_dir), "--http", f"127.0.0.1:{port}"], env, tmp_path)
    return Session(env, run_dir, f"http://127.0.0.1:{port}", process, token)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux absent (Debian package `tmux`; .ci/run installs it)")
def test_http_api_when_paced_replay_then_every_endpoint_ready_probe_and_token_guarded_kill(tmp_path: Path) -> None:
    session = _start(tmp_path)
    env, run_dir, base, process, token = session.env, session.run_dir, session.base, session.process, session.token
    pane: TmuxPane | None = None
    try:
        wait_up(base, 60, process)
        first = request(f"{base}/ready")  # trades only so far: no quote yet
        assert first.status == 503 and "BTCUSDT: no quote yet" in first.json()["reasons"], first.body
        pane = TmuxPane(f"livegate-watch-{tmp_path.name}", [LIVEGATE, "watch", str(run_dir)], env)
        health = request(f"{base}/health")
        assert health.status == 200 and health.json()["healthy"] is True
        _wait_answer(base, "/ready", lambda a: a.status == 200, 15, "/ready 200 once quotes flow")
        _wait_answer(base, "/status", lambda a: a.json()["positions"] and a.json()["open_orders"], 15,
                     "a position and a resting order")  # fmt: skip

        status = _status(base)
        assert status["running"] is True and status["trading_state"]["state"] == "active"
        caps = {c["name"]: c for c in status["caps"]}
        assert caps["max_gross_notional_usd"]["limit"] == "5000" and caps["max_open_orders"]["used"] >= 1
        assert status["positions"][0]["quantity"] == "0.002"

        scrape = metric_families(request(f"{base}/metrics").body.decode())
        time.sleep(1.2)
        later = metric_families(request(f"{base}/metrics").body.decode())
        states = {s.labels["state"]: s.value for s in scrape["livegate_trading_state"].samples}
        assert states == {"active": 1.0, "reducing": 0.0, "halted": 0.0}
        # the session's own registry (issue 11 item 2): every metric served live, the quote count moving
        served = {exported_name(family) for family in scrape.values()}
        assert [name for name in REQUIRED if name not in served] == []
        quotes_before = _quotes(scrape)
        assert _quotes(later) > quotes_before > 0  # moving

        config = request(f"{base}/config")
        assert config.status == 200
        assert config.json()["config_resolved"]["config"]["http"]["bind"] == base.removeprefix("http://")
        assert config.json()["build_info"]["livegate_version"]
        page = request(f"{base}/")
        assert page.status == 200 and page.headers["content-type"].startswith("text/html")
        assert b"<h1>ACTIVE</h1>" in page.body

        pane.wait_for("ACTIVE", 20)

        assert post(f"{base}/kill", {"reason": "no token"}, None).status == 401
        assert post(f"{base}/kill", {"reason": "wrong token"}, token[::-1]).status == 401
        assert _status(base)["trading_state"]["state"] == "active"
        killed = post(f"{base}/kill", {"reason": "operator stop via api"}, token)
        assert killed.status == 200, killed.body
        assert killed.json()["state"] == "halted" and killed.json()["open_orders"] == 0
        after = _status(base)
        assert after["trading_state"] == {**after["trading_state"], "state": "halted",
                                          "reason": "operator stop via api", "source": "http:kill"}  # fmt: skip
        assert after["open_orders_count"] == 0 and after["open_orders"] == []
        screen = pane.wait_for("HALTED", 10)
        assert "operator stop via api" in screen and "BTCUSDT" in screen

        time.sleep(1.0)  # the replay goes on and the strategy keeps asking: nothing may be approved
        stale = _wait_answer(base, "/ready", lambda a: any("stale feed" in r for r in a.json()["reasons"]), 20,
                             "/ready to name the stale feed")  # fmt: skip
        assert stale.status == 503
        assert any(r.startswith("trading state HALTED") for r in stale.json()["reasons"])
        for answer in (request(f"{base}{p}") for p in ("/status", "/config", "/", "/metrics", "/health")):
            assert token.encode() not in answer.body
        code, err = stop(process)
    finally:
        process.kill()
        if pane is not None:
            pane.close()
    assert code == 3, err[-3000:]
    events = read_ledger(run_dir)
    actions = [e for e in events if e.kind == "operator_action"]
    assert [(a.payload["action"], a.payload["reason"], a.payload["source"]) for a in actions] == [
        ("kill", "operator stop via api", "http")
    ]
    halted = next(e for e in events if e.kind == "trading_state_changed" and e.payload["source"] == "http:kill")
    assert halted.payload["reason"] == "operator stop via api"
    assert all(e.seq < halted.seq for e in approved(events))
    denied_after = [e for e in events if e.kind == "decision" and e.seq > halted.seq]
    assert denied_after and all(e.payload["code"] == "HALTED" for e in denied_after)
    assert paper_open_orders(run_dir) == 0
    final = json.loads((run_dir / "status.json").read_text())
    assert final["running"] is False and final["trading_state"]["state"] == "halted"


@pytest.mark.slow
@pytest.mark.skipif(chromium_binary() is None, reason="headless Chromium absent (Debian package `chromium`)")
def test_status_page_when_rendered_by_headless_chromium_then_shows_state_position_and_halted_reason(
    tmp_path: Path,
) -> None:
    session = _start(tmp_path)
    base, process, token = session.base, session.process, session.token
    try:
        wait_up(base, 60, process)
        _wait_answer(base, "/status", lambda a: a.json()["positions"], 20, "a position")
        active = chromium_dump_dom(f"{base}/", tmp_path / "chromium-1")
        assert "<h1>ACTIVE</h1>" in active and "BTCUSDT" in active and "0.002" in active
        assert post(f"{base}/kill", {"reason": "page check"}, token).status == 200
        halted = chromium_dump_dom(f"{base}/", tmp_path / "chromium-2")
        code, err = stop(process)
    finally:
        process.kill()
    assert '<header class="halted" id="trading-state"><h1>HALTED</h1><p>page check' in halted
    assert 'id="positions"' in halted and "0.002" in halted
    assert code == 3, err[-3000:]
