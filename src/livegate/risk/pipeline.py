"""The ordered gate chain: the first denial wins; a gate that raises denies (fail closed)."""

from __future__ import annotations

from collections.abc import Sequence

from livegate.domain.approval_seal import seal_approval
from livegate.domain.decisions import Approved, Denied
from livegate.domain.enums import DenialCode
from livegate.domain.orders import OrderIntent
from livegate.risk.gate import Gate, RecordingGate, RiskContext


class RiskPipeline:
    """Run intents through ``gates`` in order and build the decision.

    Only this class can build an :class:`~livegate.domain.decisions.Approved` (it holds
    the seal), so the execution engine can trust that anything approved passed every gate.

    Parameters
    ----------
    gates:
        Gates in evaluation order (docs/architecture.md §1: mode, kill switch, tripwires, limits).
    context:
        Read-only views shared by every gate.
    """

    def __init__(self, gates: Sequence[Gate], context: RiskContext) -> None:
        self._gates = tuple(gates)
        self._recorders = tuple(g for g in self._gates if isinstance(g, RecordingGate))
        self._context = context
        # bound methods resolved once: the chain runs on every intent
        self._checks = tuple(g.check for g in self._gates)
        self._records = tuple(g.record_approved for g in self._recorders)
        self._owners = tuple(zip(self._checks + self._records, self._gates + self._recorders, strict=True))

    @property
    def gates(self) -> tuple[Gate, ...]:
        """Return the gates in evaluation order."""
        return self._gates

    @property
    def context(self) -> RiskContext:
        """Return the shared read-only context."""
        return self._context

    def evaluate(self, intent: OrderIntent, client_order_id: str, venue: str) -> Approved | Denied:
        """Return Approved, or Denied with the first gate's code and detail.

        A gate that raises yields ``GATE_ERROR`` naming the gate and the exception.
        """
        ctx = self._context
        step = None
        try:
            for step in self._checks:
                deny = step(intent, ctx)
                if deny is not None:
                    return Denied(intent, client_order_id, deny.code, deny.detail)
            for step in self._records:
                step(intent, ctx)
        except Exception as exc:
            return Denied(intent, client_order_id, DenialCode.GATE_ERROR, f"gate {self._name_of(step)} raised {exc!r}")
        return seal_approval(intent, client_order_id, venue)

    def _name_of(self, step: object) -> str:
        """Return the name of the gate whose ``check`` or ``record_approved`` is ``step``."""
        return next(gate.name for bound, gate in self._owners if bound is step)
