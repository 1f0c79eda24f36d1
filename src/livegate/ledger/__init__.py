"""Write-ahead, hash-chained ledger of every intent, decision, order and fill (docs/architecture.md §3.5).

Layer L2: imports :mod:`livegate.domain`, :mod:`livegate.config`, :mod:`livegate.portfolio` (the
fold replays reports into a portfolio) and the stdlib.

Export and verification (:func:`export_rows`, :func:`verify_ledger`...) are imported on
first use: a session writes its ledger without them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from livegate.ledger.db import LEDGER_FILENAME
from livegate.ledger.events import (
    ANOMALY,
    CANCEL_REQUESTED,
    DECISION,
    FILL,
    GENESIS_HASH,
    INTENT,
    KNOWN_KINDS,
    ORDER_REPORT,
    SESSION_ENDED,
    SESSION_STARTED,
    SUBMIT_REQUESTED,
    TRADING_STATE_CHANGED,
    LedgerEvent,
)
from livegate.ledger.store import Ledger

if TYPE_CHECKING:
    from livegate.ledger.export import export_rows, write_export, write_rows
    from livegate.ledger.verify import VerifyResult, verify_ledger

__all__ = [
    "ANOMALY",
    "CANCEL_REQUESTED",
    "DECISION",
    "FILL",
    "GENESIS_HASH",
    "INTENT",
    "KNOWN_KINDS",
    "LEDGER_FILENAME",
    "ORDER_REPORT",
    "SESSION_ENDED",
    "SESSION_STARTED",
    "SUBMIT_REQUESTED",
    "TRADING_STATE_CHANGED",
    "Ledger",
    "LedgerEvent",
    "VerifyResult",
    "export_rows",
    "verify_ledger",
    "write_export",
    "write_rows",
]

_HOMES = {
    "export_rows": "livegate.ledger.export",
    "write_export": "livegate.ledger.export",
    "write_rows": "livegate.ledger.export",
    "VerifyResult": "livegate.ledger.verify",
    "verify_ledger": "livegate.ledger.verify",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'livegate.ledger' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
