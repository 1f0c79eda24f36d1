"""Loopback HTTP and websocket servers that replay recorded venue traffic (127.0.0.1 only).

``LoopbackHttp`` answers by (method, path[, body predicate][, query subset]) with queued replies: each
request pops the next reply and the last one stays. It records every request so tests
can count submits. ``LoopbackWs`` replays recorded frames per path: acks (frames with an
``id``) are sent as answers to client frames with the id substituted, data frames are
sent when :meth:`LoopbackWs.release` is called (or at once when ``hold`` is False).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from websockets.asyncio.server import ServerConnection, serve


@dataclass(slots=True)
class Reply:
    """One HTTP answer: status, JSON body (or raw text), extra headers, and an optional delay before it.

    ``body`` may be a function of no arguments: it is called when the request arrives (a
    venue clock read at answer time).
    """

    body: Any = None
    status: int = 200
    delay_secs: float = 0.0
    raw: str | None = None
    headers: dict[str, str] | None = None


@dataclass(slots=True)
class Seen:
    """A request the server received."""

    method: str
    path: str
    query: dict[str, str]
    body: str


@dataclass(slots=True)
class _Route:
    method: str
    path: str
    replies: list[Reply]
    match: Callable[[Any], bool] | None = None
    query: dict[str, str] | None = None


class LoopbackHttp:
    """An aiohttp server on 127.0.0.1 serving queued replies per route."""

    def __init__(self) -> None:
        self._routes: list[_Route] = []
        self.requests: list[Seen] = []
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()
        self.base_url = ""

    def route(
        self,
        method: str,
        path: str,
        *replies: Reply,
        match: Callable[[Any], bool] | None = None,
        query: dict[str, str] | None = None,
    ) -> None:
        """Serve ``replies`` in order on ``method path`` (replacing an earlier route with the same key).

        ``query``: serve only requests whose query string holds these parameters (e.g.
        Coinbase's ``order_status=OPEN`` and ``FILLED`` share one path).
        """
        self._routes = [
            r
            for r in self._routes
            if not (r.method == method and r.path == path and r.match is match and r.query == query)
        ]
        self._routes.insert(0, _Route(method, path, list(replies), match, query))

    def seen(self, method: str, path: str) -> list[Seen]:
        """Return the requests received on ``method path``, oldest first."""
        return [s for s in self.requests if s.method == method and s.path == path]

    def count(self, method: str, path: str, match: Callable[[Any], bool] | None = None) -> int:
        """Return how many requests hit ``method path`` (and ``match`` on the JSON body)."""
        return sum(
            1
            for s in self.requests
            if s.method == method and s.path == path and (match is None or match(_json(s.body)))
        )

    async def start(self) -> str:
        """Start on an ephemeral port; return ``http://127.0.0.1:<port>``."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def stop(self) -> None:
        """Stop the server; a reply still being delayed (a hanging venue) is sent at once, to nobody waiting."""
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.text()
        seen = Seen(request.method, request.path, dict(request.query), body)
        self.requests.append(seen)
        parsed = _json(body)
        for route in self._routes:
            if route.method != request.method or route.path != request.path:
                continue
            if route.match is not None and not route.match(parsed):
                continue
            if route.query is not None and any(request.query.get(k) != v for k, v in route.query.items()):
                continue
            reply = route.replies.pop(0) if len(route.replies) > 1 else route.replies[0]
            if reply.delay_secs:
                # the delay, cut short when the test stops the server (so a hang costs no teardown time)
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), reply.delay_secs)
            body = reply.body() if callable(reply.body) else reply.body
            text = reply.raw if reply.raw is not None else json.dumps(body)
            return web.Response(status=reply.status, text=text, content_type="application/json", headers=reply.headers)
        return web.Response(status=404, text=json.dumps({"loopback": "no route", "path": request.path}))


def _json(body: str) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return dict(parse_qsl(body))


@dataclass(slots=True)
class WsScript:
    """Frames to replay on one websocket path."""

    frames: list[Any]
    hold: bool = True
    close_after: bool = False
    released: asyncio.Event = field(default_factory=asyncio.Event)
    received: list[Any] = field(default_factory=list)


class LoopbackWs:
    """A websockets server on 127.0.0.1 replaying :class:`WsScript` frames by path."""

    def __init__(self) -> None:
        self.scripts: dict[str, WsScript] = {}
        self._server: Any = None
        self.base_url = ""

    def script(self, path: str, frames: list[Any], *, hold: bool = True, close_after: bool = False) -> WsScript:
        """Replay ``frames`` to clients connecting to ``path`` (held until :meth:`release` when ``hold``).

        With ``close_after`` the server drops the connection once the frames are sent, as
        a venue does on a network fault.
        """
        script = WsScript(frames, hold, close_after)
        self.scripts[path] = script
        return script

    def release(self) -> None:
        """Let every held script send its data frames."""
        for script in self.scripts.values():
            script.released.set()

    async def start(self) -> str:
        """Start on an ephemeral port; return ``ws://127.0.0.1:<port>``."""
        self._server = await serve(self._handle, "127.0.0.1", 0)
        port = next(iter(self._server.sockets)).getsockname()[1]
        self.base_url = f"ws://127.0.0.1:{port}"
        return self.base_url

    async def stop(self) -> None:
        """Stop the server."""
        if self._server is not None:
            self._server.close(close_connections=True)
            await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _handle(self, conn: ServerConnection) -> None:
        path = conn.request.path if conn.request is not None else "/"
        script = self._find(path)
        if script is None:
            await conn.close()
            return
        acks = [f for f in script.frames if isinstance(f, dict) and "id" in f]
        data = [f for f in script.frames if not (isinstance(f, dict) and "id" in f)]

        got = asyncio.Event()

        async def answer() -> None:
            async for raw in conn:
                msg = _json(str(raw))
                script.received.append(msg)
                got.set()
                if isinstance(msg, dict) and "id" in msg and acks:
                    await conn.send(json.dumps({**acks[0], "id": msg["id"]}))

        reader = asyncio.create_task(answer())
        try:
            for event in [got, script.released] if script.hold else [got]:
                waiter = asyncio.create_task(event.wait())
                done, _ = await asyncio.wait({reader, waiter}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                if reader in done:
                    return
            for frame in data:
                await conn.send(json.dumps(frame))
            if script.close_after:
                await conn.close(code=1011, reason="loopback drops the stream")
                return
            await reader
        finally:
            reader.cancel()

    def _find(self, path: str) -> WsScript | None:
        best = None
        for prefix, script in self.scripts.items():
            if path.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
                best = (prefix, script)
        return None if best is None else best[1]
