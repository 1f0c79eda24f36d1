"""Drift between livegate and a venue: classes, records and ``reconcile_drift.jsonl``.

Drift classes (issue 6):

``missing_internal``
    The venue knows an order or fill that the ledger does not.
``missing_venue``
    The ledger knows a working order or a fill that the venue does not.
``status_mismatch``
    Both know the order but disagree on its status or filled quantity.
``position_mismatch``
    Net positions differ (base units).
``balance_mismatch``
    The venue's cash differs from the cash expected from the ledger (USD).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

#: File name of the drift log inside a run directory (docs/architecture.md §4).
DRIFT_FILE = "reconcile_drift.jsonl"


class DriftKind(StrEnum):
    """The five drift classes of issue 6."""

    MISSING_INTERNAL = "missing_internal"
    MISSING_VENUE = "missing_venue"
    STATUS_MISMATCH = "status_mismatch"
    POSITION_MISMATCH = "position_mismatch"
    BALANCE_MISMATCH = "balance_mismatch"


@dataclass(frozen=True, slots=True)
class DriftRecord:
    """One difference found by a reconciliation.

    Parameters
    ----------
    kind:
        Drift class.
    venue, symbol:
        Where (``symbol`` is the currency for balances).
    internal_value, venue_value:
        What livegate and the venue say, as exact strings (quantity in base units, cash in
        the currency, an order as ``status/filled``); ``""`` when one side knows nothing.
    difference:
        ``venue - internal`` for numbers (exact string), else a short description.
    tolerance:
        The tolerance the difference was judged against (exact string).
    source:
        The venue snapshot that showed it: ``positions``, ``balances``, ``open_orders``,
        ``fetch_order`` or ``fills``.
    trigger:
        Why the reconciliation ran: ``startup``, ``periodic``, ``reconnect``, ``operator``.
    ts_ms:
        Session clock time, ms since the epoch.
    beyond_tolerance:
        True when this record by itself or as part of a count exceeds its tolerance.
    resolved:
        True when livegate adopted the venue's truth (e.g. an ambiguous submit or a fill
        the ledger missed after a crash) and recorded it in the ledger.
    client_order_id:
        The order concerned, or ``""``.
    """

    kind: DriftKind
    venue: str
    symbol: str
    internal_value: str
    venue_value: str
    difference: str
    tolerance: str
    source: str
    trigger: str
    ts_ms: int
    beyond_tolerance: bool = False
    resolved: bool = False
    client_order_id: str = ""

    def to_record(self) -> dict[str, object]:
        """Return the JSON line content (exact strings for amounts)."""
        return {
            "ts_ms": self.ts_ms,
            "kind": self.kind.value,
            "venue": self.venue,
            "symbol": self.symbol,
            "client_order_id": self.client_order_id,
            "internal_value": self.internal_value,
            "venue_value": self.venue_value,
            "difference": self.difference,
            "tolerance": self.tolerance,
            "source": self.source,
            "trigger": self.trigger,
            "beyond_tolerance": self.beyond_tolerance,
            "resolved": self.resolved,
        }


class DriftLog:
    """Append drift records to ``reconcile_drift.jsonl``, one JSON object per line, flushed per batch."""

    __slots__ = ("_path",)

    def __init__(self, path: Path) -> None:
        self._path = path

    @property
    def path(self) -> Path:
        """Return the file path."""
        return self._path

    def write(self, records: Iterable[DriftRecord]) -> int:
        """Append ``records``; return how many were written."""
        lines = [json.dumps(r.to_record(), sort_keys=True) + "\n" for r in records]
        if lines:
            with self._path.open("a", encoding="utf-8") as fh:
                fh.writelines(lines)
        return len(lines)


def read_drift(path: Path) -> list[dict[str, object]]:
    """Return the records of a drift file (empty when it does not exist)."""
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
