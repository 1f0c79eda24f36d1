"""The exchange failures the fake venue (:mod:`livegate.venues.fake`) simulates, and their text form.

:meth:`FakeFaults.parse` reads the comma-separated fault list tests pass in
``LIVEGATE_TEST_VENUE_FAULT``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from livegate.domain.errors import ConfigError

__all__ = ["FakeFaults"]


@dataclass(frozen=True, slots=True)
class FakeFaults:
    """Exchange failures the fake venue simulates; none by default.

    Parameters
    ----------
    auth_on_submit:
        Every submit fails with ``Fatal`` code ``AUTH``, as an exchange answers a revoked
        or wrong API key (ccxt ``AuthenticationError``).
    interruptions:
        Stream position (0-based count of events yielded so far) → reason: before that
        event the stream yields :class:`~livegate.venues.base.StreamInterrupted` with the
        reason (``"reconnect"``, ``"sequence gap"``).
    failing_reads:
        After each interruption, this many account reads (open orders, positions,
        balances) fail with ``Retryable``, as a venue still recovering would.
    unknown_after_accept:
        The venue takes the n-th submit (1-based), then its answer is lost: the call
        raises ``Ambiguous`` code ``-1007`` (Binance "Timeout waiting for response from
        backend server. Send status unknown; execution status unknown.", HTTP 503).
    lookup_lag:
        Lookups by client order id of such an order find nothing (the venue's read side
        lags its matching engine), so only venue reports or reconciliation can settle it.
    silent_after:
        After this many events the stream stays connected but yields nothing more (a
        silent feed), until the session closes it. None: never.
    events_per_sec:
        Pace the stream at this many events per second of wall time. None: as fast as
        the session takes them.
    book_file:
        When set, :meth:`FakeVenue.close` writes the venue's open orders and positions to
        this JSON file (``{"open_orders": [...], "positions": {...}}``).
    """

    auth_on_submit: bool = False
    interruptions: Mapping[int, str] = field(default_factory=dict)
    failing_reads: int = 0
    unknown_after_accept: int = 0
    lookup_lag: bool = False
    silent_after: int | None = None
    events_per_sec: float | None = None
    book_file: Path | None = None

    @classmethod
    def parse(cls, text: str) -> FakeFaults:
        """Parse a comma-separated fault list (``LIVEGATE_TEST_VENUE_FAULT``).

        Items: ``auth_on_submit``, ``reconnect:<n>``, ``gap:<n>`` (interrupt before the
        ``n``-th event), ``failing_reads:<n>``, ``unknown_after_accept:<n>``, ``lookup_lag``,
        ``silent:<n>`` (silent after ``n`` events), ``pace:<events per second>``,
        ``book_file:<path>`` (last item: the path may hold commas). Empty text means no faults.

        Raises
        ------
        ConfigError
            On an unknown item or a malformed number.
        """
        auth, interruptions, failing, unknown, lag = False, {}, 0, 0, False
        silent: int | None = None
        pace: float | None = None
        book: Path | None = None
        head, marker, book_text = text.partition("book_file:")
        if marker:
            if not book_text.strip():
                raise ConfigError("fake venue fault book_file: needs a path")
            book = Path(book_text.strip())
        for item in filter(None, (part.strip() for part in head.split(","))):
            name, _, arg = item.partition(":")
            if name == "auth_on_submit" and not arg:
                auth = True
            elif name == "lookup_lag" and not arg:
                lag = True
            elif name == "unknown_after_accept" and arg.isdigit():
                unknown = int(arg)
            elif name in ("reconnect", "gap", "failing_reads", "silent") and arg.isdigit():
                if name == "failing_reads":
                    failing = int(arg)
                elif name == "silent":
                    silent = int(arg)
                else:
                    interruptions[int(arg)] = "reconnect" if name == "reconnect" else "sequence gap"
            elif name == "pace" and arg.isdigit() and int(arg) > 0:
                pace = float(arg)
            else:
                raise ConfigError(
                    f"fake venue fault {item!r}: expected auth_on_submit, reconnect:<n>, gap:<n>, failing_reads:<n>, "
                    "unknown_after_accept:<n>, lookup_lag, silent:<n>, pace:<events per second> or book_file:<path>"
                )
        return cls(
            auth_on_submit=auth,
            interruptions=interruptions,
            failing_reads=failing,
            unknown_after_accept=unknown,
            lookup_lag=lag,
            silent_after=silent,
            events_per_sec=pace,
            book_file=book,
        )
