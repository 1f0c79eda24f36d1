"""Build an :class:`AlpacaAdapter` for ``alpaca:paper`` / ``alpaca:live`` from the registry's request.

* ``alpaca:paper`` uses Alpaca's paper trading endpoints, ``alpaca:live`` the live ones;
  ``--mode testnet`` asks for the sandbox, which for Alpaca is paper trading.
* Trading credentials (testnet, canary, live) build the full adapter. Shadow and paper
  get a market-data-only adapter: Alpaca's data stream needs a key, which comes from
  ``request.data_credentials``; no trading client call is made, so no order can be sent.
* ``[venue] rest_url`` replaces the scheme and host of the trading REST API
  (``<rest_url>/v2/...``); ``[venue] ws_url`` those of the trade-updates stream
  (``<ws_url>/stream``) and of the stock and crypto data streams (``<ws_url>/v2/<feed>``,
  ``<ws_url>/v1beta3/crypto/us``), keeping Alpaca's paths. ``timeout_ms`` is the request
  timeout; ``[alpaca] feed`` picks ``iex`` or ``sip``.
"""

from __future__ import annotations

from livegate.config.credentials import Credentials
from livegate.domain.errors import ConfigError
from livegate.venues.alpaca.adapter import AlpacaAdapter
from livegate.venues.base import VenueAdapter
from livegate.venues.registry import VenueRequest

__all__ = ["ALPACA_ACCOUNTS", "build_alpaca"]

#: ``alpaca:<account>`` names: which endpoints the adapter talks to.
ALPACA_ACCOUNTS = ("paper", "live")


def _keys(credentials: Credentials) -> tuple[str, str]:
    return credentials.reveal("api_key") or "", credentials.reveal("api_secret") or ""


def build_alpaca(request: VenueRequest) -> VenueAdapter:
    """Return the adapter for ``request`` (``alpaca:paper`` or ``alpaca:live``).

    Raises
    ------
    ConfigError
        On an unknown account name, ``alpaca:live`` asked for the sandbox (testnet), or no
        key for the market data in shadow and paper.
    """
    account = request.venue.partition(":")[2]
    if account not in ALPACA_ACCOUNTS:
        raise ConfigError(f"venue {request.venue!r}: Alpaca accounts are alpaca:paper and alpaca:live")
    if request.sandbox and account != "paper":
        raise ConfigError("testnet on Alpaca is its paper account: use --venue alpaca:paper")
    paper = account == "paper"
    trading = request.credentials is not None
    credentials = request.credentials or request.data_credentials
    if credentials is None:
        raise ConfigError(
            "Alpaca's market data needs a key even in shadow and paper: set LIVEGATE_ALPACA_API_KEY and "
            "LIVEGATE_ALPACA_API_SECRET (or APCA_API_KEY_ID and APCA_API_SECRET_KEY)"
        )
    api_key, secret = _keys(credentials)
    settings = request.settings
    rest = settings.rest_url if settings is not None and settings.rest_url else None
    ws = settings.ws_url if settings is not None and settings.ws_url else None
    feed = request.alpaca_feed
    return AlpacaAdapter(
        api_key,
        secret,
        symbols=request.symbols,
        clock=request.clock,
        paper=paper,
        name=request.venue,
        url_override=rest,
        stream_url_override=f"{ws}/stream" if ws else None,
        stock_data_url_override=f"{ws}/v2/{feed}" if ws else None,
        crypto_data_url_override=f"{ws}/v1beta3/crypto/us" if ws else None,
        request_timeout_secs=(settings.timeout_ms / 1000) if settings is not None else 10.0,
        feed=feed,
        trading=trading,
        fractional=request.allow_fractional,
    )
