"""Exchange calendars for equity market hours, from the optional ``livegate[equities]`` extra.

exchange_calendars pulls in pandas and numpy (about 165 MB installed), which a crypto
user never needs, so it is not a base dependency: the ``equities`` extra (which the
``alpaca`` and ``ibkr`` extras include) installs it, and it is imported only when a
calendar is configured.
"""

from __future__ import annotations

from typing import Any

from livegate.domain.errors import ConfigError

__all__ = ["EQUITIES_EXTRA_HINT", "get_calendar"]

EQUITIES_EXTRA_HINT = "pip install 'livegate[equities]'"


def get_calendar(name: str) -> Any:
    """Return the exchange_calendars calendar ``name`` (e.g. ``"XNYS"``, New York Stock Exchange).

    Raises
    ------
    ConfigError
        If exchange_calendars is not installed (the message gives the install command) or
        does not know ``name``.
    """
    try:
        import exchange_calendars
    except ImportError as exc:
        raise ConfigError(
            f"market calendar {name!r} needs exchange_calendars, which is not installed: {EQUITIES_EXTRA_HINT}"
        ) from exc
    try:
        return exchange_calendars.get_calendar(name)
    except exchange_calendars.errors.InvalidCalendarName as exc:
        raise ConfigError(f"unknown market calendar {name!r} (exchange_calendars name, e.g. XNYS)") from exc
