"""Reading the columnar tables of a fold checkpoint's body: their layout, and each column checked and converted.

A table is a row count then one column per field; :func:`decolumns` returns its columns
as lists of values (decimals as shared ``Decimal`` values, enum values as members), after
checking every value's kind and the column's length, so building an item from them later
cannot fail. :mod:`livegate.ledger.checkpoint_decode` builds the fold from them;
:func:`livegate.ledger.checkpoint_encode.encode_body` writes them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

Json = Any

#: Column kinds of each table: ``s`` text, ``d`` decimal text (``""``: None), ``i`` integer, ``b`` bool,
#: ``j`` any JSON value. A text column whose values repeat is stored as ``{"v": distinct values,
#: "k": one character of CODE_CHARS per row, the n-th character for the n-th distinct value}``
#: (``"k"`` left out when there is one distinct value); any other is stored joined by :data:`SEP`
#: when no value holds it (one JSON string to parse instead of one per value), else as a JSON list.
INTENT_COLUMNS: Final = "ssdsdsbbsiibb"
ORDER_COLUMNS: Final = "sissddssi"
ENTRY_COLUMNS: Final = "siibsssd"
DECISION_COLUMNS: Final = "sbsssdddi"
FILL_COLUMNS: Final = "ssssdddsissd"
SEP: Final = "|"
#: A text column is stored coded (distinct values and a code per row) when its values repeat this often,
#: in its first CODED_SAMPLE rows and in all (``checkpoint_encode._encoded``, ``checkpoint_stream.column_pieces``).
CODED_REPEATS: Final = 4
CODED_SAMPLE: Final = 1_000
#: Code characters of a coded text column, the n-th for the n-th distinct value: none needs escaping
#: in JSON and each is one or two bytes in UTF-8 (letters and digits, then U+00C0 to U+07FF).
CODE_CHARS: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" + "".join(
    map(chr, range(0xC0, 0x800))
)


class Decimals(dict[str, Decimal]):
    """Exact decimal strings to shared ``Decimal`` values (immutable, so one object per distinct string)."""

    def __missing__(self, text: str) -> Decimal:
        if not isinstance(text, str):
            raise TypeError(f"decimal must be a string, got {text!r}")
        value = self[text] = Decimal(text)
        return value


class _LazyText:
    """A joined text column split into its values when one is first read (most are read only to build an item)."""

    __slots__ = ("_count", "_joined", "_values")

    def __init__(self, joined: str, count: int) -> None:
        self._joined, self._count = joined, count
        self._values: list[str] | None = None

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, i: int) -> str:
        values = self._values
        if values is None:
            values = self._values = self._joined.split(SEP) if self._count else []
        return values[i]


def decolumns(
    table: Json,
    kinds: str,
    dec: Decimals,
    lazy: frozenset[int] = frozenset(),
    *,
    enums: dict[int, tuple[dict[str, Any], str]] | None = None,
    required: frozenset[int] = frozenset(),
) -> list[Any]:
    """Return the columns of a table written by ``_columns`` (decimals as ``Decimal``, None for ``""``).

    Text columns at the positions in ``lazy`` stay joined until a value is first read
    (their count is checked now; any text is a valid value). Text columns at the positions
    in ``enums`` (members by value, and what they are, for the error) come back as members;
    decimal columns at the positions in ``required`` must hold no ``""`` (None). Both are
    checked and converted once per distinct value when the column is stored that way.

    Raises
    ------
    ValueError, TypeError, decimal.InvalidOperation
        If a column does not hold the table's row count of values of its kind, a value
        names no member, or a required decimal is missing.
    """
    count, *columns = table
    if not isinstance(count, int) or len(columns) != len(kinds):
        raise ValueError(f"table of {len(columns)} columns, expected {len(kinds)}")
    enums = enums or {}
    out: list[Any] = []
    for position, (kind, column) in enumerate(zip(kinds, columns, strict=True)):
        if kind in "sd" and isinstance(column, dict):
            out.append(_coded(column, count, kind, dec, enums.get(position), position in required))
            continue
        if kind == "s" and position in lazy and isinstance(column, str):
            if (column.count(SEP) + 1 if count else len(column)) != count:
                raise ValueError(f"text column of another length than its table's {count} rows")
            out.append(_LazyText(column, count))
            continue
        if kind in "sd" and isinstance(column, str):
            values: list[Any] = column.split(SEP) if count else []
        elif kind == "b" and isinstance(column, str):
            values = list(map(_BITS.__getitem__, column))
        elif isinstance(column, list):
            values = column
            _check_types(values, kind)
        else:
            raise ValueError(f"column of kind {kind!r} is a {type(column).__name__}")
        if len(values) != count:
            raise ValueError(f"column of {len(values)} values in a table of {count} rows")
        if kind == "d":  # each distinct text converted once, then one C-level lookup per value
            distinct = set(values)
            if position in required and "" in distinct:
                raise ValueError("a required decimal is missing")
            lookup = {text: None if text == "" else dec[text] for text in distinct}
            values = list(map(lookup.__getitem__, values))
        elif position in enums:
            members, what = enums[position]
            values = _enum_column(values, members, what)
        out.append(values)
    return out


def _check_types(values: list[Any], kind: str) -> None:
    types = set(map(type, values))  # one C pass, then a check of the few distinct types
    if kind in "sd" and not types <= {str}:
        raise TypeError("text column holds a non-text value")
    if kind == "i" and not types <= {int}:
        raise TypeError("integer column holds a non-integer value")


def _coded(
    column: dict[str, Any],
    count: int,
    kind: str,
    dec: Decimals,
    enum: tuple[dict[str, Any], str] | None,
    required: bool,
) -> list[Any]:
    """Return the values of a column stored as distinct values and one code per row (see :data:`SEP`'s table notes)."""
    if not column.keys() <= {"v", "k"} or not isinstance(distinct := column["v"], list):
        raise ValueError("coded column without its distinct values")
    _check_types(distinct, "s")
    codes = column.get("k")
    if codes is None:
        if len(distinct) != 1:
            raise ValueError(f"coded column of {len(distinct)} distinct values without codes")
    elif not isinstance(codes, str) or len(distinct) > len(CODE_CHARS):
        raise ValueError("coded column whose codes are not a string of code characters")
    elif len(codes) != count:
        raise ValueError(f"column of {len(codes)} values in a table of {count} rows")
    values: list[Any] = distinct
    if kind == "d":
        if required and "" in distinct:
            raise ValueError("a required decimal is missing")
        values = [None if text == "" else dec[text] for text in distinct]
    elif enum is not None:
        values = _enum_column(distinct, *enum)
    if codes is None:
        return values * count
    by_code = dict(zip(CODE_CHARS, values, strict=False))
    try:
        return list(map(by_code.__getitem__, codes))
    except KeyError as exc:
        raise ValueError(f"code {exc} names none of the column's {len(values)} distinct values") from exc


_BITS: Final = {"1": True, "0": False}


def _enum_column(values: list[Any], members: dict[str, Any], what: str) -> list[Any]:
    """Return the members named by ``values``; every value must name one (checked on the distinct values)."""
    unknown = set(values) - members.keys()
    if unknown:
        raise ValueError(f"unknown {what} {sorted(map(str, unknown))[:3]}")
    return list(map(members.__getitem__, values))
