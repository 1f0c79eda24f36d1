"""Plain inline SVG charts for the HTML reports: lines, step lines, markers, bars (no plotting library).

Every chart is one ``<svg class="chart" data-chart=NAME data-points=N>`` element, where N
counts the data points drawn (0 draws a "no data" note), so a browser test can check that
each chart rendered with data. Coordinates are plain numbers; text is HTML-escaped.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, NamedTuple

__all__ = ["Bars", "Line", "Marker", "bar_chart", "histogram", "line_chart", "time_label"]

_W: Final = 760
_H: Final = 240
_LEFT: Final = 70
_RIGHT: Final = 16
_TOP: Final = 28
_BOTTOM: Final = 34
#: Colour per series index (colour-blind safe Okabe-Ito palette).
PALETTE: Final = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


@dataclass(frozen=True, slots=True)
class Line:
    """One series: ``points`` are (x, y); ``step`` draws a step line (value holds until the next point)."""

    name: str
    points: Sequence[tuple[float, float]]
    color: str = PALETTE[0]
    step: bool = False


class Marker(NamedTuple):
    """One marker at (x, y): ``shape`` ``up`` (buy), ``down`` (sell) or ``dot``; ``title`` is its tooltip.

    A named tuple (immutable, cheap to build: a run report draws one per fill).
    """

    x: float
    y: float
    shape: str
    color: str
    title: str = ""


@dataclass(slots=True)
class Bars:
    """Bars: ``labels[i]`` under a bar of height ``values[i]``."""

    labels: list[str] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    color: str = PALETTE[0]


def time_label(ms: float) -> str:
    """Return ``HH:MM:SS`` (UTC) of a time in ms since the epoch."""
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%H:%M:%S")


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:,.1f}"
    if magnitude >= 0.01:
        return f"{value:.3g}"
    return f"{value:.2e}"


def _open(name: str, title: str, points: int) -> list[str]:
    return [
        f'<svg class="chart" data-chart="{html.escape(name)}" data-points="{points}" '
        f'viewBox="0 0 {_W} {_H}" width="{_W}" height="{_H}" role="img" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{html.escape(title)}</title>",
        f'<text x="{_LEFT}" y="18" font-size="14" font-weight="bold">{html.escape(title)}</text>',
    ]


def _empty(name: str, title: str) -> str:
    parts = _open(name, title, 0)
    parts.append(f'<text x="{_W / 2}" y="{_H / 2}" text-anchor="middle" fill="#777">no data</text></svg>')
    return "".join(parts)


class _Scale:
    """Map data coordinates to the plot area."""

    def __init__(self, xs: Sequence[float], ys: Sequence[float]) -> None:
        self.x0, self.x1 = min(xs), max(xs)
        self.y0, self.y1 = min(ys), max(ys)
        if self.x1 == self.x0:
            self.x0, self.x1 = self.x0 - 1, self.x1 + 1
        if self.y1 == self.y0:
            pad = abs(self.y0) * 0.01 or 1.0
            self.y0, self.y1 = self.y0 - pad, self.y1 + pad

    def x(self, value: float) -> float:
        return round(_LEFT + (value - self.x0) / (self.x1 - self.x0) * (_W - _LEFT - _RIGHT), 2)

    def y(self, value: float) -> float:
        return round(_TOP + (self.y1 - value) / (self.y1 - self.y0) * (_H - _TOP - _BOTTOM), 2)


def _y_label(text: str) -> str:
    middle = (_TOP + _H - _BOTTOM) / 2
    return (
        f'<text x="14" y="{middle}" font-size="11" fill="#444" text-anchor="middle" '
        f'transform="rotate(-90 14 {middle})">{html.escape(text)}</text>'
    )


def _axes(scale: _Scale, y_label: str, x_time: bool) -> list[str]:
    bottom, right = _H - _BOTTOM, _W - _RIGHT
    parts = [
        f'<line x1="{_LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#444"/>',
        f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{bottom}" stroke="#444"/>',
        _y_label(y_label),
    ]
    for i in range(5):
        value = scale.y0 + (scale.y1 - scale.y0) * i / 4
        y = scale.y(value)
        parts.append(f'<line x1="{_LEFT}" y1="{y}" x2="{right}" y2="{y}" stroke="#eee"/>')
        parts.append(f'<text x="{_LEFT - 4}" y="{y + 4}" font-size="10" text-anchor="end">{_fmt(value)}</text>')
    for i in range(5):
        value = scale.x0 + (scale.x1 - scale.x0) * i / 4
        label = time_label(value) if x_time else _fmt(value)
        parts.append(f'<text x="{scale.x(value)}" y="{bottom + 14}" font-size="10" text-anchor="middle">{label}</text>')
    return parts


def line_chart(
    name: str,
    title: str,
    lines: Sequence[Line],
    *,
    y_label: str,
    markers: Sequence[Marker] = (),
    x_time: bool = True,
) -> str:
    """Return an SVG line chart of ``lines`` (and ``markers``); x is ms since the epoch when ``x_time``."""
    xs = [p[0] for line in lines for p in line.points] + [m.x for m in markers]
    ys = [p[1] for line in lines for p in line.points] + [m.y for m in markers]
    if not xs:
        return _empty(name, title)
    scale = _Scale(xs, ys)
    parts = _open(name, title, len(xs))
    parts += _axes(scale, y_label, x_time)
    for index, line in enumerate(lines):
        path = _path(line, scale)
        if path:
            parts.append(f'<path class="series" d="{path}" fill="none" stroke="{line.color}" stroke-width="1.5"/>')
        parts.append(
            f'<text x="{_W - _RIGHT - 4}" y="{_TOP + 12 + 13 * index}" font-size="11" text-anchor="end" '
            f'fill="{line.color}">{html.escape(line.name)}</text>'
        )
    for marker in markers:
        parts.append(_marker(marker, scale))
    parts.append("</svg>")
    return "".join(parts)


def _path(line: Line, scale: _Scale) -> str:
    points = list(line.points)
    if not points:
        return ""
    # each point mapped once, by the same arithmetic as _Scale.x and _Scale.y (the same text)
    x0, dx, width = scale.x0, scale.x1 - scale.x0, _W - _LEFT - _RIGHT
    y1, dy, height = scale.y1, scale.y1 - scale.y0, _H - _TOP - _BOTTOM
    xs = [_coord(_LEFT + (x - x0) / dx * width) for x, _ in points]  # each number's text made once
    ys = [_coord(_TOP + (y1 - y) / dy * height) for _, y in points]
    commands = [f"M{xs[0]},{ys[0]}"]
    if line.step:  # the value holds until the next point: across at the previous y, then to the new one
        for i in range(1, len(points)):
            x = xs[i]
            commands.append(f"L{x},{ys[i - 1]} L{x},{ys[i]}")
    else:
        commands += [f"L{x},{y}" for x, y in zip(xs[1:], ys[1:], strict=True)]
    if len(points) == 1:  # a single point: a short tick so it shows
        commands.append("l4,0")
    return " ".join(commands)


def _coord(value: float) -> str:
    """Return ``str(round(value, 2))``: a coordinate's text, from one fixed-point formatting.

    Below 1e9 in magnitude a number of at most two decimals has at most 11 significant
    digits, so the shortest text that reads back as ``round(value, 2)`` (what ``str``
    writes) is its two-decimal text without trailing zeros (one kept after the point); both
    round ``value`` correctly to two decimals. Anything else takes ``round`` itself.
    """
    if -1e9 < value < 1e9:
        text = f"{value:.2f}".rstrip("0")
        return text + "0" if text[-1] == "." else text
    return str(round(value, 2))


def _marker(marker: Marker, scale: _Scale) -> str:
    x, y = scale.x(marker.x), scale.y(marker.y)
    tip = f"<title>{html.escape(marker.title)}</title>" if marker.title else ""
    if marker.shape == "up":
        shape = f'<path class="marker" d="M{x},{y - 5} L{x - 4.5},{y + 3} L{x + 4.5},{y + 3} Z" fill="{marker.color}">'
    elif marker.shape == "down":
        shape = f'<path class="marker" d="M{x},{y + 5} L{x - 4.5},{y - 3} L{x + 4.5},{y - 3} Z" fill="{marker.color}">'
    else:
        shape = f'<circle class="marker" cx="{x}" cy="{y}" r="3" fill="{marker.color}">'
    closing = "</path>" if shape.startswith("<path") else "</circle>"
    return shape + tip + closing


def bar_chart(name: str, title: str, bars: Bars, *, y_label: str) -> str:
    """Return an SVG bar chart (bars from 0); ``data-points`` counts the non-zero bars."""
    values = bars.values
    if not values or not any(values):
        return _empty(name, title)
    scale = _Scale([0, len(values)], [min(0.0, *values), max(0.0, *values)])
    parts = _open(name, title, sum(1 for v in values if v))
    bottom, right = _H - _BOTTOM, _W - _RIGHT
    parts += [
        f'<line x1="{_LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#444"/>',
        f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{bottom}" stroke="#444"/>',
        _y_label(y_label),
    ]
    for i in range(5):
        value = scale.y0 + (scale.y1 - scale.y0) * i / 4
        y = scale.y(value)
        parts.append(f'<text x="{_LEFT - 4}" y="{y + 4}" font-size="10" text-anchor="end">{_fmt(value)}</text>')
    width = max((scale.x(1) - scale.x(0)) * 0.8, 1)
    zero = scale.y(0)
    label_every = max(1, len(values) // 8)
    for index, value in enumerate(values):
        x = scale.x(index) + (scale.x(1) - scale.x(0)) * 0.1
        top = min(zero, scale.y(value))
        height = abs(scale.y(value) - zero)
        label = html.escape(bars.labels[index]) if index < len(bars.labels) else ""
        parts.append(
            f'<rect class="bar" x="{round(x, 2)}" y="{top}" width="{round(width, 2)}" height="{round(height, 2)}" '
            f'fill="{bars.color}"><title>{label}: {_fmt(value)}</title></rect>'
        )
        if index % label_every == 0:
            parts.append(
                f'<text x="{round(x + width / 2, 2)}" y="{bottom + 14}" font-size="10" '
                f'text-anchor="middle">{label}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def histogram(name: str, title: str, values: Sequence[float], *, unit: str, bins: int = 20) -> str:
    """Return an SVG histogram of ``values`` in ``bins`` equal-width bins (labels are bin starts in ``unit``)."""
    if not values:
        return _empty(name, title)
    low, high = min(values), max(values)
    if high == low:
        low, high = low - 0.5, high + 0.5
    step = (high - low) / bins
    counts = [0.0] * bins
    for value in values:
        counts[min(int((value - low) / step), bins - 1)] += 1
    labels = [_fmt(low + step * i) for i in range(bins)]
    return bar_chart(name, title, Bars(labels, counts, PALETTE[2]), y_label=f"fills per bin ({unit})")
