"""The inline SVG charts and the run report's fallbacks (no browser needed)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from livegate.ops.report import write_run_report
from livegate.ops.report_svg import Bars, Line, Marker, bar_chart, histogram, line_chart

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_line_chart_when_series_and_markers_then_valid_svg_counting_every_point() -> None:
    svg = line_chart(
        "fills",
        "Fills <&> quotes",
        [Line("bid", [(0, 100.0), (1000, 100.5)], step=True), Line("ask", [(0, 101.0)])],
        y_label="price",
        markers=[Marker(500, 100.7, "up", "#000", "buy 0.1 @ 100.7"), Marker(600, 100.2, "down", "#f00")],
    )
    root = _parse(svg)
    assert root.get("data-chart") == "fills" and root.get("data-points") == "5"
    assert root.find(f"{SVG}title").text == "Fills <&> quotes"  # type: ignore[union-attr]
    assert len(root.findall(f"{SVG}path[@class='series']")) == 2
    assert len(root.findall(f".//{SVG}path[@class='marker']")) == 2


def test_charts_when_no_data_then_a_no_data_note_and_zero_points() -> None:
    for svg in (
        line_chart("equity", "Equity", [Line("total", [])], y_label="USD"),
        bar_chart("denials", "Denials", Bars(), y_label="denials"),
        histogram("slippage", "Slippage", [], unit="bps"),
    ):
        root = _parse(svg)
        assert root.get("data-points") == "0" and "no data" in svg


def test_histogram_when_every_value_is_equal_then_one_bar_holds_them_all() -> None:
    root = _parse(histogram("slippage", "Slippage", [1.5, 1.5, 1.5], unit="bps", bins=4))
    assert root.get("data-points") == "1"
    heights = [float(r.get("height", "0")) for r in root.findall(f"{SVG}rect")]
    assert sum(1 for h in heights if h > 0) == 1


def test_run_report_when_the_ledger_is_gone_then_a_red_banner_and_the_summary_figures(tmp_path: Path) -> None:
    path = write_run_report(tmp_path, {"mode": "paper", "fills": 3, "inputs": ["/secret/abs/path.csv"]})
    text = path.read_text(encoding="utf-8")
    assert "data-banner='bad'" in text and "could not be read" in text
    assert re.search(r"<td class='t'>fills</td><td class='t'>3</td>", text)
    assert "/secret/abs/path.csv" not in text and str(tmp_path) not in text  # relative paths only
