"""The packaged Grafana dashboard and Prometheus rules query only metrics a session exports; promtool accepts the rules.

The exported names come from a real paper replay's ``metrics.prom`` (the ``paper_run``
fixture), expanded by type as Prometheus stores them (counter ``_total``; histogram
``_bucket``, ``_sum``, ``_count``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.metrics.helpers import REQUIRED

ASSETS = resources.files("livegate.telemetry.metrics")
RULES_TEST = Path(__file__).with_name("prometheus_rules_test.yml")
#: PromQL functions and aggregations the assets may call.
FUNCTIONS = {"sum", "max", "min", "avg", "count", "rate", "increase", "irate", "histogram_quantile", "abs"}
KEYWORDS = {"and", "or", "unless", "bool", "offset"}
_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def metric_names(expr: str) -> set[str]:
    """Return the metric names a PromQL expression selects (label matchers, ranges and groupings removed).

    Raises
    ------
    AssertionError
        If the expression calls a function outside :data:`FUNCTIONS`.
    """
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        word = match.group()
        if text[match.end() :].lstrip().startswith("("):
            assert word in FUNCTIONS, f"unexpected function {word} in {expr}"
        elif word not in KEYWORDS:
            names.add(word)
    return names


def exported_names(metrics_prom: Path) -> set[str]:
    """Return every series name a session exports, by family type (families without samples included)."""
    names = set()
    for family in text_string_to_metric_families(metrics_prom.read_text(encoding="utf-8")):
        names.update(family.name + suffix for suffix in _SUFFIXES[family.type])
    return names


def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ASSETS / "grafana_dashboard.json").read_text(encoding="utf-8"))
    return data


def dashboard_exprs() -> list[str]:
    data = dashboard()
    exprs = [t["expr"] for p in data["panels"] for t in p.get("targets", [])]
    # Grafana's template query label_values(<selector>, <label>) selects series like PromQL does
    templates = [v["definition"] for v in data["templating"]["list"] if v["type"] == "query"]
    exprs += [re.sub(r"^label_values\((.+),\s*\w+\)$", r"\1", t) for t in templates]
    return exprs


def rules_text() -> str:
    return (ASSETS / "prometheus_rules.yml").read_text(encoding="utf-8")


def rule_exprs() -> list[str]:
    exprs = re.findall(r"(?m)^\s+expr:\s*(.+)$", rules_text())
    assert len(exprs) == len(re.findall(r"(?m)^\s+- alert:", rules_text())), "one single-line expr per alert"
    return exprs


def test_metric_names_when_expression_has_labels_groupings_and_ranges_then_only_metrics_are_named() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (venue, le) (rate(livegate_x_bucket{instance=~"$i", a="b(c)"}'
        "[$__rate_interval]))) / on (venue) livegate_y > bool 0"
    )
    assert metric_names(expr) == {"livegate_x_bucket", "livegate_y"}


def test_dashboard_when_parsed_then_every_query_uses_only_exported_metrics(paper_run: Path) -> None:
    exported = exported_names(paper_run / "metrics.prom")
    exprs = dashboard_exprs()
    assert len(exprs) >= 20
    for expr in exprs:
        names = metric_names(expr)
        assert names, expr
        assert names <= exported, f"{sorted(names - exported)} in {expr}"


def test_dashboard_when_parsed_then_every_required_metric_has_a_panel() -> None:
    used = {name for expr in dashboard_exprs() for name in metric_names(expr)}
    for required in REQUIRED:
        assert any(name == required or name.startswith(required + "_") for name in used), required


def test_rules_when_parsed_then_every_expression_uses_only_exported_metrics(paper_run: Path) -> None:
    exported = exported_names(paper_run / "metrics.prom")
    exprs = rule_exprs()
    for expr in exprs:
        names = metric_names(expr)
        assert names and names <= exported, f"{sorted(names - exported)} in {expr}"
    alerts = set(re.findall(r"(?m)^\s+- alert: (\w+)$", rules_text()))
    for needed in ("LivegateKillTripped", "LivegateReducing", "LivegateStaleQuotes", "LivegateVenueUnhealthy",
                   "LivegateReconcileMismatch", "LivegateLoopLag", "LivegateAlertDeliveryFailing",
                   "LivegateBudgetNearCap"):  # fmt: skip
        assert needed in alerts


def _promtool() -> str:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian: apt-get install prometheus); CI installs it")
    return promtool


def test_rules_when_checked_by_promtool_then_valid() -> None:
    with resources.as_file(ASSETS / "prometheus_rules.yml") as path:
        done = subprocess.run([_promtool(), "check", "rules", str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(rule_exprs())} rules found" in done.stdout + done.stderr


def test_rules_when_unit_tested_by_promtool_then_kill_stale_budget_alerts_and_drift_fire_as_specified() -> None:
    argv = [_promtool(), "test", "rules", RULES_TEST.name]
    done = subprocess.run(argv, cwd=RULES_TEST.parent, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout + done.stderr
