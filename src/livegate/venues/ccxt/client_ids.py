"""Map our client order id onto each exchange's client-id parameter (docs/architecture.md §3.6).

ccxt unifies the parameter as ``params["clientOrderId"]`` and renames it per exchange:
Binance ``newClientOrderId`` (on cancel/fetch ``origClientOrderId``), Kraken ``cl_ord_id``,
Coinbase ``client_order_id``, Hyperliquid ``c``/``cloid``, Paradex ``client_id``
(ccxt 4.5.90 ``async_support/<id>.py``). Where the venue's format differs from ours the
mapping is a deterministic function of our id, so a restart can still look orders up.

Exception: ccxt 4.5.90's Coinbase ``createOrder`` drops ``params.clientOrderId`` and
sends a random ``ccxt-<uuid>`` unless ``client_order_id`` itself is given, so for
Coinbase the venue's own parameter name is passed (:func:`submit_params`); the request
fixture test (tests/contract/test_ccxt_requests.py) holds every exchange to this.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from typing import Any

__all__ = [
    "CANCEL_BY_CLIENT_ID",
    "FETCH_BY_CLIENT_ID",
    "HASHED_CLIENT_IDS",
    "submit_params",
    "venue_cid_of",
    "venue_client_id",
]

#: Exchanges whose ccxt ``fetchOrder`` takes ``params.clientOrderId`` (else scan orders).
#: Kraken's fetchOrder turns clientOrderId into the integer ``userref``, so it is scanned.
FETCH_BY_CLIENT_ID = frozenset({"binance", "binanceusdm", "binancecoinm", "hyperliquid", "paradex"})

#: Exchanges whose ccxt ``cancelOrder`` takes ``params.clientOrderId`` (else look the id up first).
CANCEL_BY_CLIENT_ID = frozenset({"binance", "binanceusdm", "binancecoinm", "kraken", "hyperliquid", "paradex"})


#: Exchanges that are sent a hash of our client id, not the id itself (:func:`venue_client_id`).
HASHED_CLIENT_IDS = frozenset({"hyperliquid", "kraken"})

#: Keys of a venue's raw order or trade (ccxt ``info``) that carry the client id, by exchange naming.
_CLIENT_ID_KEYS = ("clientOrderId", "c", "cl_ord_id", "client_order_id", "cloid", "client_id", "newClientOrderId")

#: Exchanges whose ccxt ``createOrder`` ignores the unified ``clientOrderId``: their own name.
_SUBMIT_PARAM = {"coinbase": "client_order_id"}


def submit_params(exchange_id: str, venue_cid: str) -> dict[str, str]:
    """Return the ccxt ``createOrder`` params that carry ``venue_cid`` to ``exchange_id``."""
    return {_SUBMIT_PARAM.get(exchange_id, "clientOrderId"): venue_cid}


def venue_client_id(exchange_id: str, client_order_id: str) -> str:
    """Return the client id sent to ``exchange_id`` for our ``client_order_id``.

    * Hyperliquid ``cloid`` must be a 128-bit hex string: ``0x`` + the first 32 hex digits
      of SHA-256 of our id.
    * Kraken ``cl_ord_id`` takes a UUID or at most 18 characters of free text; our ids
      are up to 36, so they become the UUID made of the first 16 bytes of SHA-256.
    * Everyone else takes ours unchanged (``[A-Za-z0-9-]{1,36}``, see ``domain.ids``).
    """
    digest = hashlib.sha256(client_order_id.encode()).digest()
    if exchange_id == "hyperliquid":
        return "0x" + digest[:16].hex()
    if exchange_id == "kraken":
        return str(uuid.UUID(bytes=digest[:16]))
    return client_order_id


def venue_cid_of(item: Mapping[str, Any]) -> str:
    """Return the client id a unified order or trade carries (ccxt's, else the venue's raw field); ``""`` if none."""
    value = item.get("clientOrderId")
    if not value:
        info = item.get("info")
        if isinstance(info, Mapping):
            for key in _CLIENT_ID_KEYS:
                if info.get(key):
                    value = info[key]
                    break
    return "" if value is None else str(value)
