"""Risk decisions as values: Approved (sealed) or Denied(code, detail).

Only the risk pipeline holds the seal that builds :class:`Approved`; the execution
engine refuses anything else (docs/architecture.md §3.1, one door). import-linter forbids every
package but ``livegate.risk`` from importing :mod:`livegate.domain.approval_seal`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from livegate.domain.enums import DenialCode
from livegate.domain.errors import InvariantViolation
from livegate.domain.orders import OrderIntent


class _SealToken:
    __slots__ = ()


_SEAL = _SealToken()


@dataclass(frozen=True, slots=True)
class Approved:
    """An intent that passed every gate, with its client order id and target venue."""

    intent: OrderIntent
    client_order_id: str
    venue: str
    _seal: object = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._seal is not _SEAL:
            raise InvariantViolation("Approved may only be built by the risk pipeline")

    @property
    def approved(self) -> bool:
        """Return True."""
        return True


@dataclass(frozen=True, slots=True)
class Denied:
    """An intent refused by a gate: a stable code and a detail with the numbers."""

    intent: OrderIntent
    client_order_id: str
    code: DenialCode
    detail: str

    @property
    def approved(self) -> bool:
        """Return False."""
        return False


Decision = Approved | Denied
