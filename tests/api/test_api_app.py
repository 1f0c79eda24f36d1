"""The API app behind a real uvicorn server on loopback, in the test's event loop, with a fake session.

The fake backend records every action it is asked for, so each test says exactly what
reached the session: nothing without the right token, nothing with a bad body.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge

from livegate.api.actions import ActionOutcome
from livegate.api.app import create_app
from livegate.api.auth import BearerToken
from livegate.api.server import ApiServer, bind_socket
from livegate.api.snapshot import LoopFacts
from livegate.domain.alerts import AlertHealth
from livegate.domain.errors import ConfigError
from tests.api.helpers import Answer, metric_families, request

TOKEN = "t0ken-for-tests-only"


@dataclass
class FakeBackend:
    """A session stand-in: fixed facts, and a list of the actions it was asked for."""

    tick_age_secs: float = 0.1
    not_ready: list[str] = field(default_factory=list)
    calls: list[tuple[str, str, bool]] = field(default_factory=list)
    rearm_blockers: list[str] = field(default_factory=list)

    def loop_facts(self) -> LoopFacts:
        return LoopFacts(
            running=True, last_tick_age_secs=self.tick_age_secs, loop_lag_secs=0.001, uptime_secs=3.0,
            stall_limit_secs=5.0,
        )  # fmt: skip

    def status(self) -> dict[str, Any]:
        return {"trading_state": {"state": "active"}}

    def ready_reasons(self) -> list[str]:
        return list(self.not_ready)

    def config(self) -> dict[str, Any]:
        return {"config_resolved": {"config": {"seed": 0}}, "build_info": {"livegate_version": "x"}}

    async def kill(self, reason: str, actor: str, *, reducing: bool) -> ActionOutcome:
        self.calls.append(("kill", reason, reducing))
        return ActionOutcome("kill", True, {"state": "reducing" if reducing else "halted"})

    async def rearm(self, reason: str, actor: str) -> ActionOutcome:
        self.calls.append(("rearm", reason, False))
        if self.rearm_blockers:
            return ActionOutcome("rearm", False, {}, list(self.rearm_blockers))
        return ActionOutcome("rearm", True, {"state": "active"})

    async def cancel_all(self, reason: str, actor: str) -> ActionOutcome:
        self.calls.append(("cancel-all", reason, False))
        return ActionOutcome("cancel-all", True, {"open_orders_left": 0})

    async def flatten(self, reason: str, actor: str) -> ActionOutcome:
        self.calls.append(("flatten", reason, False))
        return ActionOutcome("flatten", True, {"started": True})


@dataclass
class Served:
    base: str
    backend: FakeBackend
    alerts: list[AlertHealth]

    async def get(self, path: str) -> Answer:
        return await asyncio.to_thread(request, self.base + path)

    async def post(self, path: str, body: bytes, token: str | None = TOKEN) -> Answer:
        return await asyncio.to_thread(request, self.base + path, method="POST", body=body, token=token)


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    backend = FakeBackend()
    alerts = [AlertHealth(3, 0, 0, None, False)]
    registry = CollectorRegistry()
    Gauge("livegate_test_gauge_usd", "a gauge of this registry only", registry=registry).set(7)
    app = create_app(
        backend, registry=registry, token=BearerToken(TOKEN), max_body_bytes=256, alert_health=lambda: alerts[-1]
    )
    server = ApiServer(app, bind_socket("127.0.0.1:0"))
    await server.start()
    try:
        yield Served(server.url, backend, alerts)
    finally:
        await server.stop()


async def test_post_when_token_missing_or_wrong_then_401_and_nothing_reaches_the_session(served: Served) -> None:
    body = json.dumps({"reason": "stop"}).encode()
    for path in ("/kill", "/rearm", "/cancel-all", "/flatten"):
        missing = await served.post(path, body, token=None)
        wrong = await served.post(path, body, token=TOKEN + "x")
        assert (missing.status, wrong.status) == (401, 401)
        assert missing.headers["www-authenticate"] == "Bearer"
    assert served.backend.calls == []


async def test_post_when_right_token_then_each_action_reaches_the_session_with_its_reason(served: Served) -> None:
    kill = await served.post("/kill", b'{"reason": "operator stop", "reducing": true}')
    assert kill.status == 200 and kill.json()["state"] == "reducing"
    for path in ("/rearm", "/cancel-all", "/flatten"):
        answer = await served.post(path, json.dumps({"reason": f"why {path}"}).encode())
        assert answer.status == 200 and answer.json()["ok"] is True
    assert served.backend.calls == [
        ("kill", "operator stop", True),
        ("rearm", "why /rearm", False),
        ("cancel-all", "why /cancel-all", False),
        ("flatten", "why /flatten", False),
    ]


@pytest.mark.parametrize(
    "body",
    [b'{"reason": ', b"{}", b'{"reason": ""}', b'{"reason": "   "}', b'{"reason": 5}', b'{"reason": "x", "extra": 1}'],
)
async def test_post_when_body_malformed_then_422_and_nothing_done(served: Served, body: bytes) -> None:
    answer = await served.post("/kill", body)
    assert answer.status == 422
    assert served.backend.calls == []


async def test_post_when_body_beyond_limit_then_413_and_nothing_done(served: Served) -> None:
    answer = await served.post("/kill", json.dumps({"reason": "x" * 400}).encode())
    assert answer.status == 413
    assert served.backend.calls == []


async def test_rearm_when_refused_then_409_names_every_blocker(served: Served) -> None:
    served.backend.rearm_blockers = ["the KILL file exists", "trigger daily_loss still holds"]
    answer = await served.post("/rearm", b'{"reason": "try"}')
    assert answer.status == 409
    assert answer.json()["refused"] == ["the KILL file exists", "trigger daily_loss still holds"]


async def test_health_when_timer_stalls_or_alerts_fail_then_503_with_reasons(served: Served) -> None:
    ok = await served.get("/health")
    assert ok.status == 200 and ok.json()["healthy"] is True
    served.backend.tick_age_secs = 7.5
    stalled = await served.get("/health")
    assert stalled.status == 503
    assert stalled.json()["reasons"] == ["session loop stalled: last timer tick 7.5 s ago > limit 5.0 s"]
    served.backend.tick_age_secs = 0.1
    served.alerts.append(AlertHealth(3, 2, 0, "ntfy: connection refused", True))
    failing = await served.get("/health")
    assert failing.status == 503 and failing.json()["reasons"] == ["alert delivery failing: ntfy: connection refused"]


async def test_ready_when_reasons_then_503_listing_them_else_200(served: Served) -> None:
    assert (await served.get("/ready")).status == 200
    served.backend.not_ready = ["BTCUSDT: no quote yet"]
    answer = await served.get("/ready")
    assert answer.status == 503 and answer.json() == {"ready": False, "reasons": ["BTCUSDT: no quote yet"]}


async def test_metrics_when_scraped_then_the_given_registry_in_prometheus_text(served: Served) -> None:
    answer = await served.get("/metrics")
    assert answer.status == 200 and answer.headers["content-type"] == CONTENT_TYPE_LATEST
    families = metric_families(answer.body.decode())
    assert families["livegate_test_gauge_usd"].samples[0].value == 7
    assert "python_gc_objects_collected" not in families  # not the global default registry


async def test_reads_when_docs_paths_asked_then_404_no_cdn_pages(served: Served) -> None:
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert (await served.get(path)).status == 404
    assert (await served.get("/config")).json()["build_info"] == {"livegate_version": "x"}


async def test_bind_socket_when_port_in_use_then_config_error_names_the_address() -> None:
    first = bind_socket("127.0.0.1:0")
    try:
        port = first.getsockname()[1]
        with pytest.raises(ConfigError, match=f"127.0.0.1:{port}"):
            bind_socket(f"127.0.0.1:{port}")
    finally:
        first.close()
