"""The gate contract: a small object that allows (None) or denies (Deny) one intent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Protocol, runtime_checkable

from livegate.domain.clock import Clock
from livegate.domain.enums import DenialCode
from livegate.domain.instruments import Instrument
from livegate.domain.orders import OrderIntent
from livegate.marketdata.quote_cache import QuoteCache
from livegate.portfolio import Portfolio


class Deny(NamedTuple):
    """A gate's refusal: stable code and a detail with the numbers.

    Immutable. A named tuple rather than a frozen dataclass: it is built on every denial,
    and a tuple is built about 5x faster (as :class:`~livegate.domain.market.Quote`).
    """

    code: DenialCode
    detail: str


@dataclass(frozen=True, slots=True)
class RiskContext:
    """Read-only views a gate may consult; the pipeline passes the same one to every gate."""

    instruments: dict[str, Instrument]
    quotes: QuoteCache
    portfolio: Portfolio
    clock: Clock


@runtime_checkable
class Gate(Protocol):
    """One check. ``check`` returns None to allow or a :class:`Deny`."""

    name: str

    def check(self, intent: OrderIntent, ctx: RiskContext) -> Deny | None:
        """Judge ``intent``; must not mutate anything."""
        ...


@runtime_checkable
class RecordingGate(Gate, Protocol):
    """A gate with memory (rates, counters, duplicates), told about each approved intent."""

    def record_approved(self, intent: OrderIntent, ctx: RiskContext) -> None:
        """Remember that ``intent`` was approved."""
        ...
