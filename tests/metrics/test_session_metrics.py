"""SessionMetrics: its own registry, Prometheus names, no ``_created``, the alert counters, histogram buckets."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from livegate.domain.enums import DenialCode, TradingState
from livegate.telemetry.metrics import METRICS_FILE, SessionMetrics
from livegate.telemetry.metrics.instruments import CounterFamily, HistogramFamily
from tests.metrics.helpers import read_families, total


def _families(metrics: SessionMetrics) -> dict[str, object]:
    return {f.name: f for f in text_string_to_metric_families(metrics.render().decode())}


def test_session_metrics_when_created_then_registry_is_its_own_and_global_registry_has_no_livegate_metric() -> None:
    first, second = SessionMetrics(), SessionMetrics()
    first.intent("paper", "BTCUSDT")
    assert first.registry is not REGISTRY and first.registry is not second.registry
    assert b"livegate_" not in generate_latest(REGISTRY)
    assert b"livegate_intents_total{" not in second.render()


def test_session_metrics_when_rendered_then_names_follow_prometheus_conventions_and_no_created_series() -> None:
    metrics = SessionMetrics(mode="paper", version="1.2.3")
    metrics.intent("paper", "BTCUSDT")
    metrics.submit_answered("paper", 0.002)
    metrics.reconcile_run("paper", "periodic", "drift", {"position_mismatch": 2})
    text = metrics.render().decode()
    assert "_created" not in text
    for family in text_string_to_metric_families(text):
        assert family.name.startswith("livegate_")
        if family.type == "counter":
            assert all(s.name == family.name + "_total" for s in family.samples)
        assert not family.name.endswith(("_ms", "_secs", "_millis")), "base units only (seconds)"
    assert "# TYPE livegate_order_submit_latency_seconds histogram" in text


def test_session_metrics_when_alert_dispatcher_reports_then_sent_and_failed_count_by_lower_case_severity() -> None:
    metrics = SessionMetrics()
    metrics.alert_sent("CRIT")
    metrics.alert_sent("crit")
    metrics.alert_failed("WARN")
    families = _families(metrics)
    sent = {s.labels["severity"]: s.value for s in families["livegate_alerts_sent"].samples}  # type: ignore[attr-defined]
    failed = {s.labels["severity"]: s.value for s in families["livegate_alerts_failed"].samples}  # type: ignore[attr-defined]
    assert sent == {"crit": 2.0, "info": 0.0, "warn": 0.0}
    assert failed == {"crit": 0.0, "info": 0.0, "warn": 1.0}


def test_session_metrics_when_new_then_every_denial_code_and_one_trading_state_are_exported() -> None:
    metrics = SessionMetrics()
    metrics.trading_state(TradingState.HALTED)
    families = _families(metrics)
    codes = {s.labels["code"] for s in families["livegate_denials"].samples}  # type: ignore[attr-defined]
    assert codes == {c.value for c in DenialCode}
    states = {s.labels["state"]: s.value for s in families["livegate_trading_state"].samples}  # type: ignore[attr-defined]
    assert states == {"active": 0.0, "reducing": 0.0, "halted": 1.0}


def test_histogram_family_when_value_on_a_bound_then_counted_in_that_bucket_and_buckets_are_cumulative() -> None:
    histogram = HistogramFamily("livegate_x_seconds", "x", ("venue",), (0.1, 1.0))
    for value in (0.1, 0.5, 3.0):
        histogram.observe("v", value=value)
    samples = {(s.name, s.labels.get("le")): s.value for s in histogram.collect().samples}
    assert samples[("livegate_x_seconds_bucket", "0.1")] == 1
    assert samples[("livegate_x_seconds_bucket", "1.0")] == 2
    assert samples[("livegate_x_seconds_bucket", "+Inf")] == 3
    assert samples[("livegate_x_seconds_count", None)] == 3
    assert samples[("livegate_x_seconds_sum", None)] == pytest.approx(3.6)


def test_counter_family_when_misused_then_refused_with_the_metric_name() -> None:
    with pytest.raises(ValueError, match="_total"):
        CounterFamily("livegate_things", "x")
    counter = CounterFamily("livegate_things_total", "x", ("kind",))
    with pytest.raises(ValueError, match="livegate_things_total: a counter cannot decrease"):
        counter.inc("a", amount=-1)
    with pytest.raises(ValueError, match=r"livegate_things_total: expected labels \('kind',\)"):
        counter.inc("a", "b")


def test_session_metrics_when_written_then_metrics_prom_parses_and_holds_the_values(tmp_path: Path) -> None:
    metrics = SessionMetrics()
    metrics.fill("paper", "BTCUSDT", "taker", Decimal("1234.5"))
    metrics.market_totals(10, 4)
    metrics.market_totals(25, 4)
    path = metrics.write(tmp_path)
    assert path == tmp_path / METRICS_FILE and not list(tmp_path.glob("*.tmp"))
    families = read_families(path)
    assert total(families, "livegate_fills_total", liquidity="taker") == 1
    assert total(families, "livegate_filled_notional_usd_total") == 1234.5
    assert total(families, "livegate_market_events_total", kind="quote") == 25
    assert total(families, "livegate_market_events_total", kind="trade") == 4
