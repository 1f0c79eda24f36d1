"""When to reconcile: the periodic schedule and the reconciliation due after stream trouble."""

from __future__ import annotations

from livegate.domain.enums import AnomalyKind
from livegate.reconcile.gate import ReconcileStatus
from livegate.reconcile.reconciler import Reconciler
from livegate.reconcile.result import ReconcileIncomplete, ReconcileResult

__all__ = ["ReconcileSchedule"]


class ReconcileSchedule:
    """When to reconcile: every ``interval_secs`` of session time and right after stream trouble.

    Parameters
    ----------
    interval_ms:
        Period in ms of session time.
    status:
        Flag shared with :class:`~livegate.reconcile.gate.ReconcileGate`; set while a
        post-reconnect reconciliation is pending or running.
    start_ms:
        Session time of the first scheduled run is ``start_ms + interval_ms``.
    """

    __slots__ = ("_interval_ms", "_trigger", "next_due_ms", "status")

    def __init__(self, interval_ms: int, status: ReconcileStatus, start_ms: int) -> None:
        self._interval_ms = interval_ms
        self.status = status
        self.next_due_ms = start_ms + interval_ms
        self._trigger = "periodic"

    def stream_interrupted(self, reason: str) -> None:
        """Note a reconnect or sequence gap: deny new orders and reconcile at the next chance."""
        self.status.begin(f"after {reason}")
        self._trigger = "reconnect"
        self.next_due_ms = 0

    async def run(self, reconciler: Reconciler, now_ms: int) -> ReconcileResult | None:
        """Reconcile now; return None when the venue could not be asked (the gate stays closed after a reconnect).

        Raises
        ------
        ReconcileIncomplete
            Never; a failed run is reported through the reconciler's anomaly callback.
        """
        trigger = self._trigger
        self.next_due_ms = now_ms + self._interval_ms
        try:
            result = await reconciler.reconcile(trigger)
        except ReconcileIncomplete as exc:
            reconciler.anomaly(AnomalyKind.RECONCILE_INCOMPLETE, f"{trigger}: {exc}")
            return None
        self._trigger = "periodic"
        self.status.end()
        return result
