"""Instruments from TWS contract details (``reqContractDetails``), not fixed values.

TWS API "Contract Details": ``minTick`` is the smallest price increment of the contract
(0.01 for most US stocks; 0.0001 below 1 USD, SEC Rule 612), ``minSize`` the smallest order
size and ``sizeIncrement`` the size step (1 share unless fractional trading is enabled;
TWS API 10.10+, server version ≥ 164). A stock TWS does not know (no details) is a
configuration error, found at connect instead of at the first order.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from livegate.domain.errors import Fatal
from livegate.domain.instruments import Instrument
from livegate.venues.ibkr.mapping import to_decimal

__all__ = ["instrument_from_details"]

_ONE = Decimal(1)
#: ib_async's "unset" double (``sys.float_info.max``) and zero mean "not sent".
_UNSET = 1.7976931348623157e308


def _positive(value: Any, default: Decimal) -> Decimal:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    if not (0 < number < _UNSET):
        return default
    return to_decimal(number)


def instrument_from_details(symbol: str, venue: str, currency: str, details: Sequence[Any]) -> Instrument:
    """Return the :class:`Instrument` of ``symbol`` from its TWS contract details.

    Parameters
    ----------
    symbol, venue, currency:
        Stock symbol, venue name, and the quote currency of the contract.
    details:
        ``ib_async.ContractDetails`` of the contract (the first one is used).

    Raises
    ------
    Fatal
        TWS has no contract details for ``symbol`` (error 200 "No security definition").
    """
    if not details:
        raise Fatal(f"ibkr: TWS has no contract details for {symbol} (no security definition)", "200")
    detail = details[0]
    tick = _positive(getattr(detail, "minTick", 0), Decimal("0.01"))
    increment = _positive(getattr(detail, "sizeIncrement", 0), _ONE)
    minimum = _positive(getattr(detail, "minSize", 0), increment)
    return Instrument(
        symbol=symbol,
        venue=venue,
        tick_size=tick,
        lot_size=increment,
        min_notional=Decimal(0),
        quote_currency=currency,
        base_currency=symbol,
        min_quantity=minimum,
    )
