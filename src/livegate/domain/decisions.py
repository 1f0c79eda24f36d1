"""Risk decisions as values: Approved (sealed) or Denied(code, detail).

Only the risk pipeline holds the seal that builds :class:`Approved`; the execution
engine refuses anything else (docs/architecture.md §3.1, one door). import-linter forbids every
package but ``livegate.risk`` from importing :mod:`livegate.domain.approval_seal`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from livegate.domain.enums import DenialCode
from livegate.domain.errors import InvariantViolation
from livegate.domain.orders import OrderIntent


class _SealToken:
    __slots__ = ()


_SEAL = _SealToken()


class _ApprovedFields(NamedTuple):
    intent: OrderIntent
    client_order_id: str
    venue: str


class Approved(_ApprovedFields):
    """An intent that passed every gate, with its client order id and target venue.

    Immutable. A named tuple rather than a frozen dataclass (as :class:`~livegate.domain.market.Quote`):
    the pipeline builds one per approval, and a tuple is built in ~10 % of the CPU
    instructions of a frozen dataclass filled field by field (callgrind, stop 28).
    Built only with the seal (``Approved(..., _seal=...)``); ``_make`` and ``_replace``
    are refused, so no copy or edit makes an approval the pipeline did not make.
    """

    __slots__ = ()

    def __new__(cls, intent: OrderIntent, client_order_id: str, venue: str, _seal: object = None) -> Approved:
        """Build an approval; only the risk pipeline holds ``_seal``.

        Raises
        ------
        InvariantViolation
            If ``_seal`` is not the pipeline's seal.
        """
        if _seal is not _SEAL:
            raise InvariantViolation("Approved may only be built by the risk pipeline")
        return tuple.__new__(cls, (intent, client_order_id, venue))

    @classmethod
    def _make(cls, iterable: Iterable[object]) -> Approved:  # type: ignore[override]
        """Refuse: an approval is built by the risk pipeline only.

        Raises
        ------
        InvariantViolation
            Always.
        """
        raise InvariantViolation("Approved may only be built by the risk pipeline")

    def _replace(self, **changes: object) -> Approved:
        """Refuse: an approval is never edited.

        Raises
        ------
        InvariantViolation
            Always.
        """
        raise InvariantViolation("an Approved decision cannot be changed")

    @property
    def approved(self) -> bool:
        """Return True."""
        return True


class Denied(NamedTuple):
    """An intent refused by a gate: a stable code and a detail with the numbers.

    Immutable. A named tuple, as :class:`Approved`: the pipeline builds one per denial,
    and a tuple is built in a fraction of the instructions of a frozen dataclass.
    """

    intent: OrderIntent
    client_order_id: str
    code: DenialCode
    detail: str

    @property
    def approved(self) -> bool:
        """Return False."""
        return False


Decision = Approved | Denied
