"""Typed ledger payloads: :func:`decode` picks the frozen dataclass of each event kind the fold reads.

The dataclasses live in :mod:`livegate.ledger.payload_orders` (the order flow) and
:mod:`livegate.ledger.payload_session` (the session), their field readers in
:mod:`livegate.ledger.payload_fields`. The ledger stores payloads as canonical JSON (their hashes must not change, see
:mod:`livegate.ledger.events`); :func:`decode` turns a stored payload back into its typed
value, so every reader (resume, export, reconciliation) reads the same fields the same
way. Money and quantities come back as ``Decimal`` from the exact strings the writer stored.
"""

from __future__ import annotations

from collections.abc import Callable

from livegate.ledger import events as ev
from livegate.ledger.payload_fields import Payload
from livegate.ledger.payload_orders import (
    CancelRequested,
    DecisionRecorded,
    FillRecorded,
    IntentRecorded,
    MarkoutRecorded,
    OrderReported,
    SubmitRequested,
)
from livegate.ledger.payload_session import (
    AnomalyRecorded,
    Reconciled,
    SessionEnded,
    SessionResumed,
    SessionStarted,
    TradingStateChanged,
)

TypedPayload = (
    SessionStarted
    | IntentRecorded
    | DecisionRecorded
    | SubmitRequested
    | OrderReported
    | FillRecorded
    | CancelRequested
    | TradingStateChanged
    | AnomalyRecorded
    | Reconciled
    | SessionResumed
    | SessionEnded
    | MarkoutRecorded
)

_DECODERS: dict[str, Callable[[Payload], TypedPayload]] = {
    ev.SESSION_STARTED: SessionStarted.decode,
    ev.INTENT: IntentRecorded.decode,
    ev.DECISION: DecisionRecorded.decode,
    ev.SUBMIT_REQUESTED: SubmitRequested.decode,
    ev.ORDER_REPORT: OrderReported.decode,
    ev.FILL: FillRecorded.decode,
    ev.CANCEL_REQUESTED: CancelRequested.decode,
    ev.TRADING_STATE_CHANGED: TradingStateChanged.decode,
    ev.ANOMALY: AnomalyRecorded.decode,
    ev.RECONCILED: Reconciled.decode,
    ev.SESSION_RESUMED: SessionResumed.decode,
    ev.SESSION_ENDED: SessionEnded.decode,
    ev.MARKOUT: MarkoutRecorded.decode,
}


def decode(kind: str, payload: Payload) -> TypedPayload | None:
    """Return the typed payload of an event, or None for a kind this build does not read.

    Raises
    ------
    PayloadError
        If a known kind's payload lacks a field or holds a wrong type.
    """
    decoder = _DECODERS.get(kind)
    return None if decoder is None else decoder(payload)
