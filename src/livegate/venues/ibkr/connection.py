"""The API connection to TWS / IB Gateway: connect, reconnect with backoff, paced and timed requests.

* Every API request waits on an :class:`~livegate.venues.ibkr.pacing.ApiPacer` (≥ 100 ms
  apart) and is given ``request_timeout_secs``; no answer, or a dropped socket, is
  ambiguous.
* A dropped connection is re-opened in the background with exponential backoff
  (``reconnect_initial_secs`` doubling to ``reconnect_max_secs``); after a reconnect the
  adapter's ``on_reconnected`` runs (missed fills, market-data resubscription).
* TWS errors without a request id (``-1``) during a connect are kept in
  :attr:`TwsConnection.connect_errors`: a refused client is Fatal (326, 502, 503), an
  unreachable one Retryable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ib_async import IB, StartupFetch

from livegate.domain.errors import Ambiguous, Fatal, Retryable, VenueError
from livegate.venues.ibkr.errors import FATAL_CODES, TwsError
from livegate.venues.ibkr.pacing import ApiPacer

__all__ = ["TwsConnection"]

log = logging.getLogger("livegate.venues.ibkr")


class TwsConnection:
    """One API client connection to TWS / IB Gateway, through ib_async's :class:`IB`.

    Parameters
    ----------
    host, port, client_id:
        TWS / IB Gateway API socket and the API client id.
    account:
        Account code; empty picks the only managed account at connect.
    connect_timeout_secs, request_timeout_secs:
        Timeouts of the API handshake and of other requests.
    pacing_interval_secs:
        Minimum spacing of API requests (IBKR pacing; 0.1 s).
    reconnect_initial_secs, reconnect_max_secs:
        Backoff of the automatic reconnect after a dropped connection.
    on_reconnected:
        Awaited once after each successful reconnect.
    """

    def __init__(
        self,
        host: str,
        port: int,
        client_id: int,
        account: str,
        *,
        connect_timeout_secs: float,
        request_timeout_secs: float,
        pacing_interval_secs: float,
        reconnect_initial_secs: float,
        reconnect_max_secs: float,
        on_reconnected: Callable[[], Awaitable[None]],
    ) -> None:
        self.ib = IB()
        self.host, self.port, self.client_id = host, port, client_id
        self.account = account
        self._connect_timeout = connect_timeout_secs
        self.request_timeout = request_timeout_secs
        self.pacer = ApiPacer(pacing_interval_secs)
        self._reconnect_initial = reconnect_initial_secs
        self._reconnect_max = reconnect_max_secs
        self._on_reconnected = on_reconnected
        self.connect_errors: list[TwsError] = []
        self._closing = False
        self._reconnect_task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        """Open the API connection (positions and account updates fetched at start).

        Raises
        ------
        Fatal
            The failed connect came with a TWS error in :data:`~livegate.venues.ibkr.errors.FATAL_CODES`
            (e.g. 326: the client id is in use).
        Retryable
            Any other failure to connect (code ``connect``).
        """
        self._closing = False
        try:
            await self.connect_once()
        except (OSError, TimeoutError, ConnectionError) as exc:
            fatal = next((e for e in self.connect_errors if e.code in FATAL_CODES), None)
            if fatal is not None:
                raise Fatal(f"ibkr error {fatal.code}: {fatal.message}", str(fatal.code)) from exc
            raise Retryable(f"ibkr: TWS/IB Gateway not reachable at {self.host}:{self.port}", "connect") from exc

    async def connect_once(self) -> None:
        """Connect once; learn the account code when none was given."""
        self.connect_errors.clear()
        await self.ib.connectAsync(
            self.host,
            self.port,
            clientId=self.client_id,
            timeout=self._connect_timeout,
            account=self.account,
            fetchFields=StartupFetch.POSITIONS | StartupFetch.ACCOUNT_UPDATES,
        )
        if not self.account:
            accounts = self.ib.managedAccounts()
            self.account = accounts[0] if accounts else ""

    async def stop_reconnecting(self) -> None:
        """Stop the reconnect loop for good (the adapter closes)."""
        self._closing = True
        task, self._reconnect_task = self._reconnect_task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def disconnect(self) -> None:
        """Close the API socket when it is open."""
        if self.ib.isConnected():
            self.ib.disconnect()

    def reconnect_later(self) -> None:
        """Start the background reconnect unless closing or already reconnecting."""
        if not self._closing and self._reconnect_task is None:
            self._reconnect_task = asyncio.get_running_loop().create_task(self._reconnect(), name="ibkr-reconnect")

    async def _reconnect(self) -> None:
        delay = self._reconnect_initial
        try:
            while not self._closing:
                await asyncio.sleep(delay)
                try:
                    await self.connect_once()
                except (OSError, TimeoutError, ConnectionError, VenueError) as exc:
                    log.warning("ibkr reconnect failed (%s); next try in %ss", type(exc).__name__, delay)
                    delay = min(delay * 2, self._reconnect_max)
                    continue
                except Exception as exc:  # anything else (ib_async's handshake, ours): try again, never end silently
                    log.error("ibkr reconnect failed: %r; next try in %ss", exc, delay, exc_info=exc)
                    self.disconnect()
                    delay = min(delay * 2, self._reconnect_max)
                    continue
                log.info("ibkr reconnected to %s:%s", self.host, self.port)
                try:
                    await self._on_reconnected()
                except Exception as exc:  # the missed fills or the resubscription failed: say so (reconciliation looks)
                    log.error("ibkr: after the reconnect, catching up failed: %r", exc, exc_info=exc)
                return
        finally:
            self._reconnect_task = None

    def ensure_connected(self) -> None:
        """Raise :class:`Ambiguous` (code ``504``, TWS "Not connected") unless the socket is up."""
        if not self.ib.isConnected():
            raise Ambiguous("ibkr: not connected to TWS", "504")

    async def request(self, awaitable: Any) -> Any:
        """Await one API request within ``request_timeout_secs``.

        Raises
        ------
        Ambiguous
            No answer in time, or the connection dropped meanwhile.
        """
        try:
            return await asyncio.wait_for(awaitable, self.request_timeout)
        except (TimeoutError, ConnectionError) as exc:
            raise Ambiguous(f"ibkr request failed: {type(exc).__name__}", "timeout") from exc
