"""Build the ccxt exchange object of a :class:`~livegate.venues.ccxt.adapter.CcxtAdapter`.

One ``ccxt.pro.<id>`` object serves REST and streams when the exchange has a pro class
(else ``ccxt.async_support.<id>``). ccxt's own rate limiter is off: livegate's shared
budgets pace every request (:mod:`livegate.venues.ccxt.calls`).
"""

from __future__ import annotations

from typing import Any

import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro

from livegate.domain.errors import ConfigError
from livegate.venues.ccxt.config import CcxtConfig, CcxtCredentials, default_options, rewrite_urls

__all__ = ["build_exchange", "spot_account"]


def spot_account(exchange: Any, exchange_id: str) -> bool:
    """Return True for ccxt's ``binance`` class on its default spot account: it has no positions.

    (ccxt's ``fetchPositions`` there would silently read the USD-M futures account.)
    """
    return exchange_id == "binance" and exchange.options.get("defaultType", "spot") == "spot"


def build_exchange(config: CcxtConfig, credentials: CcxtCredentials) -> Any:
    """Return the ccxt exchange object for ``config``, signed with ``credentials``.

    Raises
    ------
    ConfigError
        Unknown ccxt exchange id, or ``sandbox`` asked of an exchange without one.
    """
    exchange_id = config.exchange_id
    cls = getattr(ccxt_pro, exchange_id, None) or getattr(ccxt_async, exchange_id, None)
    if cls is None or exchange_id not in ccxt_async.exchanges:
        raise ConfigError(f"unknown ccxt exchange id {exchange_id!r}")
    exchange = cls(
        {
            **credentials.to_ccxt(),
            "enableRateLimit": False,  # livegate's shared budget (limits.py) paces requests
            "enableLastJsonResponse": True,  # venue error codes, see errors.venue_code
            "timeout": config.timeout_ms,
        }
    )
    # nested option tables (e.g. fetchOpenOrders) are merged, not replaced: ccxt keeps keys of its own there
    exchange.options = exchange.deep_extend(exchange.options, default_options(exchange_id), dict(config.options))
    if config.sandbox:
        if not exchange.urls.get("test"):
            raise ConfigError(f"ccxt exchange {exchange_id!r} has no sandbox (urls['test'])")
        exchange.set_sandbox_mode(True)
    if config.markets_precision_mode is not None:
        exchange.precisionMode = config.markets_precision_mode
    if config.rest_url or config.ws_url:
        exchange.urls["api"] = rewrite_urls(exchange.urls["api"], config.rest_url, config.ws_url)
    return exchange
