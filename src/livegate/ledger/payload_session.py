"""Typed payloads of the session, one frozen dataclass per event kind.

The kinds: ``session_started``, ``trading_state_changed``, ``anomaly``, ``reconciled``,
``session_resumed`` and ``session_ended`` (:func:`livegate.ledger.payloads.decode` picks the
dataclass).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from livegate.domain.enums import TradingState
from livegate.ledger.payload_fields import Payload, PayloadError, _decimal, _int, _opt_str, _str


@dataclass(frozen=True, slots=True)
class SessionStarted:
    """``session_started``: identity of the run (inputs are content digests, issue 9 item 12)."""

    session_id: str
    mode: str
    config_hash: str
    inputs: tuple[str, ...]

    @classmethod
    def decode(cls, payload: Payload) -> SessionStarted:
        """Return the typed payload (raises :class:`PayloadError`)."""
        raw = payload.get("inputs")
        inputs = tuple(str(i) for i in raw) if isinstance(raw, list) else ()
        return cls(_str(payload, "session_id"), _str(payload, "mode"), _opt_str(payload, "config_hash"), inputs)


@dataclass(frozen=True, slots=True)
class TradingStateChanged:
    """``trading_state_changed``: the kill switch moved to ``state`` because of ``reason``."""

    state: TradingState
    reason: str

    @classmethod
    def decode(cls, payload: Payload) -> TradingStateChanged:
        """Return the typed payload (raises :class:`PayloadError`)."""
        try:
            state = TradingState(_str(payload, "state"))
        except ValueError as exc:
            raise PayloadError(str(exc)) from exc
        return cls(state, _opt_str(payload, "reason"))


@dataclass(frozen=True, slots=True)
class AnomalyRecorded:
    """``anomaly``: its kind (an :class:`~livegate.domain.enums.AnomalyKind` value) and detail."""

    kind: str
    detail: str

    @classmethod
    def decode(cls, payload: Payload) -> AnomalyRecorded:
        """Return the typed payload (raises :class:`PayloadError`)."""
        return cls(_opt_str(payload, "kind"), _opt_str(payload, "detail"))


@dataclass(frozen=True, slots=True)
class FillsMatched:
    """Where a reconciliation found the venue's fills and the ledger's equal (``reconciled`` field ``fills_matched``).

    ``ledger_fills``: how many of the ledger fold's applied fills (all venues, in fold
    order) it had compared; ``venue_cursor``: the venue's fill sequence it had read up to
    (:class:`~livegate.reconcile.fills.FillJournal`, 0 otherwise); ``venue_newest_ms``:
    the newest venue fill time it had seen (ms since the epoch; None: none).
    """

    ledger_fills: int
    venue_cursor: int
    venue_newest_ms: int | None

    @classmethod
    def decode(cls, raw: object) -> FillsMatched | None:
        """Return the typed field, None when absent (raises :class:`PayloadError`)."""
        if raw is None:
            return None
        if not isinstance(raw, Mapping):
            raise PayloadError(f"field 'fills_matched' must be an object, got {raw!r}")
        newest = raw.get("venue_newest_ms")
        if newest is not None:
            newest = _int(raw, "venue_newest_ms")
        return cls(_int(raw, "ledger_fills"), _int(raw, "venue_cursor"), newest)

    def to_record(self) -> dict[str, object]:
        """Return the JSON-ready field."""
        return {
            "ledger_fills": self.ledger_fills,
            "venue_cursor": self.venue_cursor,
            "venue_newest_ms": self.venue_newest_ms,
        }


@dataclass(frozen=True, slots=True)
class Reconciled:
    """``reconciled``: a reconciliation ran; ``balance_baseline`` is set by the first one that learned it.

    ``fills_matched`` is set when its fill comparison found both sides equal (issue 14
    item 7: a resume compares only the fills after it).
    """

    venue: str
    clean: bool
    balance_baseline: tuple[tuple[str, Decimal], ...] | None
    fills_matched: FillsMatched | None = None

    @classmethod
    def decode(cls, payload: Payload) -> Reconciled:
        """Return the typed payload (raises :class:`PayloadError`)."""
        raw = payload.get("balance_baseline")
        baseline = None
        if isinstance(raw, Mapping):
            baseline = tuple((str(c), _decimal(raw, str(c))) for c in raw)
        matched = FillsMatched.decode(payload.get("fills_matched"))
        return cls(_opt_str(payload, "venue"), payload.get("clean") is True, baseline, matched)


@dataclass(frozen=True, slots=True)
class SessionResumed:
    """``session_resumed``: a crashed run continued."""

    session_id: str

    @classmethod
    def decode(cls, payload: Payload) -> SessionResumed:
        """Return the typed payload (raises :class:`PayloadError`)."""
        return cls(_opt_str(payload, "session_id"))


@dataclass(frozen=True, slots=True)
class SessionEnded:
    """``session_ended``: the run ended for ``reason``."""

    reason: str

    @classmethod
    def decode(cls, payload: Payload) -> SessionEnded:
        """Return the typed payload (raises :class:`PayloadError`)."""
        return cls(_opt_str(payload, "reason"))
