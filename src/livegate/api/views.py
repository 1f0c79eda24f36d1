"""The operator's views of a running session: ``RUN_DIR/status.json`` every second, and the HTTP API.

Built once per session by the composition root (:class:`livegate.runtime.core.SessionCore`):

1. :meth:`OperatorViews.prepare` (before trading): with ``[http] bind`` set, read the API
   token (``livegate http token init``) and bind the socket — a missing token, a busy
   port or a refused address stops the start (exit 2);
2. :meth:`OperatorViews.start` (the session loop starts): a one-second task writes the
   status snapshot atomically to ``RUN_DIR/status.json`` (so ``livegate watch RUN_DIR``
   works without HTTP) and measures the event loop's lag; the API server starts;
3. :meth:`OperatorViews.stop` (the session ended): the server stops and a last snapshot
   with ``running: false`` is written.

The API (``fastapi``, ``uvicorn``: extra ``livegate[http]``) is imported only when it is
enabled, so a base install runs sessions and writes ``status.json`` without it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry

from livegate.api.snapshot import LoopFacts, build_status, ready_reasons
from livegate.config.paths import state_dir
from livegate.domain.alerts import AlertHealth
from livegate.domain.clock import monotonic_secs, wall_time_ms
from livegate.domain.errors import ConfigError

if TYPE_CHECKING:
    from livegate.api.actions import ActionOutcome, SessionActions
    from livegate.api.server import ApiServer
    from livegate.runtime.core import SessionCore

__all__ = ["STATUS_FILE", "STATUS_INTERVAL_SECS", "OperatorViews"]

log = logging.getLogger("livegate")

#: The snapshot file in the run directory.
STATUS_FILE = "status.json"
#: Seconds between two snapshots (and two loop-lag measurements).
STATUS_INTERVAL_SECS = 1.0


class OperatorViews:
    """``status.json`` and the HTTP API of one session (see the module docstring).

    Parameters
    ----------
    core:
        The session.
    alert_health:
        Alert delivery health (None: the session has no alert dispatcher).
    registry:
        The session's Prometheus registry (:class:`livegate.telemetry.metrics.SessionMetrics`), served
        by ``GET /metrics``.
    """

    def __init__(
        self,
        core: SessionCore,
        *,
        alert_health: Callable[[], AlertHealth] | None = None,
        registry: CollectorRegistry,
    ) -> None:
        self._core = core
        self._http = core.resolved.config.http
        self._alert_health = alert_health
        self.registry = registry
        self._session_actions: SessionActions | None = None
        self.status_path = core.run_dir / STATUS_FILE
        self._server: ApiServer | None = None
        self._task: asyncio.Task[None] | None = None
        self._running = False
        self._started_secs = monotonic_secs()
        self._lag_secs = 0.0
        self._write_failed = False

    @property
    def api_url(self) -> str | None:
        """Return the API's base URL while it listens, else None."""
        return None if self._server is None else self._server.url

    # ------------------------------------------------------------------ lifecycle
    def prepare(self) -> None:
        """Bind the API's socket and read its token when ``[http] bind`` is set.

        Raises
        ------
        ConfigError
            If the ``http`` extra is not installed, the token file is missing or not
            0600, or the address cannot be bound.
        """
        if not self._http.enabled or self._server is not None:
            return
        try:
            from livegate.api.app import create_app
            from livegate.api.server import ApiServer, bind_socket
        except ImportError as exc:
            raise ConfigError(
                f"[http] bind needs the http extra ({exc.name} is missing): pip install 'livegate[http]'"
            ) from exc
        from livegate.api.auth import load_http_token

        token = load_http_token(state_dir(self._core.risk.env))
        app = create_app(
            self,
            registry=self.registry,
            token=token,
            max_body_bytes=self._http.max_body_bytes,
            alert_health=self._alert_health,
        )
        self._server = ApiServer(app, bind_socket(self._http.bind))

    async def start(self) -> None:
        """Start the status task and the API server (the session loop is about to run)."""
        self._running = True
        self._started_secs = monotonic_secs()
        self._core.last_tick_secs = self._started_secs
        if self._server is not None:
            await self._server.start()
        self._write_status()
        self._task = asyncio.get_running_loop().create_task(self._tick(), name="livegate-status")

    async def stop(self) -> None:
        """Stop the API server and the status task; write the last snapshot (``running`` false)."""
        self._running = False
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._server is not None:
            await self._server.stop()
            self._server = None
        self._write_status()

    async def _tick(self) -> None:
        due = monotonic_secs() + STATUS_INTERVAL_SECS
        while True:
            await asyncio.sleep(max(0.0, due - monotonic_secs()))
            now = monotonic_secs()
            self._lag_secs = max(0.0, now - due)
            due = now + STATUS_INTERVAL_SECS
            self._write_status()

    def _write_status(self) -> None:
        try:
            text = json.dumps(self.status(), sort_keys=True, separators=(",", ":"))
            _write_atomic(self.status_path, text)
        except Exception:  # the views must never stop the session: report once, keep trading
            if not self._write_failed:
                log.exception("cannot write %s; the status snapshot is stale", self.status_path)
            self._write_failed = True

    # ------------------------------------------------------------------ reads (OperatorBackend)
    def loop_facts(self) -> LoopFacts:
        """Return the loop's liveness facts now."""
        now = monotonic_secs()
        return LoopFacts(
            running=self._running,
            last_tick_age_secs=max(0.0, now - self._core.last_tick_secs),
            loop_lag_secs=self._lag_secs,
            uptime_secs=now - self._started_secs,
            stall_limit_secs=self._http.stall_limit_ms / 1000,
        )

    def status(self) -> dict[str, Any]:
        """Return the status snapshot (:func:`livegate.api.snapshot.build_status`)."""
        alerts = self._alert_health() if self._alert_health is not None else None
        return build_status(self._core, self.loop_facts(), wall_ms=wall_time_ms(), alerts=alerts, api_url=self.api_url)

    def ready_reasons(self) -> list[str]:
        """Return why the session is not ready to trade (empty: ready)."""
        return ready_reasons(self._core, self.loop_facts())

    def config(self) -> dict[str, Any]:
        """Return the run's ``config_resolved.json`` and ``build_info.json``, secrets redacted."""
        from livegate.api.redact import redact

        run_dir = self._core.run_dir
        return {
            "config_resolved": redact(_read_json(run_dir / "config_resolved.json")),
            "build_info": redact(_read_json(run_dir / "build_info.json")),
        }

    # ------------------------------------------------------------------ actions (OperatorBackend)
    @property
    def _actions(self) -> SessionActions:
        # built on the first action (the HTTP API's): a session without it never loads the module
        if self._session_actions is None:
            from livegate.api.actions import SessionActions

            self._session_actions = SessionActions(self._core)
        return self._session_actions

    async def kill(self, reason: str, actor: str, *, reducing: bool) -> ActionOutcome:
        """Latch HALTED (or REDUCING): :meth:`livegate.api.actions.SessionActions.kill`."""
        return await self._actions.kill(reason, actor, reducing=reducing)

    async def rearm(self, reason: str, actor: str) -> ActionOutcome:
        """Return to ACTIVE or refuse: :meth:`livegate.api.actions.SessionActions.rearm`."""
        return await self._actions.rearm(reason, actor)

    async def cancel_all(self, reason: str, actor: str) -> ActionOutcome:
        """Cancel every open order: :meth:`livegate.api.actions.SessionActions.cancel_all`."""
        return await self._actions.cancel_all(reason, actor)

    async def flatten(self, reason: str, actor: str) -> ActionOutcome:
        """Start closing every position: :meth:`livegate.api.actions.SessionActions.flatten`."""
        return await self._actions.flatten(reason, actor)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {"error": f"cannot read {path.name}: {exc}"}


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename (readers never see half a file)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
