"""Tiny hand-drawn SVGs for table cells (sparklines, one call's trajectory, an interval bar): no matplotlib."""

from __future__ import annotations

from collections.abc import Sequence


def sparkline(values: Sequence[float | None], width: int = 110, height: int = 26) -> str:
    """A 0..1 series as a line with its last point marked; gaps where a value is missing."""
    pts = [(i, v) for i, v in enumerate(values) if v is not None]
    if not pts:
        return '<span class="muted">–</span>'
    n = max(len(values) - 1, 1)

    def xy(i: int, v: float) -> str:
        return f"{2 + i * (width - 4) / n:.1f},{height - 2 - v * (height - 4):.1f}"

    path = " ".join(xy(i, v) for i, v in pts)
    last = pts[-1]
    return (
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img">'
        f'<line x1="0" x2="{width}" y1="{height / 2}" y2="{height / 2}" class="mid"/>'
        f'<polyline points="{path}" fill="none"/>'
        f'<circle cx="{xy(*last).split(",")[0]}" cy="{xy(*last).split(",")[1]}" r="2.4"/></svg>'
    )


def call_trajectory(sentiment: Sequence[float], misses: Sequence[int], width: int = 230, height: int = 64) -> str:
    """One call's customer sentiment, turn by turn (-1..1), with a red dot where a reply missed the cue."""
    if not sentiment:
        return ""
    n = max(len(sentiment) - 1, 1)

    def x(i: int) -> float:
        return 6 + i * (width - 12) / n

    def y(v: float) -> float:
        return 4 + (1 - v) / 2 * (height - 8)

    line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(sentiment))
    dots = "".join(
        f'<circle cx="{x(i):.1f}" cy="{y(sentiment[i]):.1f}" r="3.6" class="miss"/>'
        for i in misses
        if 0 <= i < len(sentiment)
    )
    return (
        f'<svg class="traj" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img">'
        f'<rect x="0" y="0" width="{width}" height="{height / 2}" class="pos"/>'
        f'<rect x="0" y="{height / 2}" width="{width}" height="{height / 2}" class="neg"/>'
        f'<polyline points="{line}" fill="none"/>{dots}</svg>'
    )


def interval_bar(
    value: float | None,
    lo: float | None,
    hi: float | None,
    team: float | None = None,
    width: int = 140,
    height: int = 16,
) -> str:
    """A 0..1 scale with the interval as a bar, the value as a dot and the team as a tick."""
    if value is None:
        return '<span class="muted">no emotional turns</span>'
    lo = value if lo is None else lo
    hi = value if hi is None else hi

    def x(v: float) -> float:
        return 3 + v * (width - 6)

    tick = (
        f'<line x1="{x(team):.1f}" x2="{x(team):.1f}" y1="1" y2="{height - 1}" class="team"/>'
        if team is not None
        else ""
    )
    return (
        f'<svg class="ci" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img">'
        f'<line x1="3" x2="{width - 3}" y1="{height / 2}" y2="{height / 2}" class="axis"/>{tick}'
        f'<rect x="{x(lo):.1f}" y="{height / 2 - 3}" width="{max(x(hi) - x(lo), 1):.1f}" height="6" rx="3"/>'
        f'<circle cx="{x(value):.1f}" cy="{height / 2}" r="3.6"/></svg>'
    )
