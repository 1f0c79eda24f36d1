"""A fake "real" venue: the full adapter interface, a market-data stream, probes, no network.

It stands in for a live exchange in tests and offline demonstrations (issue 4: test the
live path against a fake adapter). Matching is delegated to an in-process
:class:`~livegate.venues.paper.PaperVenue`; what makes it a *real* venue to the runtime is
that it streams its own market data (:class:`~livegate.venues.base.MarketDataStream`),
answers :class:`~livegate.venues.base.VenueProbe` probes, declares sandbox support as
configured, and refuses trading calls without credentials, like an exchange would.
Select it by config as venue ``fake:<name>``.

It can also simulate what goes wrong at a real exchange
(:class:`~livegate.venues.fake_faults.FakeFaults`): an
authentication error on submit (translated to ``Fatal``, as ccxt's
``AuthenticationError`` is), a market-data stream that reconnects or skips sequence
numbers (:class:`~livegate.venues.base.StreamInterrupted`), reads that fail for a
while after such an interruption, and a stream that stays connected but goes silent.
For end-to-end tests it can pace its stream and write its book (open orders, positions)
to a JSON file when closed, so a test sees the venue's state after the process ended.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import Decimal
from importlib import resources
from pathlib import Path

from livegate.config.credentials import Credentials
from livegate.domain.clock import Clock
from livegate.domain.errors import Ambiguous, Fatal, Retryable
from livegate.domain.instruments import Instrument
from livegate.domain.market import Quote, Trade
from livegate.domain.orders import Order, OrderReport
from livegate.domain.snapshots import BalanceSnapshot, PositionSnapshot, VenueOrderSnapshot
from livegate.marketdata.replay import load_replay
from livegate.venues.base import MarketDataEvent, ReportSink, StreamInterrupted, VenueCapabilities
from livegate.venues.fake_faults import FakeFaults
from livegate.venues.paper import PaperParams, PaperVenue

__all__ = ["FAKE_PRODUCTION_URL", "FAKE_SANDBOX_URL", "FakeFaults", "FakeVenue", "fake_instruments", "sample_events"]

#: Endpoints the fake pretends to use; tests assert testnet picks the sandbox one.
FAKE_PRODUCTION_URL = "https://api.fake-venue.invalid"
FAKE_SANDBOX_URL = "https://sandbox.fake-venue.invalid"

#: Events of the bundled sample streamed by default (about 20 s of BTCUSDT).
DEFAULT_STREAM_EVENTS = 5000


def fake_instruments(venue: str) -> dict[str, Instrument]:
    """Return the fake venue's instruments: Binance USD-M BTCUSDT and ETHUSDT filters.

    Values as in :mod:`livegate.config.instruments` (ccxt market table of binanceusdm).
    """
    rows = {"BTCUSDT": ("0.10", "BTC"), "ETHUSDT": ("0.01", "ETH")}
    return {
        symbol: Instrument(
            symbol=symbol,
            venue=venue,
            tick_size=Decimal(tick),
            lot_size=Decimal("0.001"),
            min_notional=Decimal(5),
            min_quantity=Decimal("0.001"),
            quote_currency="USDT",
            base_currency=base,
        )
        for symbol, (tick, base) in rows.items()
    }


def sample_events(max_events: int = DEFAULT_STREAM_EVENTS) -> list[Quote | Trade]:
    """Return the first ``max_events`` events of the bundled Binance USD-M BTCUSDT sample."""
    root = resources.files("livegate") / "data"
    quotes = Path(str(root / "binance_usdm_btcusdt_20240808_quotes.csv.gz"))
    trades = Path(str(root / "binance_usdm_btcusdt_20240808_trades.csv.gz"))
    return load_replay(quotes=quotes, trades=trades, venue="binanceusdm").events[:max_events]


class FakeVenue:
    """An offline venue adapter with a market-data stream, probes and a paper matcher.

    Parameters
    ----------
    name:
        Venue name, e.g. ``"fake:demo"``.
    instruments:
        Tradable instruments by symbol.
    events:
        Market data the stream yields, in order.
    clock:
        Source of report times and of the stream's event times (events are re-stamped to
        ``clock.now_ms()`` as they are yielded, so a live session sees fresh quotes).
    credentials:
        Trading credentials; None allows the market-data stream and probes only.
    sandbox:
        Use the sandbox endpoint (testnet).
    sandbox_supported:
        Whether the venue declares sandbox endpoints (``capabilities.sandbox``).
    balance_usd:
        Starting USDT balance, in USD.
    server_time_offset_ms:
        Skew of the venue clock against ``clock``, in ms (for the preflight clock check).
    reachable:
        False makes :meth:`connect` and :meth:`ping` fail with ``Retryable``.
    faults:
        Exchange failures to simulate (:class:`FakeFaults`).

    Raises
    ------
    ValueError
        If ``sandbox`` is asked of a venue without sandbox support.
    """

    def __init__(
        self,
        name: str,
        instruments: Mapping[str, Instrument],
        events: Sequence[Quote | Trade],
        clock: Clock,
        *,
        credentials: Credentials | None = None,
        sandbox: bool = False,
        sandbox_supported: bool = True,
        balance_usd: Decimal = Decimal(100_000),
        server_time_offset_ms: int = 0,
        reachable: bool = True,
        faults: FakeFaults | None = None,
    ) -> None:
        if sandbox and not sandbox_supported:
            raise ValueError(f"venue {name} declares no sandbox endpoints")
        self.name = name
        self.capabilities = VenueCapabilities(
            sandbox=sandbox_supported,
            native_cancel_all=True,
            positions=True,
            fetch_by_client_order_id=True,
            market_data_stream=True,
            server_time=True,
        )
        self.endpoint = FAKE_SANDBOX_URL if sandbox else FAKE_PRODUCTION_URL
        self._events = list(events)
        self._clock = clock
        self._credentials = credentials
        self._offset_ms = server_time_offset_ms
        self._reachable = reachable
        self._connected = False
        self._answer_lost: set[str] = set()
        self._faults = faults or FakeFaults()
        self._failing_reads = 0
        self._paper = PaperVenue(
            instruments, PaperParams(starting_balance=balance_usd, fill_mode="marketable"), clock, name=name
        )
        self.submitted: list[Order] = []

    @property
    def has_credentials(self) -> bool:
        """Return True when trading credentials were given."""
        return self._credentials is not None

    # ------------------------------------------------------------------ lifecycle
    def bind(self, sink: ReportSink) -> None:
        """Register the report sink (fills of resting orders arrive through it)."""
        self._paper.bind(sink)

    async def connect(self) -> None:
        """Pretend to open a connection.

        Raises
        ------
        Retryable
            When the venue is configured unreachable.
        """
        if not self._reachable:
            raise Retryable(f"{self.name}: connection refused ({self.endpoint})")
        self._connected = True

    async def close(self) -> None:
        """Close; idempotent. Writes the book to ``faults.book_file`` when set."""
        self._connected = False
        if self._faults.book_file is not None:
            await self.write_book(self._faults.book_file)

    async def write_book(self, path: Path) -> None:
        """Write the open orders (client order ids) and positions (symbol → base quantity) to ``path``."""
        orders = await self._paper.open_orders()
        positions = await self._paper.positions()
        book = {
            "open_orders": sorted(o.client_order_id for o in orders),
            "positions": {p.symbol: str(p.quantity) for p in positions},
        }
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(book, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, path)

    def instruments(self) -> dict[str, Instrument]:
        """Return the venue's instruments by symbol."""
        return self._paper.instruments()

    # ------------------------------------------------------------------ probes
    async def ping(self) -> float:
        """Return a round-trip time of 0 s.

        Raises
        ------
        Retryable
            When the venue is configured unreachable.
        """
        if not self._reachable:
            raise Retryable(f"{self.name}: no answer from {self.endpoint}")
        return 0.0

    async def server_time_ms(self) -> int | None:
        """Return the venue clock: the local clock plus the configured skew, in ms."""
        return self._clock.now_ms() + self._offset_ms

    # ------------------------------------------------------------------ market data
    async def stream_market_data(self, symbols: Sequence[str]) -> AsyncIterator[MarketDataEvent]:
        """Yield the configured events of ``symbols`` (all when empty), re-stamped to the clock.

        Before the events named in ``faults.interruptions`` a
        :class:`~livegate.venues.base.StreamInterrupted` marker is yielded.
        """
        wanted = set(symbols)
        faults = self._faults
        interruptions = faults.interruptions
        pause = 0.0 if faults.events_per_sec is None else 1 / faults.events_per_sec
        yielded = 0
        for event in self._events:
            if wanted and event.symbol not in wanted:
                continue
            if faults.silent_after is not None and yielded >= faults.silent_after:
                await asyncio.Event().wait()  # connected, silent: until the session cancels the read
            now = self._clock.now_ms()
            reason = interruptions.get(yielded)
            if reason is not None:
                self._failing_reads = self._faults.failing_reads
                yield StreamInterrupted(reason, now)
            yielded += 1
            stamped = event._replace(ts_event_ms=now, venue=self.name)
            if isinstance(stamped, Quote):
                self._paper.on_quote(stamped)
            else:
                self._paper.on_trade(stamped)
            yield stamped
            await asyncio.sleep(pause)

    # ------------------------------------------------------------------ trading
    def _require_credentials(self) -> None:
        if self._credentials is None:
            raise Fatal(f"{self.name}: authentication required (no credentials)", "AUTH")

    def _read_account(self) -> None:
        self._require_credentials()
        if self._failing_reads > 0:
            self._failing_reads -= 1
            raise Retryable(f"{self.name}: service unavailable after the stream interruption (503)", "503")

    async def submit(self, order: Order) -> OrderReport:
        """Submit through the paper matcher.

        Raises
        ------
        Fatal
            Without credentials, or with ``faults.auth_on_submit`` (code ``AUTH``).
        Rejected
            As the paper venue does (filters, duplicates).
        """
        self._require_credentials()
        if self._faults.auth_on_submit:
            raise Fatal(f"{self.name}: authentication failed: invalid API key or signature (code -2015)", "AUTH")
        self.submitted.append(order)
        report = await self._paper.submit(order)
        if len(self.submitted) == self._faults.unknown_after_accept:
            self._answer_lost.add(order.client_order_id)
            raise Ambiguous(
                f"{self.name}: HTTP 503: Timeout waiting for response from backend server. "
                "Send status unknown; execution status unknown.",
                "-1007",
            )
        return report

    async def cancel(self, client_order_id: str, symbol: str) -> OrderReport:
        """Cancel one order by client order id (see :meth:`submit` for errors)."""
        self._require_credentials()
        return await self._paper.cancel(client_order_id, symbol)

    async def cancel_all(self, symbol: str | None = None, *, everything: bool = False) -> list[OrderReport]:
        """Cancel every open order (of ``symbol`` when given; all livegate's: ``everything`` is moot)."""
        self._require_credentials()
        return await self._paper.cancel_all(symbol)

    async def fetch_order(self, client_order_id: str, symbol: str) -> VenueOrderSnapshot | None:
        """Look an order up by client order id (``faults.lookup_lag``: not yet for a lost answer)."""
        self._require_credentials()
        if self._faults.lookup_lag and client_order_id in self._answer_lost:
            return None
        return await self._paper.fetch_order(client_order_id, symbol)

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrderSnapshot]:
        """Return open orders."""
        self._read_account()
        return await self._paper.open_orders(symbol)

    async def positions(self) -> list[PositionSnapshot]:
        """Return positions."""
        self._read_account()
        return await self._paper.positions()

    async def balances(self) -> list[BalanceSnapshot]:
        """Return balances (USDT)."""
        self._read_account()
        return await self._paper.balances()
