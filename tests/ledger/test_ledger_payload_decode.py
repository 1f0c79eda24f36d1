"""Decoding a payload in one step (plain fields) gives what reading it field by field gives: value or error."""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType

from hypothesis import given, settings
from hypothesis import strategies as st

from livegate.domain.enums import Liquidity, Side
from livegate.ledger import events as ev
from livegate.ledger import payloads as pl
from livegate.ledger.payload_fields import Payload
from livegate.ledger.payload_orders import (
    DecisionRecorded,
    FillRecorded,
    IntentRecorded,
    MarkoutRecorded,
    OrderReported,
)

# payloads as the session writes them (taken from a paper run's ledger)
_WRITTEN: dict[str, dict[str, object]] = {
    ev.INTENT: {
        "client_order_id": "lg9937f2f9c5-e937-0", "order_type": "limit", "post_only": False, "price": "61800.30",
        "quantity": "0.002", "reduce_only": False, "seq": 0, "side": "buy", "strategy_id": "bench_every_1000",
        "symbol": "BTCUSDT", "time_in_force": "ioc", "ts_ms": 1723161600036,
    },
    ev.DECISION: {
        "approved": True, "arrival": {"age_ms": 0, "ask": "61800.30", "bid": "61800.20", "mid": "61800.25"},
        "client_order_id": "lg9937f2f9c5-e937-0", "code": None, "detail": "", "venue": "paper",
    },
    ev.FILL: {
        "arrival_mid": "61800.25", "client_order_id": "lg9937f2f9c5-e937-0", "fee": "0.0618003",
        "fill_id": "paper-f1", "liquidity": "taker", "price": "61800.30", "quantity": "0.002", "side": "buy",
        "slippage_bps": "0.0081", "symbol": "BTCUSDT", "ts_ms": 1723161600036, "venue": "paper",
    },
    ev.MARKOUT: {
        "client_order_id": "lg9937f2f9c5-e937-0", "fill_id": "paper-f1", "fill_ts_ms": 1723161600036,
        "horizon_ms": 1000, "markout_bps": "-0.0324", "mid_after": "61800.05", "mid_at_fill": "61800.25",
        "side": "buy", "symbol": "BTCUSDT",
    },
    ev.ORDER_REPORT: {
        "client_order_id": "lg9937f2f9c5-e937-0", "code": "", "filled_quantity": "0.002", "reason": "",
        "status": "filled", "venue_order_id": "paper-o1",
    },
}  # fmt: skip

_FIELD_BY_FIELD: dict[str, Callable[[Payload], object]] = {
    ev.INTENT: IntentRecorded._decode_fields,
    ev.DECISION: DecisionRecorded._decode_fields,
    ev.FILL: FillRecorded._decode_fields,
    ev.MARKOUT: MarkoutRecorded._decode_fields,
    ev.ORDER_REPORT: OrderReported._decode_fields,
}

_MISSING = object()
_ODD_VALUES: list[object] = [
    _MISSING, None, 5, 0, -1, 2.5, True, False, "", "x", "1e3", " 7 ", "NaN", "sell", "market", "gtc", "maker",
    Side.SELL, Liquidity.MAKER, [1], {"a": 1}, {"age_ms": 1, "ask": "2", "bid": "1", "mid": "1.5"},
    {"age_ms": "1", "ask": "2", "bid": "1", "mid": "1.5"}, {"ask": "2", "bid": "1", "mid": "1.5", "age_ms": 3},
    {"age_ms": 1, "ask": 2, "bid": "1", "mid": "1.5"},
    MappingProxyType({"age_ms": 1, "ask": "2", "bid": "1", "mid": "1"}),
]  # fmt: skip


def _outcome(read: Callable[[Payload], object], payload: Payload) -> tuple[str, str]:
    try:
        value = read(payload)
    except Exception as exc:  # the error itself is the outcome compared
        return type(exc).__name__, str(exc)
    return type(value).__name__, repr(value)  # repr: Decimal exponents and enum members count


def test_decode_when_payloads_as_written_then_same_typed_values_as_field_by_field() -> None:
    for kind, payload in _WRITTEN.items():
        assert _outcome(lambda p, k=kind: pl.decode(k, p), payload) == _outcome(_FIELD_BY_FIELD[kind], payload)
        assert pl.decode(kind, payload) == _FIELD_BY_FIELD[kind](payload)
        assert pl.decode(kind, MappingProxyType(payload)) == pl.decode(kind, payload)


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(sorted(_WRITTEN)),
    st.lists(st.tuples(st.integers(0, 20), st.sampled_from(range(len(_ODD_VALUES)))), min_size=1, max_size=3),
)
def test_decode_when_fields_are_missing_or_of_other_types_then_same_value_or_same_error_as_field_by_field(
    kind: str, changes: list[tuple[int, int]]
) -> None:
    payload = dict(_WRITTEN[kind])
    names = sorted(payload)
    for field_index, value_index in changes:
        name, value = names[field_index % len(names)], _ODD_VALUES[value_index]
        if value is _MISSING:
            payload.pop(name, None)
        else:
            payload[name] = value
    assert _outcome(lambda p: pl.decode(kind, p), payload) == _outcome(_FIELD_BY_FIELD[kind], payload)


def test_decode_when_intent_says_flatten_without_reduce_only_then_payload_error() -> None:
    payload = {**_WRITTEN[ev.INTENT], "flatten": True}
    assert pl.decode(ev.INTENT, payload) == IntentRecorded._decode_fields(payload)  # flatten is not read back
    bad_side = {**_WRITTEN[ev.INTENT], "side": "long"}
    assert _outcome(lambda p: pl.decode(ev.INTENT, p), bad_side) == (
        "PayloadError",
        "'long' is not a valid Side",
    )
