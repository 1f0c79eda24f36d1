"""The duplicate-intent memory: keyed by floats, exact by Decimal, forgetting a little at each new key.

Above ``DUPLICATE_KEYS_KEPT`` keys each new key makes the gate look at the two oldest:
expired ones are forgotten, live ones move to the back. A live approval is never
forgotten, the memory stays bounded, and the fast path's inline record leaves the same
memory as the gate's own ``record_approved``.
"""

from __future__ import annotations

from decimal import Decimal

from livegate.config.models import LivegateConfig
from livegate.domain.enums import DenialCode, Mode
from livegate.risk import counters
from livegate.risk.chain import build_gates, build_risk_parts
from livegate.risk.killswitch import KillSwitch
from livegate.risk.pipeline import RiskPipeline
from tests.risk.helpers import T0, context, intent, quote

D = Decimal
_KEPT = counters.DUPLICATE_KEYS_KEPT


def test_duplicate_memory_when_many_keys_then_live_ones_still_deny_and_expired_ones_are_forgotten() -> None:
    ctx = context(quote())
    gate = counters.DuplicateIntentGate(1000)
    for k in range(3 * _KEPT):  # approvals 1 ms apart: the window holds the last 1,000
        approved = intent("buy", "0.001", str(D("50000.0") + D(k) / 10), ts=T0 + k)
        assert gate.check(approved, ctx) is None
        gate.record_approved(approved, ctx)
    assert len(gate._last) <= 2 * 1000 + _KEPT  # bounded by the approvals inside one window
    now = T0 + 3 * _KEPT
    for k in (3 * _KEPT - 1, 3 * _KEPT - 700, 0):  # all still inside the window (768 ms): denied
        again = intent("buy", "0.001", str(D("50000.0") + D(k) / 10), ts=now)
        deny = gate.check(again, ctx)
        assert deny is not None and deny.code is DenialCode.DUPLICATE_INTENT
    later = T0 + 10_000
    for k in range(4 * _KEPT):  # new keys long after: the old ones are looked at and forgotten
        approved = intent("sell", "0.002", str(D("40000.0") + D(k) / 10), ts=later + k)
        if gate.check(approved, ctx) is None:
            gate.record_approved(approved, ctx)
    assert all(filed[-1][2] >= later for filed in list(gate._last.values())[-_KEPT:])
    assert len(gate._last) <= 2 * 1000 + _KEPT
    assert list(gate._order) == list(gate._last)  # the filing order holds exactly the remembered keys


def test_duplicate_memory_when_amounts_share_a_float_then_each_is_judged_by_its_decimal() -> None:
    ctx = context(quote())
    gate = counters.DuplicateIntentGate(1000)
    near = "0.1000000000000000000000001"  # the same float as 0.1, another amount
    assert float(D(near)) == float(D("0.1"))
    for qty in ("0.1", near):
        approved = intent("buy", qty, "60000.0")
        assert gate.check(approved, ctx) is None
        gate.record_approved(approved, ctx)
    assert len(gate._last) == 1 and len(next(iter(gate._last.values()))) == 2
    for qty in ("0.10", near):
        deny = gate.check(intent("buy", qty, "60000.0", ts=T0 + 1), ctx)
        assert deny is not None and deny.code is DenialCode.DUPLICATE_INTENT
    assert gate.check(intent("buy", "0.1000000000000000000000002", "60000.0", ts=T0 + 1), ctx) is None


def test_fast_path_record_when_many_keys_then_the_same_memory_as_the_gate() -> None:
    config = LivegateConfig.model_validate({"risk": {"duplicate_window_ms": 50}})
    memories = []
    for fast in (True, False):
        ctx = context(quote(bid="60000.0", ask="60000.1"))
        gates = build_gates(config, Mode.PAPER, build_risk_parts(config, KillSwitch(None, ctx.clock)))
        pipeline = RiskPipeline(gates, ctx, fast_path=fast)
        for k in range(3 * _KEPT):
            price = str(D("60000.0") - D(k % (2 * _KEPT)) / 10)
            made = intent("buy" if k % 3 else "sell", "0.001", price, ts=T0 + k // 4)
            pipeline.evaluate(made, f"c{k}", "paper")
        dup = next(g for g in gates if isinstance(g, counters.DuplicateIntentGate))
        memories.append(list(dup._last.items()))
        assert list(dup._order) == list(dup._last)
    assert memories[0] == memories[1]
