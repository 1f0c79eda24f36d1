"""The RECONCILING gate: no new orders while a post-reconnect reconciliation runs (issue 6).

After a stream reconnect or a sequence gap livegate may have missed reports, so its
picture of open orders and positions is unproven until the venue has been asked again.
Cancels do not pass through gates and stay possible.
"""

from __future__ import annotations

from livegate.domain.enums import DenialCode
from livegate.domain.orders import OrderIntent
from livegate.risk.gate import Deny, RiskContext


class ReconcileStatus:
    """Whether a reconciliation that must block new orders is running, and why."""

    __slots__ = ("reason", "reconciling")

    def __init__(self) -> None:
        self.reconciling = False
        self.reason = ""

    def begin(self, reason: str) -> None:
        """Block new orders until :meth:`end`."""
        self.reconciling = True
        self.reason = reason

    def end(self) -> None:
        """Let new orders through again."""
        self.reconciling = False
        self.reason = ""


class ReconcileGate:
    """Deny every intent with ``RECONCILING`` while ``status.reconciling`` is set.

    Parameters
    ----------
    status:
        Shared flag set by the reconcile schedule around post-reconnect reconciliations.
    """

    name = "reconciling"

    def __init__(self, status: ReconcileStatus) -> None:
        self._status = status

    def check(self, intent: OrderIntent, ctx: RiskContext) -> Deny | None:
        """Return a ``RECONCILING`` denial while a blocking reconciliation runs, else None."""
        del intent, ctx
        if self._status.reconciling:
            return Deny(DenialCode.RECONCILING, f"reconciliation in progress: {self._status.reason}")
        return None
