"""Reading one field of a stored ledger payload: text, ints, decimals and enum values, or a :class:`PayloadError`.

The shared readers of the typed payloads (:mod:`livegate.ledger.payload_orders`,
:mod:`livegate.ledger.payload_session`): each names the field it could not read.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import TypeVar

from livegate.domain.enums import Liquidity, OrderType, Side, TimeInForce

Payload = Mapping[str, object]
_E = TypeVar("_E", bound=Enum)


class PayloadError(ValueError):
    """A stored payload lacks a field or holds a value of the wrong type."""


def _str(payload: Payload, name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str):
        raise PayloadError(f"field {name!r} must be text, got {value!r}")
    return value


def _opt_str(payload: Payload, name: str) -> str:
    value = payload.get(name)
    return "" if value is None else str(value)


def _int(payload: Payload, name: str) -> int:
    value = payload.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise PayloadError(f"field {name!r} must be an integer, got {value!r}")
    return value


_SIDES: dict[object, Side] = {m.value: m for m in Side}  # keyed by object: a fast path looks any value up
_ORDER_TYPES: dict[object, OrderType] = {m.value: m for m in OrderType}
_TIFS: dict[object, TimeInForce] = {m.value: m for m in TimeInForce}
_LIQUIDITY: dict[object, Liquidity] = {m.value: m for m in Liquidity}


def _member(members: Mapping[object, _E], payload: Payload, name: str, enum: type[_E]) -> _E:
    """Return the enum member named by a text field (one dict lookup; what ``enum(value)`` returns)."""
    value = payload.get(name)
    member = members.get(value) if isinstance(value, str) else None
    if member is None:
        raise PayloadError(f"{_str(payload, name)!r} is not a valid {enum.__name__}")  # _str: not text at all
    return member


_FAST_MISS = (KeyError, TypeError, ValueError, ArithmeticError)
"""What a fast decode path meets on a payload it does not take as is: it then decodes field by field."""


def _text(value: object) -> str:
    """Return ``value`` when it is text (``str`` exactly); else raise ``TypeError`` (a fast path then steps aside)."""
    if type(value) is not str:
        raise TypeError(value)
    return value


def _decimal(payload: Payload, name: str) -> Decimal:
    value = payload.get(name)
    try:
        return Decimal(value if type(value) is str else str(value))
    except InvalidOperation as exc:
        raise PayloadError(f"field {name!r} must be a decimal string, got {value!r}") from exc


def _opt_decimal(payload: Payload, name: str) -> Decimal | None:
    return None if payload.get(name) is None else _decimal(payload, name)
