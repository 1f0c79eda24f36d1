"""report.html and ``livegate report`` (issue 13 item 3), rendered by headless Chromium.

Chromium comes from the Debian registry (``apt-get install -y chromium``; ``.ci/run`` installs
it). Screenshots go to the test's ``tmp_path/artifacts``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from livegate.ops.report_charts import CHART_NAMES
from livegate.ops.report_rollup import ROLLUP_CHART_NAMES
from tests.integration.helpers import livegate_in_process

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="needs chromium (apt-get install -y chromium)"),
]

_CHART = re.compile(r'<svg class="chart" data-chart="([a-z_]+)" data-points="(\d+)"')


def _chromium(page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", *args]
    return subprocess.run([*command, page.resolve().as_uri()], capture_output=True, text=True, timeout=180, check=False)


def _render(page: Path, artifacts: Path) -> str:
    """Return the DOM Chromium built from ``page`` and save a full-page screenshot beside it in ``artifacts``."""
    artifacts.mkdir(parents=True, exist_ok=True)
    shot = artifacts / f"{page.stem}.png"
    done = _chromium(page, "--window-size=1280,3200", f"--screenshot={shot}")
    assert shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", done.stderr[-2000:]
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
    dom = _chromium(page, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    return dom.stdout


def _self_contained(text: str, home: Path) -> None:
    assert str(home) not in text and "/tmp/" not in text  # relative paths only
    assert "<script" not in text and "<link" not in text and "url(" not in text
    assert not re.search(r"(?:src|href)=['\"]?(?:https?:)?//", text)  # nothing fetched from a network
    assert set(re.findall(r"https?://[^\s'\"<>]+", text)) <= {"http://www.w3.org/2000/svg"}


def test_run_report_when_the_run_ended_reducing_then_chromium_shows_the_banner_and_every_chart(
    ops_runs: Path, tmp_path: Path
) -> None:
    run_dir = ops_runs / "runs" / "drifted"
    done = livegate_in_process(["report", str(run_dir)], ops_runs)
    assert done.returncode == 0, done.stderr
    page = run_dir / "report.html"
    _self_contained(page.read_text(encoding="utf-8"), ops_runs)
    dom = _render(page, tmp_path / "artifacts")
    assert 'data-banner="bad"' in dom and "ended REDUCING" in dom and "anomalies" in dom
    charts = dict(_CHART.findall(dom))
    assert set(charts) == set(CHART_NAMES)
    assert all(int(points) > 0 for points in charts.values()), charts
    assert "<h2>Orders" in dom and "<h2>Fills" in dom


def test_run_report_when_the_run_was_clean_then_a_green_banner(ops_runs: Path, tmp_path: Path) -> None:
    page = ops_runs / "runs" / "paper" / "report.html"  # written by the session itself
    dom = _render(page, tmp_path / "artifacts")
    assert 'data-banner="ok"' in dom and 'data-banner="bad"' not in dom
    charts = dict(_CHART.findall(dom))
    assert set(charts) == set(CHART_NAMES)
    assert charts["denials"] == "0"  # nothing was denied: the chart says "no data"
    assert all(int(charts[name]) > 0 for name in CHART_NAMES if name != "denials")


def test_report_over_runs_when_one_ended_reducing_then_one_page_with_banner_charts_and_relative_links(
    ops_runs: Path, tmp_path: Path
) -> None:
    report_args = ["report", str(ops_runs / "runs"), "--out", str(tmp_path / "site" / "daily.html")]
    done = livegate_in_process(report_args, ops_runs)
    assert done.returncode == 0, done.stderr
    page = tmp_path / "site" / "daily.html"
    text = page.read_text(encoding="utf-8")
    _self_contained(text, tmp_path)
    links = re.findall(r"href='([^']+)'", text)
    assert links and all((page.parent / link).resolve().is_file() for link in links)
    dom = _render(page, tmp_path / "artifacts")
    assert 'data-banner="bad"' in dom and "1 of 2 runs" in dom
    charts = dict(_CHART.findall(dom))
    assert set(charts) == set(ROLLUP_CHART_NAMES)
    assert all(int(points) > 0 for points in charts.values()), charts
