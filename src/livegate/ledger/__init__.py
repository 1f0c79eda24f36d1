"""Write-ahead, hash-chained ledger of every intent, decision, order and fill (docs/architecture.md §3.5).

Layer L2: imports :mod:`livegate.domain`, :mod:`livegate.config`, :mod:`livegate.portfolio` (the
fold replays reports into a portfolio) and the stdlib.
"""

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
from livegate.ledger.export import export_rows, write_export, write_rows
from livegate.ledger.store import Ledger
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
