"""The ``[venue]`` keys of an Interactive Brokers venue (``ibkr:paper`` / ``ibkr:live``).

They live in their own model, mixed into :class:`~livegate.config.models.VenueConfig`, so
the ``[venue]`` table stays one table (env ``LIVEGATE_VENUE__HOST``, ``__PORT``,
``__CLIENT_ID``, ``__ACCOUNT``, ``__MARKET_DATA``). Other venues ignore them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = ["IBKR_LIVE_PORT", "IBKR_PAPER_PORT", "IbkrVenueKeys"]

#: TWS's default API socket ports (TWS "Global Configuration > API > Settings": 7497 paper,
#: 7496 live). IB Gateway uses 4002 / 4001: set ``port``.
IBKR_PAPER_PORT = 7497
IBKR_LIVE_PORT = 7496


class IbkrVenueKeys(BaseModel):
    """TWS / IB Gateway API socket and market-data choice.

    Attributes
    ----------
    host : str
        Host of TWS / IB Gateway (its "Trusted IPs" must include this machine).
    port : int
        API socket port; 0 = the TWS default of the venue: 7497 for ``ibkr:paper``,
        7496 for ``ibkr:live``.
    client_id : int
        API client id; orders belong to the client that placed them (TWS error 326 when
        another connection already uses it).
    account : str
        Account code; empty = the only account TWS manages.
    market_data : {"auto", "tick_by_tick", "top_of_book"}
        ``auto`` asks for tick-by-tick bid/ask and trades and falls back to streaming top of
        book when TWS refuses them (no entitlement, 10189 / 10190); the other two force one.
    """

    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65_535)
    client_id: int = Field(default=1, ge=0)
    account: str = ""
    market_data: Literal["auto", "tick_by_tick", "top_of_book"] = "auto"

    def ibkr_port(self, paper: bool) -> int:
        """Return ``port``, or the TWS default for a paper (7497) or live (7496) account when 0."""
        if self.port:
            return self.port
        return IBKR_PAPER_PORT if paper else IBKR_LIVE_PORT
