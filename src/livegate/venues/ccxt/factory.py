"""Build a :class:`CcxtAdapter` for ``ccxt:<exchange_id>`` from the registry's :class:`VenueRequest`."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from livegate.config.credentials import Credentials
from livegate.config.models import VenueConfig
from livegate.venues.base import VenueAdapter, VenueCapabilities
from livegate.venues.ccxt.adapter import CcxtAdapter
from livegate.venues.ccxt.config import CcxtConfig, CcxtCredentials
from livegate.venues.registry import AdapterFactory, VenueRequest

__all__ = [
    "CONTRACT_TESTED",
    "TESTED_EXCHANGES",
    "credentials_for_ccxt",
    "exchange_capabilities",
    "make_factory",
    "with_venue_settings",
]


def credentials_for_ccxt(credentials: Credentials | None) -> CcxtCredentials:
    """Map livegate's credential fields onto ccxt's; empty when None (shadow, paper).

    ``api_key``, ``api_secret``, ``api_passphrase``, ``wallet_address`` and ``private_key``
    become ``apiKey``, ``secret``, ``password``, ``walletAddress`` and ``privateKey``.
    """
    if credentials is None:
        return CcxtCredentials()
    return CcxtCredentials(
        api_key=credentials.reveal("api_key") or "",
        secret=credentials.reveal("api_secret") or "",
        password=credentials.reveal("api_passphrase") or "",
        wallet_address=credentials.reveal("wallet_address") or "",
        private_key=credentials.reveal("private_key") or "",
    )


def with_venue_settings(config: CcxtConfig, settings: VenueConfig) -> CcxtConfig:
    """Return ``config`` with the ``[venue]`` keys applied: endpoints, timeout, ccxt options, weight budget.

    Empty ``rest_url``/``ws_url`` keep ccxt's endpoints; ``ccxt_options`` is deep-merged
    over livegate's exchange defaults when the exchange is built.
    """
    return replace(
        config,
        rest_url=settings.rest_url or None,
        ws_url=settings.ws_url or None,
        timeout_ms=settings.timeout_ms,
        options=dict(settings.ccxt_options),
        rate_weight_per_min=settings.rate_weight_per_min or None,
    )


def make_factory(**overrides: Any) -> AdapterFactory:
    """Return a factory for ``ccxt:<exchange_id>`` venues; ``overrides`` are :class:`CcxtConfig` fields.

    The request's sandbox flag selects the exchange's testnet; its credentials (None in
    shadow and paper) become ccxt's ``apiKey``/``secret``/... ; its ``[venue]`` settings
    set endpoints, timeout, ccxt options and the weight budget
    (:func:`with_venue_settings`).
    """

    def build(request: VenueRequest) -> VenueAdapter:
        exchange_id = request.venue.partition(":")[2]
        config = CcxtConfig(exchange_id, name=request.venue, sandbox=request.sandbox, symbols=tuple(request.symbols))
        if request.settings is not None:
            config = with_venue_settings(config, request.settings)
        config = replace(config, **overrides)
        return CcxtAdapter(config, credentials_for_ccxt(request.credentials), clock=request.clock)

    return build


#: Exchanges issue 5 names; ``livegate venues`` lists these by default.
TESTED_EXCHANGES = ("binance", "binanceusdm", "kraken", "coinbase", "hyperliquid", "paradex")

_FULL = ("submit", "cancel", "cancel-all", "by-client-id", "open-orders", "positions", "balances", "errors")

#: What the offline suite (tests/contract/test_ccxt_*.py) checks per exchange against recorded
#: traffic; everything else is not applicable for want of a recording (docs/venues.md).
CONTRACT_TESTED: dict[str, tuple[str, ...]] = {
    "binance": (*_FULL, "order-stream", "fills", "client-id-request"),
    "binanceusdm": (*_FULL, "fills", "client-id-request"),
    "hyperliquid": (*_FULL, "fills"),
    "kraken": ("submit", "by-client-id", "open-orders", "positions", "errors", "md-stream", "client-id-request"),
    "coinbase": ("by-client-id", "balances", "errors", "fills", "md-stream", "client-id-request"),
    "paradex": ("by-client-id", "positions", "balances", "instruments"),
}


def exchange_capabilities(exchange_id: str) -> VenueCapabilities:
    """Return what the adapter can do on ``exchange_id``, from ccxt's ``has``/``urls`` (no network).

    Raises
    ------
    ConfigError
        If ccxt has no exchange ``exchange_id``.
    """
    return CcxtAdapter(CcxtConfig(exchange_id)).capabilities
