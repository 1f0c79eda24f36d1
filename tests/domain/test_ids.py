"""Client order ids are deterministic, unique per sequence and fit venue rules."""

from __future__ import annotations

import re

import pytest

from livegate.domain.ids import client_order_id, session_id_for


def test_client_order_id_when_same_inputs_then_same_id_and_fits_binance_rule() -> None:
    sid = session_id_for("0", "cfg", "file.csv")
    ids = [client_order_id(sid, "market_maker", n) for n in range(5000)]
    assert ids == [client_order_id(sid, "market_maker", n) for n in range(5000)]
    assert len(set(ids)) == len(ids)
    for cid in ids:
        assert re.fullmatch(r"[\.A-Z\:/a-z0-9_-]{1,36}", cid)


def test_client_order_id_when_negative_sequence_then_raises() -> None:
    with pytest.raises(ValueError, match="intent_seq"):
        client_order_id("abc", "s", -1)
