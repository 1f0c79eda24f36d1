"""A fold's applied fills on disk, in a scratch SQLite database (issue 14 item 2).

The session's report reader (:class:`livegate.ops.rollup_read.RunReader`) folds the
ledger as it grows and never lets an applied fill go (positions and the reconciler's
fill index need them all): kept as :class:`~livegate.domain.orders.Fill` objects, they
grow the session with every fill. :class:`ScratchFills` keeps them in a table of a
scratch database (:class:`~livegate.ledger.scratch.ScratchRows`) and builds a fill again
when one is read; the venue trade ids the fill index asks for are read without building
a fill (:meth:`ScratchFills.ids`).

A fill's row holds its decimals as their text (``str``): ``Decimal(str(d))`` is ``d``
with the same digits and exponent, so a rebuilt fill equals the one stored and prints
the same (``1.0`` stays ``1.0``, ``1.00`` stays ``1.00``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, MutableSequence
from decimal import Decimal
from typing import Any, Final, overload

from livegate.domain.enums import Liquidity, Side
from livegate.domain.orders import Fill
from livegate.ledger.scratch import ScratchRows

__all__ = ["FILL_ROW_COLUMNS", "ScratchFills", "fill_from_row", "fill_to_row"]

#: The columns of a fill's row (:func:`fill_to_row`), in :class:`~livegate.domain.orders.Fill` field order.
FILL_ROW_COLUMNS: Final = (
    "cid", "fid", "symbol", "side", "price", "quantity", "fee", "liquidity", "ts_ms", "venue", "fee_asset",
    "fee_in_asset",
)  # fmt: skip
_SIDES: Final = {side.value: side for side in Side}
_LIQUIDITIES: Final = {liquidity.value: liquidity for liquidity in Liquidity}


def fill_to_row(fill: Fill) -> tuple[Any, ...]:
    """Return the row of ``fill``: its fields in order, decimals as text, enums as their values."""
    return (fill.client_order_id, fill.fill_id, fill.symbol, fill.side.value, str(fill.price), str(fill.quantity),
            str(fill.fee), fill.liquidity.value, fill.ts_ms, fill.venue, fill.fee_asset,
            str(fill.fee_in_asset))  # fmt: skip


def fill_from_row(row: tuple[Any, ...]) -> Fill:
    """Return the fill of a row made by :func:`fill_to_row` (equal to it, every decimal with its own digits).

    Raises
    ------
    KeyError
        If the side or liquidity is not one of their values.
    """
    cid, fid, symbol, side, price, quantity, fee, liquidity, ts_ms, venue, fee_asset, fee_in_asset = row
    return Fill(str(cid), str(fid), str(symbol), _SIDES[side], Decimal(price), Decimal(quantity), Decimal(fee),
                _LIQUIDITIES[liquidity], int(ts_ms), str(venue), str(fee_asset), Decimal(fee_in_asset))  # fmt: skip


class ScratchFills(MutableSequence[Fill]):
    """A fold's applied fills in fold order, on a scratch database; only appended, read back by position.

    The last fill appended is kept in memory too (the report reader reads it right after
    the fold applied it).

    Parameters
    ----------
    conn:
        A scratch database (:func:`livegate.ledger.scratch.scratch_db`); the table
        ``applied_fills`` is made in it.
    """

    __slots__ = ("_last", "_rows")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._rows = ScratchRows(conn, "applied_fills", FILL_ROW_COLUMNS)
        self._last: Fill | None = None

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> Fill: ...

    @overload
    def __getitem__(self, index: slice) -> MutableSequence[Fill]: ...

    def __getitem__(self, index: int | slice) -> Fill | MutableSequence[Fill]:
        count = len(self._rows)
        if isinstance(index, slice):
            start, stop, step = index.indices(count)
            if step != 1:
                return list(self)[index]
            return [fill_from_row(row) for row in self._rows.rows(start, max(start, stop))]
        position = index + count if index < 0 else index
        if not 0 <= position < count:
            raise IndexError(f"fill {index} of {count}")
        if position == count - 1 and self._last is not None:
            return self._last
        return fill_from_row(next(self._rows.rows(position, position + 1)))

    def __iter__(self) -> Iterator[Fill]:
        return (fill_from_row(row) for row in self._rows.rows())

    def __setitem__(self, index: Any, value: Any) -> None:
        raise IndexError("a fold's applied fills are only appended")

    def __delitem__(self, index: Any) -> None:
        raise IndexError("a fold's applied fills are only appended")

    def insert(self, index: int, value: Fill) -> None:
        """Append ``value`` (an applied fill); only appending is allowed.

        Raises
        ------
        IndexError
            If ``index`` is not the end of the list.
        """
        if index != len(self._rows):
            raise IndexError("a fold's applied fills are only appended")
        self._rows.append(fill_to_row(value))
        self._last = value

    def ids(self, start: int = 0, venue: str | None = None, stop: int | None = None) -> list[str]:
        """Return the venue trade ids of the fills at positions ``start`` to ``stop`` (None: the end), in order.

        Only those of ``venue`` and venue-less ones when ``venue`` is given; no fill is built.
        """
        fid, place = FILL_ROW_COLUMNS.index("fid"), FILL_ROW_COLUMNS.index("venue")
        rows = self._rows.rows(max(0, start), stop)
        return [str(row[fid]) for row in rows if venue is None or row[place] in (venue, "")]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ScratchFills | list):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]
