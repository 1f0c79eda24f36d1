"""What one reconciliation produces: its result, the error when the venue cannot be asked, and its count.

:class:`~livegate.reconcile.reconciler.Reconciler` returns a :class:`ReconcileResult` per
run, raises :class:`ReconcileIncomplete` when the venue does not answer, and counts each
run with :func:`count_run`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from livegate.domain.errors import LivegateError
from livegate.reconcile.drift import DriftRecord
from livegate.telemetry.metrics import SessionMetrics

__all__ = ["ReconcileIncomplete", "ReconcileResult", "count_run"]


class ReconcileIncomplete(LivegateError):
    """The venue could not be asked (unreachable, refused); trading must not start (exit 2)."""


@dataclass(slots=True)
class ReconcileResult:
    """One reconciliation: why it ran, what it found, and the drift records."""

    trigger: str
    ts_ms: int
    records: list[DriftRecord] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Return True when nothing unresolved differs."""
        return not any(not r.resolved for r in self.records)

    @property
    def beyond_tolerance(self) -> list[DriftRecord]:
        """Return the unresolved records beyond their tolerance."""
        return [r for r in self.records if r.beyond_tolerance and not r.resolved]


def count_run(metrics: SessionMetrics, venue: str, result: ReconcileResult, beyond: list[DriftRecord]) -> None:
    """Count one run in ``metrics`` by trigger and outcome, and its differences beyond tolerance by kind."""
    outcome = "drift" if beyond else ("clean" if result.clean else "within_tolerance")
    kinds: dict[str, int] = {}
    for record in beyond:
        kinds[record.kind.value] = kinds.get(record.kind.value, 0) + 1
    metrics.reconcile_run(venue, result.trigger, outcome, kinds)
