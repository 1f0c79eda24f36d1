"""Loopback stand-ins for an ntfy server and a Slack incoming webhook (aiohttp), for apprise's real plugins.

Each receiver runs in its own thread with its own event loop, so synchronous callers
(apprise, a subprocess) can post while the test waits. ntfy: ``POST /`` with a JSON body
``{"topic", "title", "message"}`` answers a JSON message (https://docs.ntfy.sh/publish/#publish-as-json).
Slack: ``POST /services/T/B/C`` with a JSON body ``{"text" | "attachments"}`` answers the
text ``ok`` (what Slack's webhooks answer, and what apprise checks).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class StubReceiver:
    """An aiohttp server on 127.0.0.1 recording every POST; ``kind`` is ``ntfy`` or ``slack``."""

    kind: str
    delay_secs: float = 0.0
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _runner: web.AppRunner | None = None
    _thread: threading.Thread | None = None

    def start(self) -> StubReceiver:
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            app = web.Application()
            app.router.add_post("/{tail:.*}", self._handle)
            self._runner = web.AppRunner(app)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        assert ready.wait(10), "stub receiver did not start"
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {"raw": raw.decode("utf-8", "replace")}
        self.received.append(Received(request.path, dict(request.headers), body))
        if self.delay_secs:
            await asyncio.sleep(self.delay_secs)
        if self.kind == "slack":
            return web.Response(text="ok")
        return web.json_response({"id": str(len(self.received)), "event": "message", "topic": body.get("topic", "")})

    # ------------------------------------------------------------------ what tests read
    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def texts(self) -> list[str]:
        """Return title + text of every message, whatever the service's JSON shape."""
        out = []
        for r in self.received:
            b = r.body
            if self.kind == "ntfy":
                out.append(f"{b.get('title', '')}\n{b.get('message', '')}")
            else:
                parts = [str(b.get("text", ""))]
                for att in b.get("attachments", []) or []:
                    parts.append(str(att.get("title", "")))
                    parts.append(str(att.get("text", "")))
                for block in b.get("blocks", []) or []:
                    parts.append(json.dumps(block))
                out.append("\n".join(parts))
        return out

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.received)


def dead_port() -> int:
    """Return a loopback port nothing listens on (bound, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
