"""The fold checkpoint's column layout: every way a column is stored reads back as exactly the values written."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from livegate.domain.enums import Side
from livegate.ledger.checkpoint_columns import CODE_CHARS, SEP, Decimals, decolumns
from livegate.ledger.checkpoint_encode import _columns


def _written_and_read(values: list[Any], kind: str, **options: Any) -> tuple[Any, list[Any]]:
    """Return (the stored column, the values read back) of a one-column table, through the body's JSON."""
    table = _columns([(v,) for v in values], kind)
    text = json.dumps(table, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
    (column,) = decolumns(msgspec.json.decode(text), kind, Decimals(), **options)
    return table[1], list(column)


def _texts(distinct: int, rows: int) -> list[str]:
    return [f"v{i % distinct}" for i in range(rows)]


@pytest.mark.parametrize(
    ("values", "stored_as"),
    [
        (["BTCUSDT"] * 50, "coded"),  # one distinct value: no codes at all
        (_texts(3, 40), "coded"),
        (_texts(62, 62 * 4), "coded"),  # the last one-byte code character
        (_texts(200, 1000), "coded"),  # two-byte code characters
        (["a"] * 1000 + _texts(len(CODE_CHARS), len(CODE_CHARS) * 4), "joined"),  # more distinct values than codes
        (_texts(300, 1200), "joined"),  # its first 1,000 values repeat too little
        ([f"id-{i}" for i in range(30)], "joined"),  # values that do not repeat
        ([f"a{SEP}b", "c", "", "c"], "list"),  # a value holds the separator
        ([""] * 8, "coded"),
        (["é", "日本", "\\", '"', "é", "日本", "\\", '"'] * 2, "coded"),  # text that JSON escapes or encodes
        ([], "list"),
    ],
)
def test_text_column_when_stored_then_reads_back_the_same_values(values: list[str], stored_as: str) -> None:
    stored, read = _written_and_read(values, "s")
    assert {dict: "coded", str: "joined", list: "list"}[type(stored)] == stored_as
    assert read == values and all(type(v) is str for v in read)


def test_decimal_column_when_coded_then_same_value_exponent_and_sign_and_none_for_missing() -> None:
    texts = ["1.50", "1.5", "-0", "0E-8", "1E+2", "", "42"] * 5
    stored, read = _written_and_read(texts, "d")
    assert isinstance(stored, dict)
    assert [None if v is None else str(v) for v in read] == [None if t == "" else str(Decimal(t)) for t in texts]
    assert [type(v) for v in read] == [type(None) if t == "" else Decimal for t in texts]


def test_decimal_column_when_required_and_one_is_missing_then_refused_in_every_layout() -> None:
    for texts in (["1", ""] * 4, ["1", "2", ""]):
        with pytest.raises(ValueError, match="required decimal is missing"):
            _written_and_read(texts, "d", required=frozenset({0}))


def test_enum_column_when_coded_or_joined_then_members_and_unknown_value_refused() -> None:
    members = {m.value: m for m in Side}
    for sides in (["buy", "sell"] * 4, ["buy", "sell", "buy"]):
        _, read = _written_and_read(sides, "s", enums={0: (members, "side")})
        assert read == [Side(s) for s in sides]
    with pytest.raises(ValueError, match="unknown side"):
        _written_and_read(["buy", "hold"] * 4, "s", enums={0: (members, "side")})


@pytest.mark.parametrize(
    ("column", "error"),
    [
        ({"v": ["a", "b"], "k": "01201"}, "names none of the column's 2 distinct values"),
        ({"v": ["a", "b"], "k": "0101"}, "column of 4 values in a table of 5 rows"),
        ({"v": ["a", "b"]}, "2 distinct values without codes"),
        ({"v": ["a", "b"], "k": [0, 1, 0, 1, 0]}, "codes are not a string"),
        ({"v": ["a", 1], "k": "01010"}, "non-text value"),
        ({"v": ["a"], "x": 1}, "without its distinct values"),
    ],
)
def test_coded_column_when_damaged_then_refused_naming_why(column: dict[str, Any], error: str) -> None:
    with pytest.raises((ValueError, TypeError), match=error):
        decolumns([5, column], "s", Decimals())


def test_body_parser_when_given_checkpoint_json_then_same_values_and_types_as_json_loads() -> None:
    body = {
        "ints": [0, -1, 1_722_000_000_000, 2**63, -(2**63) - 1, 10**30],
        "texts": ["", "a|b", "é日本", '\\"\n\t', "\u2028", CODE_CHARS],
        "nested": {"k": [[1, "x"], None, True, False, {"z": []}]},
        "table": _columns([("BTCUSDT", "1.5", 3), ("BTCUSDT", "2", 4)] * 4, "sdi"),
    }
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")

    def typed(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: typed(v) for k, v in value.items()}
        if isinstance(value, list):
            return [typed(v) for v in value]
        return (type(value).__name__, value)

    assert typed(msgspec.json.decode(text)) == typed(json.loads(text)) == typed(body)


def test_intents_when_built_in_bulk_then_equal_one_by_one_builds_and_shared_with_them() -> None:
    from livegate.domain.enums import OrderType, TimeInForce
    from livegate.domain.orders import OrderIntent
    from livegate.ledger.checkpoint_columns import INTENT_COLUMNS
    from livegate.ledger.checkpoint_decode import _Intents

    made = [
        OrderIntent("BTCUSDT", Side.BUY, Decimal("0.010"), OrderType.LIMIT, Decimal("64000.5"), TimeInForce.GTC,
                    True, False, "s1", 0, 1_000, False, False),
        OrderIntent("ETHUSDT", Side.SELL, Decimal("2"), OrderType.MARKET, None, TimeInForce.IOC,
                    False, True, "s2", 1, 2_000, True, True),
        OrderIntent("BTCUSDT", Side.SELL, Decimal("1E-3"), OrderType.LIMIT, Decimal("0"), TimeInForce.GTC,
                    False, False, "s1", 2, 3_000, False, False),
    ]  # fmt: skip
    rows = [
        (i.symbol, i.side.value, str(i.quantity), i.order_type.value, "" if i.price is None else str(i.price),
         i.time_in_force.value, i.post_only, i.reduce_only, i.strategy_id, i.seq, i.ts_ms, i.flatten, i.outside_rth)
        for i in made * 3
    ]  # fmt: skip
    table = json.loads(json.dumps(_columns(rows, INTENT_COLUMNS)))
    one_by_one, bulk = _Intents(table, Decimals()), _Intents(table, Decimals())
    first = bulk[4]
    built = bulk.many([8, 4, 0, 8, 1])
    assert built == [one_by_one[i] for i in (8, 4, 0, 8, 1)] == [made[2], made[1], made[0], made[2], made[1]]
    assert built[1] is first and built[0] is built[3] and bulk[8] is built[0]
    assert [str(i.quantity) for i in built] == ["0.001", "2", "0.010", "0.001", "2"]
