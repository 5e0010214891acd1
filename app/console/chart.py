"""A small line chart as inline SVG, drawn on the server: no script, no library, no CDN.

``line_chart`` scales one series of (time, value) points into a fixed view box with labelled
axes; the page stacks one chart for power and one for energy, each with its own scale.
"""
from __future__ import annotations

from datetime import datetime
from html import escape

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 36


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _format(value: float, unit: str) -> str:
    if abs(value) >= 1000:
        return f"{value / 1000:.3g} k{unit}"
    return f"{value:.3g} {unit}"


def line_chart(points: list[tuple[datetime, float]], *, title: str, unit: str,
               css_class: str = "") -> str:
    """An accessible SVG line chart of ``points`` (sorted by time); empty text if no points."""
    if not points:
        return ""
    t0 = points[0][0].timestamp()
    span = max(points[-1][0].timestamp() - t0, 1.0)
    top = _nice_max(max(v for _, v in points))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def xy(ts: datetime, value: float) -> tuple[float, float]:
        return (LEFT + (ts.timestamp() - t0) / span * plot_w,
                TOP + plot_h - max(value, 0.0) / top * plot_h)

    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(t, v) for t, v in points))
    parts = [
        f'<svg class="chart {escape(css_class)}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{escape(css_class)}-title" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{escape(css_class)}-title">{escape(title)}: {len(points)} readings, '
        f'highest {_format(max(v for _, v in points), unit)}</title>',
    ]
    for i in range(5):  # horizontal grid lines with their values
        value = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" '
                     f'y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" '
                     f'text-anchor="end">{escape(_format(value, unit))}</text>')
    for frac, anchor in ((0.0, "start"), (0.5, "middle"), (1.0, "end")):
        ts = datetime.fromtimestamp(t0 + span * frac, tz=points[0][0].tzinfo)
        parts.append(f'<text class="axis" x="{LEFT + plot_w * frac:.1f}" y="{HEIGHT - 12}" '
                     f'text-anchor="{anchor}">{ts:%H:%M:%S}</text>')
    if len(points) == 1:
        x, y = xy(*points[0])
        parts.append(f'<circle class="series" cx="{x:.1f}" cy="{y:.1f}" r="3"/>')
    else:
        parts.append(f'<polyline class="series" points="{coords}"/>')
    parts.append("</svg>")
    return "".join(parts)
