"""Configuration and credentials of a :class:`~livegate.venues.ccxt.adapter.CcxtAdapter`.

Venue quirks decided on purpose (docs/venues.md):

* **Hyperliquid**: ccxt by default signs an ``approveBuilderFee`` action and a
  ``setReferrer`` action before the first order. livegate sets ``builderFee=False``,
  ``approvedBuilderFee=True`` and ``refSet=True``: no approval and no referrer action is
  sent; ccxt then tags orders with its builder at a 0 fee (``f=0``), which costs nothing.
* **Binance** (spot, USD-M, COIN-M): ``fetchMargins=False`` so market loading never
  calls the margin-pair endpoints (they need keys and margin permission);
  ``fetchCurrencies=False`` (the ``sapi`` coin list needs keys and is not needed to
  trade); market loading reads only the product's own exchangeInfo (``binance``: spot,
  ``binanceusdm``: linear); ``fetchOpenOrders.warnWithoutSymbol=False`` so an open-order
  read for the whole account is sent (Binance weight 80 spot / 40 USD-M) instead of
  being refused by ccxt before any request: reconciliation, the halt routine and the
  open-order count need every open order, whatever its symbol.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = ["CcxtConfig", "CcxtCredentials", "default_options", "rewrite_urls"]

_OPTIONS: dict[str, dict[str, Any]] = {
    "hyperliquid": {"builderFee": False, "approvedBuilderFee": True, "refSet": True},
    "binance": {
        "fetchMargins": False,
        "fetchCurrencies": False,
        "fetchMarkets": {"types": ["spot"], "loadAllOptions": False},
        "fetchOpenOrders": {"warnWithoutSymbol": False},
    },
    "binanceusdm": {
        "fetchMargins": False,
        "fetchCurrencies": False,
        "fetchMarkets": {"types": ["linear"], "loadAllOptions": False},
        "fetchOpenOrders": {"warnWithoutSymbol": False},
    },
    "binancecoinm": {"fetchMargins": False, "fetchOpenOrders": {"warnWithoutSymbol": False}},
}


@dataclass(frozen=True, slots=True)
class CcxtCredentials:
    """Secrets for one exchange account; every field is hidden from ``repr``.

    ``api_key``/``secret``/``password`` for CEXs, ``wallet_address``/``private_key`` for
    Hyperliquid and Paradex.
    """

    api_key: str = field(default="", repr=False)
    secret: str = field(default="", repr=False)
    password: str = field(default="", repr=False)
    wallet_address: str = field(default="", repr=False)
    private_key: str = field(default="", repr=False)

    def present(self) -> bool:
        """Return True when any credential is set."""
        return bool(self.api_key or self.wallet_address or self.private_key)

    def to_ccxt(self) -> dict[str, str]:
        """Return the non-empty fields under ccxt's constructor names."""
        pairs = {
            "apiKey": self.api_key,
            "secret": self.secret,
            "password": self.password,
            "walletAddress": self.wallet_address,
            "privateKey": self.private_key,
        }
        return {k: v for k, v in pairs.items() if v}

    def fingerprint(self) -> str:
        """Return 12 hex digits of SHA-256 of the public identity (key or wallet), for rate budgets."""
        ident = self.api_key or self.wallet_address or "anonymous"
        return hashlib.sha256(ident.encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class CcxtConfig:
    """How to build and drive one ccxt exchange.

    Parameters
    ----------
    exchange_id:
        A ccxt exchange id, e.g. ``"binanceusdm"``, ``"kraken"``, ``"hyperliquid"``.
    name:
        Venue name in the engine and ledger; default ``"ccxt:<exchange_id>"``.
    sandbox:
        Use the exchange's testnet (``set_sandbox_mode(True)``); refused when ccxt has no
        ``urls['test']``.
    timeout_ms:
        ccxt request timeout; a request slower than this is an Ambiguous outcome.
    options:
        ccxt options merged over livegate's per-exchange defaults.
    rest_url, ws_url:
        Replace scheme and host of every REST / websocket URL (keep the path), e.g. a
        loopback replay server or a proxy.
    markets, markets_precision_mode:
        A unified market table installed instead of calling ``load_markets`` (a recorded
        table or a cache), and the ccxt precision mode it was written in (2 = decimal
        places, 4 = tick size) when it differs from the exchange's.
    requests_per_sec:
        Shared rate budget per venue and key; default ``1000 / exchange.rateLimit``.
    rate_weight_per_min:
        The ``[venue] rate_weight_per_min`` budget in the venue's own weight units per
        minute (Binance ``REQUEST_WEIGHT``); None = the adapter's default.
    read_retry_attempts, read_backoff_secs:
        Tenacity retries of idempotent reads on Retryable/Ambiguous errors, with
        exponential backoff starting at ``read_backoff_secs``. Submit is never retried.
    order_stream:
        Start ``watchOrders``/``watchMyTrades`` on connect (needs credentials).
    symbols:
        Symbols the session trades; ``recent_fills`` reads fills per symbol from these
        (and the symbols the adapter has traded) where ccxt's ``fetchMyTrades`` needs one.
    """

    exchange_id: str
    name: str = ""
    sandbox: bool = False
    timeout_ms: int = 10_000
    options: Mapping[str, Any] = field(default_factory=dict)
    rest_url: str | None = None
    ws_url: str | None = None
    markets: Mapping[str, Any] | None = None
    markets_precision_mode: int | None = None
    requests_per_sec: float | None = None
    rate_weight_per_min: int | None = None
    read_retry_attempts: int = 3
    read_backoff_secs: float = 0.5
    order_stream: bool = True
    symbols: tuple[str, ...] = ()


def default_options(exchange_id: str) -> dict[str, Any]:
    """Return livegate's ccxt option defaults for ``exchange_id`` (see the module docstring)."""
    return dict(_OPTIONS.get(exchange_id, {}))


def rewrite_urls(urls: Any, rest_url: str | None, ws_url: str | None) -> Any:
    """Return ``urls`` (a string or nested dict/list) with scheme and host replaced, paths kept.

    ``https://fapi.binance.com/fapi/v1`` with ``rest_url="http://127.0.0.1:8080"`` becomes
    ``http://127.0.0.1:8080/fapi/v1``; ``wss://...`` URLs use ``ws_url``.
    """
    if isinstance(urls, dict):
        return {k: rewrite_urls(v, rest_url, ws_url) for k, v in urls.items()}
    if isinstance(urls, list):
        return [rewrite_urls(v, rest_url, ws_url) for v in urls]
    if not isinstance(urls, str):
        return urls
    parts = urlsplit(urls)
    base = rest_url if parts.scheme in ("http", "https") else ws_url if parts.scheme in ("ws", "wss") else None
    if not base:
        return urls
    target = urlsplit(base)
    return urlunsplit((target.scheme, target.netloc, target.path.rstrip("/") + parts.path, parts.query, ""))
