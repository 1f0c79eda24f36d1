"""Chart coordinates: each number's text from one fixed-point formatting is ``str(round(value, 2))``."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from livegate.ops.report_svg import Line, _coord, line_chart

EDGES = [0.0, -0.0, 0.005, -0.005, 0.015, 2.675, 1.005, -1.005, 1e-9, -1e-9, 999_999_999.995, -999_999_999.995,
         1e9, -1e9, 1e12 + 0.125, 1e16, -1e300, math.inf, -math.inf, math.nan, 5e-324]  # fmt: skip


def test_coord_when_edge_values_then_the_text_of_round_to_two_decimals() -> None:
    for value in EDGES:
        assert _coord(value) == str(round(value, 2)), value


@settings(max_examples=3000, deadline=None)
@given(value=st.floats(allow_nan=True, allow_infinity=True) | st.floats(min_value=-1e4, max_value=1e4))
def test_coord_when_any_float_then_the_text_of_round_to_two_decimals(value: float) -> None:
    assert _coord(value) == str(round(value, 2))


def test_line_chart_when_step_line_then_each_point_drawn_with_its_rounded_coordinates() -> None:
    svg = line_chart("t", "t", [Line("a", [(0.0, 1.0), (1.0, 2.5), (2.0, 2.5)], step=True)], y_label="y")
    path = svg.split('class="series" d="')[1].split('"')[0]
    assert path == "M70.0,206.0 L407.0,206.0 L407.0,28.0 L744.0,28.0 L744.0,28.0"
