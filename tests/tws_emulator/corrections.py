"""Execution corrections at the TWS emulator: an execution replaced by one with the next ``execId``.

TWS API reference, ``Execution.ExecId`` (interactivebrokers.github.io/tws-api/
classIBApi_1_1Execution.html): "Each partial fill has a separate ExecId. A correction is
indicated by an ExecId which differs from a previous ExecId in only the digits after the
final period, e.g. an ExecId ending in ".02" would be a correction of a previous execution
with an ExecId ending in ".01"." IB does not say in so many words whether a correction
replaces the original or adds to it (ib_insync issue 364 asks exactly that); like a FIX
trade correction, it is modelled here as replacing it: the account's position and the
order's filled quantity move by the difference. The client that placed the order gets
the correction as a new ``execDetails`` (11) and its ``commissionReport`` (59); both rows
stay in the emulator's :attr:`~tests.tws_emulator.server.TwsEmulator.fills` and in every
``reqExecutions`` answer (the execution history as reported). Nothing of livegate is
imported: this is the venue.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING

from tests.tws_emulator.executions import Execution, commission

if TYPE_CHECKING:
    from tests.tws_emulator.server import TwsEmulator

__all__ = ["correct_execution"]


def correct_execution(
    tws: TwsEmulator, exec_id: str, *, price: Decimal | None = None, shares: Decimal | None = None
) -> Execution:
    """Correct execution ``exec_id`` to ``price`` and/or ``shares``, tell its client, return the correction.

    The correction's ``execId`` is the original's with the last part after the final
    period raised by one (``...01.01`` → ``...01.02``); its commission is recomputed.
    """
    original = next(e for e in tws.fills if e.exec_id == exec_id)
    base, _, suffix = exec_id.rpartition(".")
    new_shares = original.shares if shares is None else shares
    corrected = replace(
        original,
        exec_id=f"{base}.{int(suffix) + 1:02d}",
        price=original.price if price is None else price,
        shares=new_shares,
        commission=commission(new_shares),
    )
    tws.fills.append(corrected)
    tws.corrections[original.exec_id] = corrected.exec_id
    sign = Decimal(1) if original.side == "BOT" else Decimal(-1)
    tws._move_position(original.symbol, -sign * original.shares, original.price)
    tws._move_position(original.symbol, sign * corrected.shares, corrected.price)
    order = tws.orders[original.perm_id]
    order.filled = str(Decimal(order.filled) - original.shares + corrected.shares)
    writer = tws._writer_of.get(order.client_id)
    if writer is not None and writer in tws._writers and not writer.is_closing():
        tws._send(writer, *tws._exec_fields(-1, corrected))
        tws._send(writer, *tws._commission_fields(corrected))
    return corrected
