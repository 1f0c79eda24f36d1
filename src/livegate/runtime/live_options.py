"""The ``livegate run`` options of real-venue sessions, apart from the session that uses them.

A replay never imports :mod:`livegate.runtime.live_session`; the CLI and the start
decision still take these options for every run.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LiveOptions"]


@dataclass(frozen=True, slots=True)
class LiveOptions:
    """The ``livegate run`` options of real-venue sessions and the live gate.

    Parameters
    ----------
    enable_live:
        ``--enable-live``, the CLI arming key.
    fallback_shadow:
        ``--fallback-shadow``: run shadow instead of refusing when the gate refuses.
    ignore_market_hours:
        ``--ignore-market-hours``: trade through a closed calendar.
    venue:
        ``--venue``: overrides ``[venue] name`` (e.g. ``fake:demo``).
    symbols:
        ``--symbol`` (repeatable): overrides ``[venue] symbols``.
    max_events:
        Stop after this many market-data events (None: until the stream ends).
    max_minutes:
        ``--minutes``: stop after this many minutes of wall time (None: no bound).
    """

    enable_live: bool = False
    fallback_shadow: bool = False
    ignore_market_hours: bool = False
    venue: str | None = None
    symbols: tuple[str, ...] = ()
    max_events: int | None = None
    max_minutes: float | None = None
