"""The ordered gate chain: the first denial wins; a gate that raises denies (fail closed)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from livegate.domain.approval_seal import seal_approval
from livegate.domain.decisions import Approved, Denied
from livegate.domain.enums import DenialCode
from livegate.domain.orders import OrderIntent
from livegate.risk.fast_path import find_fast_path
from livegate.risk.gate import Deny, Gate, RecordingGate, RiskContext

Check = Callable[[OrderIntent, RiskContext], Deny | None]


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
    fast_path:
        Judge the longest run of standard gates with :mod:`livegate.risk.fast_path` (the
        gates themselves still judge everything it does not prove allowed); False runs
        every gate's ``check`` (the reference the fast path is tested against).
    """

    def __init__(self, gates: Sequence[Gate], context: RiskContext, *, fast_path: bool = True) -> None:
        self._gates = tuple(gates)
        self._recorders = tuple(g for g in self._gates if isinstance(g, RecordingGate))
        self._context = context
        # bound methods resolved once: the chain runs on every intent
        self._checks = tuple(g.check for g in self._gates)
        self._records = tuple(g.record_approved for g in self._recorders)
        self._owners: tuple[tuple[object, Gate], ...] = tuple(
            zip(self._checks + self._records, self._gates + self._recorders, strict=True)
        )
        fast = find_fast_path(self._gates, context) if fast_path else None
        self._prove = None if fast is None else fast.prove
        self._head: tuple[Check, ...] = self._checks
        self._tails: tuple[tuple[Check, ...], ...] = ()
        self._record: Callable[[OrderIntent], None] | None = None
        # the common chain: the fast path's run is the whole chain and its record records every gate
        self._whole = False
        self._done = -1  # how many gates the fast path proves of an intent it allows (never, without it)
        if fast is not None:
            self._head = self._checks[: fast.start]
            # what is left to call once the fast path proved k gates of its run: the rest of the chain
            self._tails = tuple(self._checks[fast.start + k :] for k in range(fast.end - fast.start + 1))
            if fast.recorders == self._recorders:  # every recorder is in the run: one call records them all
                self._record = fast.record
                raiser = fast.record_raiser or (fast.recorders[-1] if fast.recorders else self._gates[0])
                self._owners += ((fast.record, raiser),)
                self._whole = fast.start == 0 and fast.end == len(self._gates)
                self._done = fast.end - fast.start

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
        prove = self._prove
        if prove is None:
            return self._judge(intent, client_order_id, venue, None)
        try:
            proven = prove(intent) if self._whole else None
        except Exception:  # the fast path proves nothing; the gates judge (and name a crash)
            proven = 0
        if proven != self._done:
            return self._judge(intent, client_order_id, venue, proven)
        # the fast path judged the whole chain and allows: record (one call records every recording gate)
        record = self._record
        try:
            record(intent)  # type: ignore[misc]
        except Exception as exc:
            detail = f"gate {self._name_of(record)} raised {exc!r}"
            return Denied(intent, client_order_id, DenialCode.GATE_ERROR, detail)
        return seal_approval(intent, client_order_id, venue)

    def _judge(self, intent: OrderIntent, client_order_id: str, venue: str, proven: int | None) -> Approved | Denied:
        """Run the gates the fast path did not prove (``proven``: how many it proved; None: not run yet)."""
        ctx = self._context
        step: object = None
        try:
            for step in self._head:
                deny = step(intent, ctx)
                if deny is not None:
                    return Denied(intent, client_order_id, deny.code, deny.detail)
            prove = self._prove
            if prove is not None:
                if proven is None:
                    try:
                        proven = prove(intent)
                    except Exception:  # the fast path proves nothing; the gates judge (and name a crash)
                        proven = 0
                for step in self._tails[proven]:
                    deny = step(intent, ctx)
                    if deny is not None:
                        return Denied(intent, client_order_id, deny.code, deny.detail)
            record = self._record
            if record is not None:
                step = record
                record(intent)
            else:
                for step in self._records:
                    step(intent, ctx)
        except Exception as exc:
            return Denied(intent, client_order_id, DenialCode.GATE_ERROR, f"gate {self._name_of(step)} raised {exc!r}")
        return seal_approval(intent, client_order_id, venue)

    def _name_of(self, step: object) -> str:
        """Return the name of the gate whose ``check`` or ``record_approved`` is ``step``."""
        return next(gate.name for bound, gate in self._owners if bound is step)
