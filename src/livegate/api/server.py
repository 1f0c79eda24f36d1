"""Serve the API with uvicorn inside the session's own asyncio loop.

The listening socket is bound before the session trades (:func:`bind_socket`: a busy port
or a bad address refuses the start, exit 2), then :class:`ApiServer` runs uvicorn's
server as a task of the running loop. uvicorn's own signal handling is switched off: the
session's stop signals (SIGTERM, SIGINT) stay the session's, and the session stops the
server when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator
from typing import Any

import uvicorn

from livegate.config.http_models import split_bind
from livegate.domain.errors import ConfigError

__all__ = ["ApiServer", "bind_socket"]

log = logging.getLogger("livegate")
#: Seconds the server gets to finish answering open requests when the session ends.
_GRACEFUL_SECS = 2


def bind_socket(bind: str) -> socket.socket:
    """Return a listening TCP socket bound to ``HOST:PORT``.

    Raises
    ------
    ConfigError
        If the address cannot be resolved or bound (port in use, no such interface).
    """
    host, port = split_bind(bind)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"[http] bind {bind!r}: cannot resolve {host!r}: {exc}") from exc
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"[http] bind {bind!r}: {exc.strerror or exc}") from exc
    sock.setblocking(False)
    return sock


def socket_url(sock: socket.socket) -> str:
    """Return ``http://host:port`` of a bound socket (IPv6 in brackets)."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class _SessionServer(uvicorn.Server):
    """uvicorn's server without its signal handlers (the session owns SIGTERM and SIGINT)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class ApiServer:
    """Run ``app`` on ``sock`` as a task of the running loop until :meth:`stop`.

    Parameters
    ----------
    app:
        The ASGI app (:func:`livegate.api.app.create_app`).
    sock:
        A listening socket from :func:`bind_socket`.
    """

    def __init__(self, app: Any, sock: socket.socket) -> None:
        self._sock = sock
        self.url = socket_url(sock)
        config = uvicorn.Config(
            app,
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=_GRACEFUL_SECS,
            server_header=False,
        )
        self._server = _SessionServer(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start serving; return once the socket accepts connections."""
        serve = self._server.serve(sockets=[self._sock])
        self._task = asyncio.get_running_loop().create_task(serve, name="livegate-http")
        while not self._server.started and not self._task.done():
            await asyncio.sleep(0.01)
        if self._task.done():
            self._task.result()  # raises what stopped it
        log.info("http api listening on %s", self.url)

    async def stop(self) -> None:
        """Stop accepting, let open requests finish (bounded), close the socket."""
        if self._task is None:
            self._sock.close()
            return
        self._server.should_exit = True
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None
        self._sock.close()
