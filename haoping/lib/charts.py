"""Small SVG charts for documents that run no JavaScript (the PDF reports): grouped bars, lines and
horizontal bars. Each function returns one `<svg>` element as text; labels are escaped here."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

FONT = "Noto Sans CJK SC, Noto Serif CJK SC, sans-serif"
INK = "#1f2328"
MUTED = "#656d76"
GRID = "#d8dee4"
LEFT, RIGHT, TOP, BOTTOM = 46, 12, 28, 30


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    color: str


def _number(value: float, percent: bool) -> str:
    if percent:
        return f"{value * 100:.0f}%"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _top(series: Sequence[Series], percent: bool) -> float:
    """The axis maximum: 100 % for rates, else at least 5 and the peak rounded up to 1, 2, 2.5 or 5 × 10ⁿ."""
    if percent:
        return 1.0
    peak = max((v for s in series for v in s.values if v is not None), default=0.0)
    if peak <= 5:
        return 5.0  # whole numbers on every grid line
    magnitude = 10 ** math.floor(math.log10(peak))
    return next(step * magnitude for step in (1, 2, 2.5, 5, 10) if peak <= step * magnitude)


def _open(width: int, height: int, title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="10" role="img" '
        f'aria-label="{escape(title)}">'
    ]


def _legend(series: Sequence[Series], x: float) -> list[str]:
    parts = []
    for s in series:
        parts.append(f'<rect x="{x:.1f}" y="6" width="10" height="10" fill="{s.color}"/>')
        parts.append(f'<text x="{x + 14:.1f}" y="15" fill="{INK}">{escape(s.name)}</text>')
        x += 24 + 11 * len(s.name)
    return parts


def _axes(width: int, height: int, top: float, percent: bool) -> list[str]:
    """Horizontal grid lines with their values on the left."""
    plot_height = height - TOP - BOTTOM
    parts = []
    for i in range(6):
        value = top * i / 5
        y = TOP + plot_height - plot_height * i / 5
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{width - RIGHT}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(
            f'<text x="{LEFT - 4}" y="{y + 3:.1f}" text-anchor="end" fill="{MUTED}">{_number(value, percent)}</text>'
        )
    return parts


def _categories(categories: Sequence[str], width: int, height: int) -> list[str]:
    """Category names under the plot, thinned out so that they do not overlap."""
    slot = (width - LEFT - RIGHT) / max(len(categories), 1)
    longest = max((len(c) for c in categories), default=1)
    every = max(1, math.ceil(longest * 7 / slot))
    return [
        f'<text x="{LEFT + slot * (i + 0.5):.1f}" y="{height - BOTTOM + 14}" text-anchor="middle" '
        f'fill="{MUTED}">{escape(name)}</text>'
        for i, name in enumerate(categories)
        if i % every == 0
    ]


def bar_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    width: int = 640,
    height: int = 220,
    percent: bool = False,
    title: str = "",
) -> str:
    """Grouped vertical bars, one group per category; a missing value (None) draws no bar."""
    top = _top(series, percent)
    plot_height = height - TOP - BOTTOM
    slot = (width - LEFT - RIGHT) / max(len(categories), 1)
    bar = slot * 0.8 / max(len(series), 1)
    parts = _open(width, height, title) + _axes(width, height, top, percent) + _legend(series, LEFT)
    for i in range(len(categories)):
        for j, s in enumerate(series):
            value = s.values[i]
            if value is None:
                continue
            h = plot_height * min(value / top, 1.0)
            x = LEFT + slot * i + slot * 0.1 + bar * j
            parts.append(
                f'<rect x="{x:.1f}" y="{TOP + plot_height - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{s.color}"/>'
            )
    parts += _categories(categories, width, height)
    return "".join(parts) + "</svg>"


def line_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    width: int = 640,
    height: int = 220,
    percent: bool = False,
    title: str = "",
) -> str:
    """Lines over the categories, with a dot on each value; a missing value (None) breaks the line."""
    top = _top(series, percent)
    plot_height = height - TOP - BOTTOM
    slot = (width - LEFT - RIGHT) / max(len(categories), 1)
    parts = _open(width, height, title) + _axes(width, height, top, percent) + _legend(series, LEFT)
    for s in series:
        runs: list[list[str]] = [[]]
        for i, value in enumerate(s.values):
            if value is None:
                runs.append([])
                continue
            x, y = LEFT + slot * (i + 0.5), TOP + plot_height - plot_height * min(value / top, 1.0)
            runs[-1].append(f"{x:.1f},{y:.1f}")
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{s.color}"/>')
        for run in runs:
            if len(run) > 1:
                points = " ".join(run)
                parts.append(f'<polyline points="{points}" fill="none" stroke="{s.color}" stroke-width="1.5"/>')
    parts += _categories(categories, width, height)
    return "".join(parts) + "</svg>"


def hbar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    color: str = "#c8161d",
    width: int = 640,
    percent: bool = False,
    title: str = "",
) -> str:
    """One horizontal bar per label, the label on the left and the value at the bar's end."""
    row = 20
    label_width = min(max((len(label) for label in labels), default=4) * 11 + 8, width // 2)
    height = row * len(labels) + 8
    top = _top([Series("", values, color)], percent)
    room = width - label_width - 60
    parts = _open(width, height, title)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 4 + row * i
        parts.append(f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end" fill="{INK}">{escape(label)}</text>')
        if value is None:
            parts.append(f'<text x="{label_width}" y="{y + 13}" fill="{MUTED}">—</text>')
            continue
        w = room * min(value / top, 1.0)
        parts.append(f'<rect x="{label_width}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" fill="{color}"/>')
        shown = f"{value * 100:.1f}%" if percent else _number(value, False)
        parts.append(f'<text x="{label_width + w + 4:.1f}" y="{y + 13}" fill="{INK}">{shown}</text>')
    return "".join(parts) + "</svg>"
