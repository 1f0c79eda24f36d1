"""Blocks of market events as bytes, from a reader process to the session's process.

A block of :class:`~livegate.domain.market.Quote` (or :class:`~livegate.domain.market.Trade`)
goes column by column: a column of plain ``int`` as an ``array('q')`` (times in ms and ns),
a column holding one object in every row as that object's place in a table both sides
keep, and any other column (``Decimal`` prices and sizes, symbols, sides) as an
``array('Q')`` of places. A value gets a serial (its place) the first time the encoder
meets it, and travels with that block
(pickled: a ``Decimal`` keeps its exponent, a ``str`` its text, an enum member comes back
as the same member). The decoder appends new values to its table and builds each event
from the columns with :meth:`tuple.__new__` (no per-event Python call), so a block costs
the receiving process a few list operations per event instead of the parse.

Pickle is used between two processes of one session only (the decoder's input is the
reader process this session started), never for data from elsewhere.
"""

from __future__ import annotations

import pickle
from array import array
from collections.abc import Sequence
from decimal import Decimal
from itertools import repeat
from operator import is_

from livegate.domain.market import Quote, Trade
from livegate.marketdata.normalized import Block

__all__ = ["TABLE_LIMIT", "BlockDecoder", "BlockEncoder", "SerialDecimal"]

TABLE_LIMIT = 1 << 17
"""Values (131,072) the decoder's table holds before the encoder starts it afresh (bounds both processes' memory)."""

_KINDS: tuple[type[Quote] | type[Trade], ...] = (Quote, Trade)
_MIXED = -2
"""Kind code of a block of quotes and trades together (a raw capture)."""

_JUST_INT = {int}
_new_tuple = tuple.__new__


class SerialDecimal(Decimal):
    """A ``Decimal`` that carries its :class:`BlockEncoder` serial (reader process only).

    A reader's parse cache builds its values as this type and registers each one, so
    encoding a column of them is one attribute read per value. The decoder's side only
    ever sees plain ``Decimal`` copies (same digits, same exponent).
    """

    __slots__ = ("serial",)
    serial: int


class BlockEncoder:
    """Encode blocks for one :class:`BlockDecoder`, in order (the table is shared state).

    A value that is not a :class:`SerialDecimal` is known by identity: a ``Decimal("1.0")``
    and a ``Decimal("1.00")`` are equal but print differently, so equal values are not
    merged. The encoder holds every such value while its serial is valid, so no identity
    is reused. When :data:`TABLE_LIMIT` values were given serials since the table was
    last started, the next block starts it afresh: older serials are no longer valid and
    a value that carries one is given a new serial when next met.
    """

    __slots__ = ("_by_id", "_floor", "_held", "_limit", "_new", "_next")

    def __init__(self, limit: int = TABLE_LIMIT) -> None:
        self._by_id: dict[int, int] = {}
        self._held: list[object] = []
        self._new: list[object] = []
        self._next = 0
        self._floor = 0
        self._limit = limit

    def register(self, value: object) -> int:
        """Give ``value`` the next serial; return its place in the table. It travels with the next block."""
        serial = self._next
        self._next = serial + 1
        place = serial - self._floor
        if type(value) is SerialDecimal:
            value.serial = serial
            self._new.append(Decimal(value))
        else:
            self._by_id[id(value)] = place
            self._held.append(value)
            self._new.append(value)
        return place

    def encode(self, block: Block) -> bytes:
        """Return the bytes of ``block`` (non-empty) for :meth:`BlockDecoder.decode`.

        Events of one type go as one set of columns; quotes and trades mixed in one block
        (a raw capture) go as a set of columns per type and the type of each event in
        order.

        Raises
        ------
        ValueError
            An event is neither a :class:`Quote` nor a :class:`Trade` (the reader process
            then fails the stream).
        """
        kind = type(block[0])
        codes = None
        if kind not in _KINDS or any(type(event) is not kind for event in block):
            codes = bytes(_KINDS.index(type(event)) for event in block)
        reset = self._next - self._floor >= self._limit
        if reset:
            self._floor = self._next
            self._by_id.clear()
            self._held.clear()
            self._new.clear()
        if codes is None:
            body: object = self._columns(block)
            code = _KINDS.index(kind)
        else:
            each = [[event for event in block if type(event) is each_kind] for each_kind in _KINDS]
            body = (codes, [self._columns(events) if events else [] for events in each])
            code = _MIXED
        new, self._new = self._new, []
        return pickle.dumps((code, len(block), reset, new, body), protocol=pickle.HIGHEST_PROTOCOL)

    def _columns(self, events: Block) -> list[array[int] | int]:
        """Return the columns of ``events`` (all of one type), each as :meth:`_column` gives it."""
        return [self._column(column) for column in zip(*events, strict=True)]

    def _column(self, values: Sequence[object]) -> array[int] | int:
        """Return a column as ints (``'q'``), one table place (every row the same object) or places (``'Q'``).

        A value's place in the table is its serial less the serial the table started at.
        """
        first = values[0]
        if type(first) is int and set(map(type, values)) == _JUST_INT:  # a bool or an IntEnum is a value
            try:
                return array("q", values)  # type: ignore[arg-type]
            except OverflowError:
                pass  # beyond 64 bits: sent as values
        if len(values) > 1 and all(map(is_, values, repeat(first))):
            return self._place(first)
        floor = self._floor
        if type(first) is SerialDecimal:
            try:
                serials = [value.serial for value in values]  # type: ignore[attr-defined]
            except AttributeError:  # a value of another type in the column
                pass
            else:
                if min(serials) >= floor:
                    return array("Q", serials if not floor else [serial - floor for serial in serials])
        else:
            try:
                return array("Q", map(self._by_id.__getitem__, map(id, values)))
            except KeyError:  # a value met for the first time
                pass
        return array("Q", map(self._place, values))

    def _place(self, value: object) -> int:
        """Return the table place of ``value``, giving it a serial when it has no valid one."""
        if type(value) is SerialDecimal:
            serial = getattr(value, "serial", -1)
            return serial - self._floor if serial >= self._floor else self.register(value)
        place = self._by_id.get(id(value), -1)
        return place if place >= 0 else self.register(value)


class BlockDecoder:
    """Rebuild the blocks of one :class:`BlockEncoder`, fed in the order they were encoded."""

    __slots__ = ("_table",)

    def __init__(self) -> None:
        self._table: list[object] = []

    def decode(self, data: bytes) -> Block:
        """Return the block that :meth:`BlockEncoder.encode` turned into ``data``."""
        code, rows, reset, new, body = pickle.loads(data)  # noqa: S301 (our own reader process's output)
        table = self._table
        if reset:
            table.clear()
        table += new
        if code != _MIXED:
            return self._events(_KINDS[code], rows, body)
        codes, columns = body
        each = [iter(self._events(kind, codes.count(i), columns[i])) for i, kind in enumerate(_KINDS)]
        return [next(each[i]) for i in codes]

    def _events(self, kind: type[Quote] | type[Trade], rows: int, columns: list[array[int] | int]) -> Block:
        """Return ``rows`` events of ``kind`` from their columns (one place, ints or places)."""
        if not rows:
            return []
        get = self._table.__getitem__
        fields = [
            repeat(get(column), rows) if isinstance(column, int)
            else column.tolist() if column.typecode == "q"
            else map(get, column)
            for column in columns
        ]  # fmt: skip
        return list(map(_new_tuple, repeat(kind, rows), zip(*fields, strict=False)))  # repeat() is endless
