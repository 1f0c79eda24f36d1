"""Session loop and shutdown settings (``[session]``, ``[shutdown]``); units in the key names."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class SessionConfig(_Section):
    """The session's wall-clock timer (``[session]``).

    ``timer_interval_ms`` is the period of the timer that runs whatever the feed does:
    every tick reads the state store (``livegate kill``, ``rearm``, another process), the
    ``KILL`` file and the storage checks; on a venue stream it also runs the heartbeats,
    the kill triggers (``stale_feed``), venue health, reconciliation and ambiguous-order
    lookups. A kill is seen within one interval.
    """

    timer_interval_ms: int = Field(default=250, gt=0, le=1000)


class ShutdownConfig(_Section):
    """What SIGTERM / SIGINT do (``[shutdown]``).

    ``cancel_open_orders`` cancels every working order before the session ends, waiting
    at most ``cancel_timeout_ms`` of wall time for the venue to confirm none is open.
    When a venue has told livegate to stay away (a 429's ``Retry-After`` or a 418 IP ban
    with its end), confirming cancels at the session end, a stop or a halt waits for that
    end plus the usual timeout, if the end is at most ``ban_wait_max_ms`` away; a longer
    ban ends the session at once with the anomaly ``cancel_all_unconfirmed`` (orders may
    be left open: cancel them with ``livegate cancel-all --venue`` when the ban ends).
    Binance's first IP ban lasts 2 minutes (Binance Spot API "LIMITS": "IP bans are
    tracked and scale in duration for repeat offenders, from 2 minutes to 3 days"),
    hence the default of 150 s.
    """

    cancel_open_orders: bool = True
    cancel_timeout_ms: int = Field(default=5000, gt=0)
    ban_wait_max_ms: int = Field(default=150_000, ge=0)
