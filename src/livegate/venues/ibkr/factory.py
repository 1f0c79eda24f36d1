"""Build an :class:`IbkrAdapter` for ``ibkr:paper`` / ``ibkr:live`` from the registry's :class:`VenueRequest`.

``ibkr:paper`` is an IBKR paper-trading account (TWS default port 7497): the venue of
shadow, paper and testnet sessions. ``ibkr:live`` is a real-money account (port 7496):
the venue of shadow, canary and live sessions. Testnet needs ``ibkr:paper`` (the registry
refuses sandbox on a live account); canary and live on ``ibkr:paper`` are refused here, so
a session armed for real money never trades a paper account believing it is live, and
the reverse. The ``[venue]`` keys ``host``, ``port``, ``client_id``, ``account``,
``market_data`` and ``timeout_ms`` set the connection
(:class:`~livegate.config.ibkr_models.IbkrVenueKeys`). IBKR needs no credentials in
livegate: the login is TWS's.
"""

from __future__ import annotations

import logging

from livegate.config.models import VenueConfig
from livegate.venues.base import VenueAdapter
from livegate.venues.ibkr.adapter import IbkrAdapter
from livegate.venues.registry import VenueRequest

__all__ = ["IBKR_ACCOUNTS", "PACING_INTERVAL_SECS", "build_ibkr"]

#: Spacing of API requests: livegate's rule is ≥ 100 ms between order messages as TWS
#: receives them (IBKR's own limit is 50 messages a second); 25 ms more absorbs socket and
#: scheduling jitter (13 ms seen against the test TWS on a loaded machine).
PACING_INTERVAL_SECS = 0.125

#: ``ibkr:<account kind>`` → paper account?
IBKR_ACCOUNTS = {"paper": True, "live": False}


def build_ibkr(request: VenueRequest) -> VenueAdapter:
    """Return the IBKR adapter ``request`` asks for.

    Raises
    ------
    ValueError
        On an unknown account kind (not ``paper``/``live``), or real-money modes
        (credentials present, not sandbox) on ``ibkr:paper``.
    """
    kind = request.venue.partition(":")[2]
    if kind not in IBKR_ACCOUNTS:
        raise ValueError(f"venue {request.venue!r}: IBKR venues are ibkr:paper and ibkr:live")
    paper = IBKR_ACCOUNTS[kind]
    if paper and request.credentials is not None and not request.sandbox:
        raise ValueError("ibkr:paper is a paper-trading account: canary and live need ibkr:live (testnet: ibkr:paper)")
    settings = request.settings or VenueConfig(name=request.venue)
    # ib_async logs every message at INFO; livegate logs what matters through the adapter
    logging.getLogger("ib_async").setLevel(logging.WARNING)
    timeout_secs = settings.timeout_ms / 1000
    return IbkrAdapter(
        settings.host,
        settings.ibkr_port(paper),
        settings.client_id,
        symbols=list(request.symbols or settings.symbols),
        clock=request.clock,
        name=request.venue,
        account=settings.account,
        submit_ack_timeout_secs=timeout_secs,
        request_timeout_secs=timeout_secs,
        pacing_interval_secs=PACING_INTERVAL_SECS,
        paper=paper,
        market_data=settings.market_data,
    )
