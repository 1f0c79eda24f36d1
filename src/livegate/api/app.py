"""The FastAPI app of the operator HTTP API (docs/operations.md lists every endpoint).

``GET /health``, ``/ready``, ``/metrics``, ``/config``, ``/status`` and ``/`` read; ``POST
/kill``, ``/rearm``, ``/cancel-all`` and ``/flatten`` act, each with a JSON body
``{"reason": "..."}``. Every POST passes two checks before its body is even parsed, in
an ASGI middleware: ``Authorization: Bearer <token>`` compared in constant time (401
otherwise), and the body size (413 beyond ``[http] max_body_bytes``); a malformed body
is then answered 422 by FastAPI's validation. No interactive docs are served (they load
scripts from a CDN) and no response carries a secret. Every route is a coroutine, so it
runs on the session's event loop thread and reads the session between two loop steps.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pydantic import BaseModel, ConfigDict, Field, field_validator

from livegate.api.actions import ActionOutcome
from livegate.api.auth import BearerToken
from livegate.api.page import render_status_page
from livegate.api.snapshot import LoopFacts, health_reasons
from livegate.domain.alerts import AlertHealth

__all__ = ["ActionBody", "KillBody", "OperatorBackend", "create_app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]
#: Longest accepted ``reason`` (characters).
MAX_REASON_CHARS = 500


class OperatorBackend(Protocol):
    """What the app reads from and does to the running session (:class:`livegate.api.views.OperatorViews`)."""

    def loop_facts(self) -> LoopFacts:
        """Return the loop's liveness facts."""

    def status(self) -> dict[str, Any]:
        """Return the status snapshot."""

    def ready_reasons(self) -> list[str]:
        """Return why the session is not ready (empty: ready)."""

    def config(self) -> dict[str, Any]:
        """Return ``config_resolved.json`` and ``build_info.json``, secrets redacted."""

    async def kill(self, reason: str, actor: str, *, reducing: bool) -> ActionOutcome:
        """Latch HALTED (REDUCING)."""

    async def rearm(self, reason: str, actor: str) -> ActionOutcome:
        """Return to ACTIVE or refuse."""

    async def cancel_all(self, reason: str, actor: str) -> ActionOutcome:
        """Cancel every open order."""

    async def flatten(self, reason: str, actor: str) -> ActionOutcome:
        """Start closing every position."""


class ActionBody(BaseModel):
    """Body of every POST: why (recorded in the ledger)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str = Field(min_length=1, max_length=MAX_REASON_CHARS)

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("reason must not be blank")
        return value.strip()


class KillBody(ActionBody):
    """Body of ``POST /kill``: ``reducing`` true latches REDUCING instead of HALTED."""

    reducing: bool = False


def _json_error(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


class _PostGuard:
    """ASGI middleware: bearer token (401), then body size (413), for every POST; the body is replayed."""

    def __init__(self, app: Asgi, token: BearerToken, max_body_bytes: int) -> None:
        self._app = app
        self._token = token
        self._max = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self._app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if not self._token.matches(headers.get("authorization")):
            denied = _json_error(401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})
            await denied(scope, receive, send)
            return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max:
            await _json_error(413, f"body larger than {self._max} bytes")(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self._max:
                await _json_error(413, f"body larger than {self._max} bytes")(scope, receive, send)
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self._app(scope, replay, send)


def _actor(request: Request) -> str:
    client = request.client
    return f"http {client.host}" if client is not None else "http"


def _outcome(outcome: ActionOutcome) -> JSONResponse:
    return JSONResponse(outcome.to_record(), status_code=200 if outcome.ok or not outcome.refused else 409)


def create_app(
    backend: OperatorBackend,
    *,
    registry: CollectorRegistry,
    token: BearerToken,
    max_body_bytes: int,
    alert_health: Callable[[], AlertHealth] | None = None,
) -> Any:
    """Return the ASGI app: the FastAPI routes behind the POST guard.

    Parameters
    ----------
    backend:
        The running session's views and actions.
    registry:
        The session's Prometheus registry (``GET /metrics``; never the global one).
    token:
        The API token (``livegate http token init``).
    max_body_bytes:
        ``[http] max_body_bytes``: larger POST bodies are answered 413.
    alert_health:
        Alert delivery health for ``/health`` (None: the session has no alert dispatcher).
    """
    app = FastAPI(title="livegate", docs_url=None, redoc_url=None, openapi_url=None)

    def alerts() -> AlertHealth | None:
        return alert_health() if alert_health is not None else None

    @app.get("/health")
    async def health() -> JSONResponse:
        loop = backend.loop_facts()
        reasons = health_reasons(loop, alerts())
        body = {
            "healthy": not reasons,
            "reasons": reasons,
            "last_tick_age_secs": round(loop.last_tick_age_secs, 3),
            "loop_lag_secs": round(loop.loop_lag_secs, 4),
        }
        return JSONResponse(body, status_code=200 if not reasons else 503)

    @app.get("/ready")
    async def ready() -> JSONResponse:
        reasons = backend.ready_reasons()
        return JSONResponse({"ready": not reasons, "reasons": reasons}, status_code=200 if not reasons else 503)

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/config")
    async def config() -> JSONResponse:
        return JSONResponse(backend.config())

    @app.get("/status")
    async def status() -> JSONResponse:
        return JSONResponse(backend.status())

    @app.get("/", response_class=HTMLResponse)
    async def page() -> HTMLResponse:
        return HTMLResponse(render_status_page(backend.status()), headers={"Cache-Control": "no-store"})

    @app.post("/kill")
    async def kill(body: KillBody, request: Request) -> JSONResponse:
        return _outcome(await backend.kill(body.reason, _actor(request), reducing=body.reducing))

    @app.post("/rearm")
    async def rearm(body: ActionBody, request: Request) -> JSONResponse:
        return _outcome(await backend.rearm(body.reason, _actor(request)))

    @app.post("/cancel-all")
    async def cancel_all(body: ActionBody, request: Request) -> JSONResponse:
        return _outcome(await backend.cancel_all(body.reason, _actor(request)))

    @app.post("/flatten")
    async def flatten(body: ActionBody, request: Request) -> JSONResponse:
        return _outcome(await backend.flatten(body.reason, _actor(request)))

    return _PostGuard(app, token, max_body_bytes)
