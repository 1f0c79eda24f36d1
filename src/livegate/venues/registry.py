"""Build the adapter of a configured real venue (``<adapter>:<venue>``), once, at composition.

The mode decides what is asked for (docs/architecture.md §3.2): shadow and paper ask for a
market-data-only adapter (no credentials), testnet for the sandbox endpoints, canary and
live for the production endpoints with credentials. Adapter packages add their factory to
:data:`BUILTIN_FACTORIES` (``ccxt``, ``alpaca``, ``ibkr``); tests pass their own
``factories`` mapping instead of patching anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from livegate.config.models import VenueConfig
from livegate.domain.clock import Clock
from livegate.domain.errors import ConfigError
from livegate.venues.base import VenueAdapter

if TYPE_CHECKING:  # a paper replay asks for no credentials: config.credentials loads with a real venue
    from livegate.config.credentials import Credentials

__all__ = [
    "BUILTIN_FACTORIES",
    "AdapterFactory",
    "VenueRequest",
    "build_adapter",
    "is_real_venue",
]


@dataclass(frozen=True, slots=True)
class VenueRequest:
    """What the composition root asks of an adapter factory.

    Parameters
    ----------
    venue:
        Configured venue, ``<adapter>:<venue>`` (e.g. ``"fake:demo"``, ``"ccxt:kraken"``).
    clock:
        The session clock.
    credentials:
        Trading credentials (testnet, canary, live) or None (market data only).
    sandbox:
        Use the venue's sandbox endpoints (testnet).
    symbols:
        Symbols the session trades.
    fault:
        Test-only faults the fake venue simulates (``LIVEGATE_TEST_VENUE_FAULT``, installed
        only by ``python -m livegate.testing``); real adapters ignore it.
    settings:
        The ``[venue]`` section (endpoints, timeout, ccxt options, rate budget); None =
        the adapter's defaults.
    data_credentials:
        A market-data key for shadow and paper on venues whose data needs one (Alpaca);
        never used to trade.
    alpaca_feed:
        ``[alpaca] feed``: ``iex`` or ``sip``.
    allow_fractional:
        ``[equities] allow_fractional``: equity adapters load fractional lots.
    """

    venue: str
    clock: Clock
    credentials: Credentials | None = None
    sandbox: bool = False
    symbols: list[str] = field(default_factory=list)
    fault: str = ""
    settings: VenueConfig | None = None
    data_credentials: Credentials | None = None
    alpaca_feed: str = "iex"
    allow_fractional: bool = False


AdapterFactory = Callable[[VenueRequest], VenueAdapter]


def is_real_venue(venue: str) -> bool:
    """Return True for ``<adapter>:<venue>`` names; replayed-data venues have no adapter prefix."""
    adapter, sep, rest = venue.partition(":")
    return bool(sep and adapter and rest)


def _fake_factory(request: VenueRequest) -> VenueAdapter:
    from livegate.venues.fake import FakeFaults, FakeVenue, fake_instruments, sample_events  # only a fake: venue

    return FakeVenue(
        request.venue,
        fake_instruments(request.venue),
        sample_events(),
        request.clock,
        credentials=request.credentials,
        sandbox=request.sandbox,
        faults=FakeFaults.parse(request.fault),
    )


def _ccxt_factory(request: VenueRequest) -> VenueAdapter:
    # lazy: the ccxt SDK is the optional extra livegate[ccxt]
    try:
        from livegate.venues.ccxt.factory import make_factory
    except ImportError as exc:
        raise ConfigError(f"venue {request.venue} needs the ccxt extra: pip install 'livegate[ccxt]' ({exc})") from exc
    return make_factory()(request)


def _alpaca_factory(request: VenueRequest) -> VenueAdapter:
    # lazy: alpaca-py is the optional extra livegate[alpaca]
    try:
        from livegate.venues.alpaca.factory import build_alpaca
    except ImportError as exc:
        extra = "pip install 'livegate[alpaca]'"
        raise ConfigError(f"venue {request.venue} needs the alpaca extra: {extra} ({exc})") from exc
    return build_alpaca(request)


def _ibkr_factory(request: VenueRequest) -> VenueAdapter:
    # lazy: ib_async is the optional extra livegate[ibkr]
    try:
        from livegate.venues.ibkr.factory import build_ibkr
    except ImportError as exc:
        raise ConfigError(f"venue {request.venue} needs the ibkr extra: pip install 'livegate[ibkr]' ({exc})") from exc
    return build_ibkr(request)


#: Factories by adapter prefix.
BUILTIN_FACTORIES: Mapping[str, AdapterFactory] = {
    "fake": _fake_factory,
    "ccxt": _ccxt_factory,
    "alpaca": _alpaca_factory,
    "ibkr": _ibkr_factory,
}


def build_adapter(request: VenueRequest, factories: Mapping[str, AdapterFactory] | None = None) -> VenueAdapter:
    """Return the adapter for ``request.venue``.

    Raises
    ------
    ConfigError
        If the venue has no adapter prefix, the adapter is unknown, or sandbox endpoints
        are asked of an adapter that declares none.
    """
    if not is_real_venue(request.venue):
        raise ConfigError(f"venue {request.venue!r} is not a real venue (<adapter>:<venue>, e.g. fake:demo)")
    table = BUILTIN_FACTORIES if factories is None else factories
    prefix = request.venue.partition(":")[0]
    factory = table.get(prefix)
    if factory is None:
        raise ConfigError(f"no adapter {prefix!r} for venue {request.venue!r}; known: {', '.join(sorted(table))}")
    try:
        adapter = factory(request)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    if request.sandbox and not adapter.capabilities.sandbox:
        raise ConfigError(f"venue {request.venue} declares no sandbox endpoints; testnet is refused")
    return adapter
