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
    """

    cancel_open_orders: bool = True
    cancel_timeout_ms: int = Field(default=5000, gt=0)
