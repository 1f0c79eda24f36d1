"""The venue adapter interface (docs/architecture.md §6).

An adapter is a small async object, modelled on an httpx transport: the execution engine
is its only caller. Every SDK error is translated once, inside the adapter, into
:class:`~livegate.domain.errors.Rejected` (definite refusal),
:class:`~livegate.domain.errors.Ambiguous` (outcome unknown),
:class:`~livegate.domain.errors.Retryable` (back off) or
:class:`~livegate.domain.errors.Fatal` (halt).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from livegate.domain.instruments import Instrument
from livegate.domain.market import Quote, Trade
from livegate.domain.orders import Fill, FillCorrection, Order, OrderReport
from livegate.domain.snapshots import BalanceSnapshot, PositionSnapshot, VenueOrderSnapshot

if TYPE_CHECKING:  # types of optional capabilities; a paper replay never loads these modules
    from livegate.modes.market_hours import MarketHours
    from livegate.modes.preflight_artifact import CheckResult
    from livegate.risk.pdt import PdtAccount

Report = OrderReport | Fill | FillCorrection
ReportSink = Callable[[Report], None]


@dataclass(frozen=True, slots=True)
class StreamInterrupted:
    """A marker a market-data stream yields when it may have missed events.

    Yield one right after a reconnect (``reason="reconnect"``) or on a gap in the venue's
    sequence numbers (``reason="sequence gap"``), before the first event of the resumed
    stream. The session then denies new orders with ``RECONCILING`` and reconciles with
    the venue before trading on (issue 6 §3): reports may have been missed while the
    stream was down.

    Parameters
    ----------
    reason:
        Short cause, e.g. ``"reconnect"`` or ``"sequence gap 1041->1057"``.
    ts_ms:
        Time the adapter noticed it, in ms since the epoch (the session clock).
    """

    reason: str
    ts_ms: int


MarketDataEvent = Quote | Trade | StreamInterrupted
"""What :meth:`MarketDataStream.stream_market_data` yields."""


@dataclass(frozen=True, slots=True)
class VenueCapabilities:
    """What an adapter can do; shown by ``livegate venues`` and checked at composition.

    ``client_id_unique_for_life``: the venue's documentation guarantees that a reused
    client order id is refused for the id's whole lifetime (not only while the first
    order is open), which alone allows one resend of an ambiguous order that no report
    has shown (:mod:`livegate.execution.ambiguous`). False for every shipped adapter:
    Binance refuses a reused id only while the first order is open.

    ``client_ids_hashed``: the venue carries a hash of livegate's client order id, not the
    id itself (Kraken ``cl_ord_id``, Hyperliquid ``cloid``:
    :func:`livegate.venues.ccxt.client_ids.venue_client_id`), so an id the adapter has not
    mapped back may still be an order of livegate's (an earlier session's): no open order
    there is taken for an outside order (:func:`livegate.reconcile.compare.outside_open_orders`).
    """

    sandbox: bool = False
    native_cancel_all: bool = False
    positions: bool = False
    fetch_by_client_order_id: bool = False
    order_stream: bool = False
    market_data_stream: bool = False
    server_time: bool = False
    simulated: bool = False
    client_id_unique_for_life: bool = False
    client_ids_hashed: bool = False


@runtime_checkable
class VenueAdapter(Protocol):
    """Async interface every venue adapter implements.

    Reports that arrive outside a call (fills of resting orders, stream updates) are
    pushed to the sink given to :meth:`bind`, in venue order.
    """

    name: str
    capabilities: VenueCapabilities

    def bind(self, sink: ReportSink) -> None:
        """Register the callable that receives order and fill reports."""
        ...

    async def connect(self) -> None:
        """Open connections and load instruments.

        Raises
        ------
        Fatal
            On authentication or permission errors.
        Retryable, Ambiguous
            When the venue is unreachable.
        """
        ...

    async def close(self) -> None:
        """Release connections; idempotent."""
        ...

    def instruments(self) -> dict[str, Instrument]:
        """Return the venue's instruments by symbol (after :meth:`connect`)."""
        ...

    async def submit(self, order: Order) -> OrderReport:
        """Send ``order`` under its client order id and return the venue's first answer.

        Raises
        ------
        Rejected
            The venue refused it (definite).
        Ambiguous
            Outcome unknown; resolve with :meth:`fetch_order` before any resend.
        Fatal
            Authentication, permission, ban.
        """
        ...

    async def cancel(self, client_order_id: str, symbol: str) -> OrderReport:
        """Cancel one order by client order id."""
        ...

    async def cancel_all(self, symbol: str | None = None, *, everything: bool = False) -> list[OrderReport]:
        """Cancel livegate's open orders (on ``symbol`` when given), native where available.

        An outside order (a client id livegate did not make, :func:`~livegate.domain.ids.is_livegate_client_id`)
        stays open: a halt or a session's end cancels only livegate's (docs/recovery.md).
        ``everything``: every open order of the account (``livegate cancel-all --venue``).
        """
        ...

    async def fetch_order(self, client_order_id: str, symbol: str) -> VenueOrderSnapshot | None:
        """Look an order up by client order id; None when the venue has never seen it."""
        ...

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrderSnapshot]:
        """Return the venue's open orders."""
        ...

    async def positions(self) -> list[PositionSnapshot]:
        """Return the venue's positions (empty for venues without positions)."""
        ...

    async def balances(self) -> list[BalanceSnapshot]:
        """Return the venue's balances."""
        ...


@runtime_checkable
class SimulatedVenue(Protocol):
    """A venue driven by replayed market data in-process (paper, shadow)."""

    def on_quote(self, quote: Quote) -> None:
        """Match resting orders against a new quote; push resulting reports to the sink."""
        ...

    def on_trade(self, trade: Trade) -> None:
        """Match resting orders against a public trade; push resulting reports to the sink."""
        ...


@runtime_checkable
class MarketDataStream(Protocol):
    """An adapter that streams public market data (best bid/ask and trades)."""

    def stream_market_data(self, symbols: Sequence[str]) -> AsyncIterator[MarketDataEvent]:
        """Yield quotes and trades of ``symbols`` in venue order until the stream ends or is closed.

        Implement as ``async def ... yield``. An adapter that reconnects by itself, or sees
        a gap in the venue's sequence numbers, yields a :class:`StreamInterrupted` marker
        before the next quote or trade so the session can reconcile; an adapter that
        cannot recover raises its translated error
        (:class:`~livegate.domain.errors.Retryable` on a dropped connection, etc.).
        """
        ...


@runtime_checkable
class VenueProbe(Protocol):
    """Health probes used by ``livegate preflight``: reachability and the venue's clock."""

    async def ping(self) -> float:
        """Return the round-trip time of one cheap request, in seconds.

        Raises
        ------
        Retryable, Ambiguous, Fatal
            When the venue is unreachable or refuses the credentials.
        """
        ...

    async def server_time_ms(self) -> int | None:
        """Return the venue's clock in ms since the epoch, or None when it offers none."""
        ...


@runtime_checkable
class SignedRequestWindow(Protocol):
    """A venue whose signed requests are valid only within a window around its clock (Binance ``recvWindow``)."""

    def recv_window_ms(self) -> int | None:
        """Return the window in ms (Binance: a request whose timestamp is outside it is refused, -1021)."""
        ...


@runtime_checkable
class VenueSelfChecks(Protocol):
    """A venue with preflight checks of its own, run by ``livegate preflight`` after the common ones.

    Alpaca: account status, market clock; IBKR: API, read-only mode, market-data entitlements.
    """

    async def preflight_checks(self) -> list[CheckResult]:
        """Return the venue's own checks (details never hold a secret); [] when none apply.

        Raises
        ------
        Retryable, Ambiguous, Fatal
            When the venue cannot be asked.
        """
        ...


@runtime_checkable
class EquityVenue(Protocol):
    """A US equities venue: its own market clock, fractionable symbols and pattern-day-trader facts."""

    def market_hours(self) -> MarketHours | None:
        """Return the market hours the venue's own clock gave at connect (None if it has none)."""
        ...

    def fractionable_symbols(self) -> frozenset[str]:
        """Return the symbols the venue takes fractional quantities for."""
        ...

    async def pdt_account(self) -> PdtAccount:
        """Return the account's equity, margin flag and the venue's day-trade count.

        Raises
        ------
        Retryable, Ambiguous, Fatal
            When the venue cannot be asked.
        """
        ...
