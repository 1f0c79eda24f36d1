"""The pipeline's record of an approval the fast path proved over the whole chain.

When the fast path judges every gate of the chain, the pipeline records an intent it
proves and approves it without calling a gate; a record that raises (a durable budget
write) still denies with ``GATE_ERROR`` naming the gate, and nothing is approved.
"""

from __future__ import annotations

import dataclasses

import pytest

from livegate.config.models import LivegateConfig
from livegate.domain.enums import DenialCode, Mode
from livegate.domain.orders import OrderIntent
from livegate.risk import pipeline as pipeline_module
from livegate.risk.chain import build_gates, build_risk_parts
from livegate.risk.fast_path import FastPath
from livegate.risk.killswitch import KillSwitch
from livegate.risk.pipeline import RiskPipeline
from tests.risk.helpers import context, intent, quote


def _pipeline(monkeypatch: pytest.MonkeyPatch, record_error: Exception | None) -> tuple[RiskPipeline, list[object]]:
    config = LivegateConfig.model_validate(
        {"risk": {"price_band_bps": 30, "duplicate_window_ms": 1000, "max_orders_per_day": 100}}
    )
    ctx = context(quote())
    gates = build_gates(config, Mode.PAPER, build_risk_parts(config, KillSwitch(None, ctx.clock)))
    recorded: list[object] = []
    find = pipeline_module.find_fast_path

    def find_failing(*args: object) -> FastPath | None:
        fast = find(*args)  # type: ignore[arg-type]
        assert fast is not None and fast.start == 0 and fast.end == len(gates)  # the whole chain

        def record(made: OrderIntent) -> None:
            recorded.append(made)
            if record_error is not None:
                raise record_error
            fast.record(made)

        return dataclasses.replace(fast, record=record)

    monkeypatch.setattr(pipeline_module, "find_fast_path", find_failing)
    pipeline = RiskPipeline(gates, ctx)
    assert pipeline._whole  # the path under test: the fast path's record, called by the pipeline itself
    return pipeline, recorded


def test_pipeline_when_fast_path_proves_the_whole_chain_then_recorded_once_and_approved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pipeline, recorded = _pipeline(monkeypatch, None)
    made = intent("buy", "0.010", "60000.1")
    decision = pipeline.evaluate(made, "cid", "paper")
    assert decision.approved and recorded == [made]
    again = pipeline.evaluate(made, "cid2", "paper")  # the same order at the same time: the record made it a duplicate
    assert not again.approved and again.code is DenialCode.DUPLICATE_INTENT  # type: ignore[union-attr]
    assert recorded == [made]


def test_pipeline_when_the_whole_chain_record_raises_then_gate_error_naming_the_daily_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pipeline, recorded = _pipeline(monkeypatch, OSError("budget file not writable"))
    made = intent("buy", "0.010", "60000.1")
    decision = pipeline.evaluate(made, "cid", "paper")
    assert not decision.approved and recorded == [made]
    assert decision.code is DenialCode.GATE_ERROR  # type: ignore[union-attr]
    assert decision.detail == "gate daily_order_count raised OSError('budget file not writable')"  # type: ignore[union-attr]
