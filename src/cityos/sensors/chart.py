"""A line chart of one station attribute as plain SVG geometry, drawn on the server.

No script and no chart library: the page template turns a :class:`Chart` into ``<svg>``
elements (line, axes, the labelled threshold lines), and the same points go into a table
next to it for those who do not see the chart.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cityos.core import text

TOKYO = text.TOKYO
WIDTH, HEIGHT = 760, 320
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 30, 30
MAX_POINTS = 720
# Threshold line colours by rank, dark enough for text on white (WCAG AA 4.5:1).
RANK_COLOURS = {1: "#1e6b34", 2: "#7a5c00", 3: "#b3261e", 4: "#6a1b9a"}


@dataclass(frozen=True)
class ChartLevel:
    rank: int
    label: str
    value: float


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    plot_width: int = WIDTH - LEFT - RIGHT
    plot_height: int = HEIGHT - TOP - BOTTOM
    lines: list[str] = field(default_factory=list)  # polyline "x,y x,y" runs
    dots: list[tuple[float, float]] = field(default_factory=list)  # lone points
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    levels: list[tuple[float, str, str, float]] = field(
        default_factory=list
    )  # y, label, colour, label y
    last: tuple[float, float] | None = None
    empty: bool = True


def downsample(
    points: Sequence[tuple[datetime, float]], start: datetime, end: datetime, buckets: int
) -> list[tuple[datetime, float]]:
    """At most one point per bucket: the highest (a flood's peak must not vanish)."""
    if len(points) <= buckets:
        return list(points)
    span = (end - start).total_seconds() / buckets
    best: dict[int, tuple[datetime, float]] = {}
    for at, value in points:
        index = int((at - start).total_seconds() // span)
        if index not in best or value > best[index][1]:
            best[index] = (at, value)
    return [best[index] for index in sorted(best)]


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / ticks
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _format(value: float, step: float) -> str:
    decimals = 0 if step >= 1 else (1 if step >= 0.1 else 2)
    return f"{value:.{decimals}f}"


def build(
    points: Sequence[tuple[datetime, float]],
    levels: Sequence[ChartLevel],
    start: datetime,
    end: datetime,
    *,
    unit: str,
    gap: timedelta,
    lang: str = "ja",
) -> Chart:
    """Geometry of the chart of ``points`` between ``start`` and ``end``.

    The line breaks where readings are more than ``gap`` apart (a silent station is not a
    straight line); the y axis always shows every threshold, and zero.
    """
    chart = Chart()
    shown = downsample(points, start, end, MAX_POINTS)
    values = [value for _at, value in shown] + [level.value for level in levels] + [0.0]
    low, high = min(values), max(values)
    if high - low < 1e-9:
        high = low + 1.0
    step = _nice_step(high - low)
    low = math.floor(low / step) * step
    high = math.ceil(high * 1.05 / step) * step
    seconds = max(1.0, (end - start).total_seconds())

    def x_of(at: datetime) -> float:
        return round(LEFT + chart.plot_width * (at - start).total_seconds() / seconds, 1)

    def y_of(value: float) -> float:
        return round(TOP + chart.plot_height * (1 - (value - low) / (high - low)), 1)

    tick = low
    while tick <= high + step / 2:
        chart.y_ticks.append((y_of(tick), f"{_format(tick, step)}"))
        tick += step
    chart.x_ticks = _x_ticks(start, end, x_of, lang)
    for level in sorted(levels, key=lambda lv: lv.rank):
        y = y_of(level.value)
        text = f"{level.label} {level.value:g} {unit}"
        chart.levels.append((y, text, RANK_COLOURS.get(level.rank, "#1b1f24"), y - 4))
    run: list[str] = []
    previous: datetime | None = None
    for at, value in shown:
        if previous is not None and at - previous > gap:
            _close_run(chart, run)
            run = []
        run.append(f"{x_of(at)},{y_of(value)}")
        previous = at
    _close_run(chart, run)
    if shown:
        chart.last = (x_of(shown[-1][0]), y_of(shown[-1][1]))
        chart.empty = False
    return chart


def _close_run(chart: Chart, run: list[str]) -> None:
    if len(run) == 1:
        x, y = run[0].split(",")
        chart.dots.append((float(x), float(y)))
    elif run:
        chart.lines.append(" ".join(run))


def _x_ticks(
    start: datetime, end: datetime, x_of: Callable[[datetime], float], lang: str
) -> list[tuple[float, str]]:
    """Every 3 hours over a day, every day over a week (Japan time)."""
    local_start = start.astimezone(TOKYO)
    span = end - start
    ticks = []
    if span <= timedelta(days=2):
        every = timedelta(hours=3)
        first = local_start.replace(minute=0, second=0, microsecond=0)
        first += timedelta(hours=(3 - first.hour % 3) % 3)
        fmt = "%H:%M"
    else:
        every = timedelta(days=1)
        first = local_start.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        fmt = "%m/%d" if lang == "en" else "%-m/%-d"
    at = first
    while at <= end:
        ticks.append((x_of(at), at.strftime(fmt)))
        at += every
    return ticks
