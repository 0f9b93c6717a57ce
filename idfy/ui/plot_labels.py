"""Point labels of a scatter plot that do not overlap: a greedy placement in screen pixels.

Plotly draws a trace's ``text`` at one fixed position per point, so the names of nearby points (``small`` and
``small_tuned`` in the Evidence tab's charts) print over each other. :func:`place_labels` instead returns one
plotly annotation per point: next to its marker where there is room, else further out with a thin leader line,
never over another label, another marker or the plot's edge, for a plot area at least ``width`` × ``height``
pixels. A wider plot only moves the points further apart (the text keeps its size), so the placement holds there
too as long as the axis ranges are the ones returned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["Placement", "place_labels"]

#: Approximate advance of one character of the page's sans-serif font, in em (DejaVu Sans is the widest).
CHAR_EM = 0.62
MARKER_PX = 7.0  # half the side of the box kept free around each marker
GAP_PX = 3.0


@dataclass(frozen=True)
class Placement:
    """The annotations and the axis ranges they were placed for (``x_range`` in log10 units on a log axis)."""

    annotations: list[dict[str, Any]]
    x_range: tuple[float, float]
    y_range: tuple[float, float]


def _padded(lo: float, hi: float, frac: float) -> tuple[float, float]:
    span = (hi - lo) or max(abs(hi), 1.0)
    return lo - frac * span, hi + frac * span


Box = tuple[float, float, float, float]  # left, bottom, right, top in pixels (y up)


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _candidates(w: float, h: float) -> list[tuple[float, float, bool]]:
    """Label-centre offsets from the marker in pixels (y up), nearest first; True where a leader is drawn."""
    near = MARKER_PX + GAP_PX
    out: list[tuple[float, float, bool]] = [
        (0.0, near + h / 2, False),
        (0.0, -(near + h / 2), False),
        (near + w / 2, 0.0, False),
        (-(near + w / 2), 0.0, False),
        (near + w / 2, near + h / 2, False),
        (-(near + w / 2), near + h / 2, False),
        (near + w / 2, -(near + h / 2), False),
        (-(near + w / 2), -(near + h / 2), False),
    ]
    for radius in (28.0, 44.0, 62.0, 84.0):
        for k in range(16):
            a = math.pi / 2 - 2 * math.pi * k / 16  # starting straight up, clockwise
            out.append((math.cos(a) * (radius + w / 2), math.sin(a) * (radius + h / 2), True))
    return out


def _spots(
    points: list[tuple[float, float]], widths: list[float], line_h: float, area: tuple[float, float]
) -> list[tuple[float, float, bool]]:
    """Each label's offset (dx, dy, leader) in pixels, most crowded point first: the first candidate whose box
    stays inside ``area`` and overlaps no marker and no label placed before it."""
    taken: list[Box] = [(x - MARKER_PX, y - MARKER_PX, x + MARKER_PX, y + MARKER_PX) for x, y in points]

    def crowd(i: int) -> int:
        x, y = points[i]
        return sum(abs(x - a) < 90 and abs(y - b) < 40 for a, b in points)

    def box(i: int, dx: float, dy: float) -> Box:
        cx, cy, w = points[i][0] + dx, points[i][1] + dy, widths[i]
        return (cx - w / 2, cy - line_h / 2, cx + w / 2, cy + line_h / 2)

    chosen: dict[int, tuple[float, float, bool]] = {}
    for i in sorted(range(len(points)), key=lambda i: (-crowd(i), i)):
        free = (
            (dx, dy, leader)
            for dx, dy, leader in _candidates(widths[i], line_h)
            if (b := box(i, dx, dy))[0] >= 0 and b[2] <= area[0] and b[1] >= 0 and b[3] <= area[1]
            and not any(_overlaps(b, t) for t in taken)
        )  # fmt: skip
        # nowhere free: right above the marker, as plotly would have put it
        chosen[i] = next(free, (0.0, MARKER_PX + GAP_PX + line_h / 2, False))
        taken.append(box(i, chosen[i][0], chosen[i][1]))
    return [chosen[i] for i in range(len(points))]


def place_labels(
    xs: list[float],
    ys: list[float],
    texts: list[str],
    *,
    log_x: bool = False,
    width: float = 480.0,
    height: float = 230.0,
    font_px: float = 11.0,
    colors: list[str] | None = None,
) -> Placement:
    """Annotations naming each point ``(xs[i], ys[i])`` with ``texts[i]``, placed greedily so that no two labels
    overlap each other, a marker or the plot area's edge (a ``width`` × ``height`` px plot area, the smallest the
    chart is drawn at). Points are placed most-crowded first; a label that fits nowhere keeps its nearest spot.

    Returns the annotations (plotly ``layout.annotations`` dicts in data coordinates) and the axis ranges to set
    (``x_range`` in log10 units when ``log_x``), padded so that labels of the outer points fit.

    Raises:
        ValueError: the three lists differ in length, or ``log_x`` with a value ≤ 0.
    """
    if not len(xs) == len(ys) == len(texts):
        raise ValueError(f"xs, ys and texts differ in length ({len(xs)}, {len(ys)}, {len(texts)})")
    if log_x and any(x <= 0 for x in xs):
        raise ValueError("a log x axis needs every x > 0")
    if not xs:
        return Placement([], (0.0, 1.0), (0.0, 1.0))
    lx = [math.log10(x) if log_x else float(x) for x in xs]
    x_range = _padded(min(lx), max(lx), 0.08)
    y_range = _padded(min(ys), max(ys), 0.18)
    points = [
        (
            (lx[i] - x_range[0]) / (x_range[1] - x_range[0]) * width,
            (ys[i] - y_range[0]) / (y_range[1] - y_range[0]) * height,
        )
        for i in range(len(xs))
    ]
    widths = [len(t) * CHAR_EM * font_px + 4 for t in texts]
    spots = _spots(points, widths, font_px * 1.35, (width, height))
    annotations = []
    for i, (dx, dy, leader) in enumerate(spots):
        common = {
            "x": lx[i],
            "y": ys[i],
            "xref": "x",
            "yref": "y",
            "text": texts[i],
            "font": {"size": font_px, "color": (colors[i] if colors else "#334155")},
        }
        if leader:
            annotations.append(
                {**common, "showarrow": True, "ax": dx, "ay": -dy, "arrowhead": 0, "arrowwidth": 0.8,
                 "arrowcolor": "#94a3b8", "standoff": MARKER_PX - 2}
            )  # fmt: skip
        else:
            annotations.append({**common, "showarrow": False, "xshift": dx, "yshift": dy})
    return Placement(annotations, x_range, y_range)
