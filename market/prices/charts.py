"""Charts drawn on the server as SVG: no script, no CDN, a few kilobytes on a weak connection.

Colours come from CSS classes (the Content-Security-Policy allows no inline style); every
chart has a <title> and the page shows the same numbers in a table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from math import floor, log10
from operator import itemgetter

from markupsafe import Markup, escape

Number = float | Decimal


SPARK_POINTS = 24  # enough for a 96-pixel line; the board draws hundreds of them


def sparkline(points: Sequence[Sequence], *, width: int = 96, height: int = 24) -> Markup:
    """A small trend line of [iso date, price] points; empty when there is nothing to draw."""
    values = tuple(map(float, map(itemgetter(1), points)))
    if len(values) > SPARK_POINTS:
        # Every n-th point, always ending on the latest price.
        step = len(values) / SPARK_POINTS
        values = tuple(values[round(len(values) - 1 - i * step)] for i in range(SPARK_POINTS))[::-1]
    return _sparkline(values, width, height)


@lru_cache(maxsize=4096)
def _sparkline(values: tuple[float, ...], width: int, height: int) -> Markup:
    # The board draws hundreds of these and they change once a day: keep the drawn ones (a
    # pure function of the values, so a kept line is never stale).
    if len(values) < 2:
        return Markup("")
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = width / (len(values) - 1)
    # Whole pixels: a tenth of a pixel is invisible at this size and costs bytes on every row.
    coords = " ".join(
        f"{round(i * step)},{round(height - 2 - (v - low) / span * (height - 4))}"
        for i, v in enumerate(values)
    )
    trend = "up" if values[-1] > values[0] else "down" if values[-1] < values[0] else "flat"
    return Markup(
        f'<svg class="spark spark-{trend}" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" aria-hidden="true" focusable="false">'
        f'<polyline points="{coords}"/></svg>'
    )


@dataclass
class Line:
    label: str
    points: list[tuple[date, float, float, float]]  # (day, mean, min, max)


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / ticks if span > 0 else 1.0
    magnitude = 10 ** floor(log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def line_chart(
    lines: Sequence[Line],
    *,
    title: str,
    number: Callable[[float], str],
    day: Callable[[date], str],
    band: bool = True,
    width: int = 640,
    height: int = 280,
) -> Markup:
    """Lines of several markets, the first with its min–max band, with labelled axes."""
    drawn = [line for line in lines if line.points]
    if not drawn:
        return Markup("")
    left, right, top, bottom = 64, 12, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    all_days = [p[0] for line in drawn for p in line.points]
    first, last = min(all_days), max(all_days)
    lows = [p[2] if band else p[1] for line in drawn for p in line.points]
    highs = [p[3] if band else p[1] for line in drawn for p in line.points]
    low, high = min(lows), max(highs)
    step = _nice_step(high - low)
    axis_low = floor(low / step) * step
    axis_high = axis_low + step * max(1, -(-(high - axis_low) // step))
    days_span = max((last - first).days, 1)

    def x(d: date) -> float:
        return left + (d - first).days / days_span * plot_w

    def y(v: float) -> float:
        return top + plot_h - (v - axis_low) / ((axis_high - axis_low) or 1) * plot_h

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    value = axis_low
    while value <= axis_high + step / 2:
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y(value):.1f}" '
            f'y2="{y(value):.1f}"/><text class="axis" x="{left - 6}" y="{y(value) + 4:.1f}" '
            f'text-anchor="end">{escape(number(value))}</text>'
        )
        value += step
    for i in range(5):
        tick = first.fromordinal(first.toordinal() + round(days_span * i / 4))
        anchor = "start" if i == 0 else "end" if i == 4 else "middle"
        parts.append(
            f'<text class="axis" x="{x(tick):.1f}" y="{height - 8}" text-anchor="{anchor}">'
            f"{escape(day(tick))}</text>"
        )
    if band and drawn[0].points and len(drawn[0].points) > 1:
        pts = drawn[0].points
        upper = " ".join(f"{x(p[0]):.1f},{y(p[3]):.1f}" for p in pts)
        lower = " ".join(f"{x(p[0]):.1f},{y(p[2]):.1f}" for p in reversed(pts))
        parts.append(f'<polygon class="band" points="{upper} {lower}"/>')
    for index, line in enumerate(drawn):
        coords = " ".join(f"{x(p[0]):.1f},{y(p[1]):.1f}" for p in line.points)
        if len(line.points) == 1:
            p = line.points[0]
            parts.append(
                f'<circle class="series-{index % 6}" cx="{x(p[0]):.1f}" cy="{y(p[1]):.1f}" r="3"/>'
            )
        else:
            parts.append(f'<polyline class="line series-{index % 6}" points="{coords}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
