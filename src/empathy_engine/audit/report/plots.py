"""The report's charts, drawn with matplotlib (imported here only) as inline SVG with text kept as text."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from empathy_engine.audit.report.fmt import plural

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

INK = "#1f2933"
MUTED = "#7b8794"
GRID = "#e4e7eb"
TEAM = "#3e4c59"
HIGH, MID, LOW, NONE = "#2f855a", "#d69e2e", "#c53030", "#a0aec0"
BAND_COLOURS = {"high": HIGH, "mid": MID, "low": LOW, "none": NONE}
BAND_LABELS = {
    "high": "high empathy (≥ 0.8)",
    "mid": "mid (0.5–0.8)",
    "low": "low (< 0.5)",
    "none": "nothing to answer",
}
TIER_COLOURS = {"below team": LOW, "above team": HIGH, "within noise": "#4a6fa5", "too few calls": NONE}
_RC: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "empathy-audit",
    "font.family": "sans-serif",
    "font.sans-serif": ["Inter", "Segoe UI", "Helvetica Neue", "Arial", "DejaVu Sans"],
    "font.size": 9,
    "axes.edgecolor": GRID,
    "axes.labelcolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": GRID,
    "grid.linewidth": 0.8,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "text.color": INK,
    "legend.frameon": False,
}
_count = 0
FOREST_ROWS = 60  # agents drawn in the forest plot (those with the most scored calls)


@contextmanager
def figure(
    width: float,
    height: float,
    left: float = 0.55,
    right: float = 0.2,
    top: float = 0.35,
    bottom: float = 0.45,
    wspace: float = 0.0,
) -> Iterator[Any]:
    """A figure with fixed margins in inches (a constrained layout costs a second draw per chart)."""
    import matplotlib

    with matplotlib.rc_context(_RC):
        from matplotlib.figure import Figure

        fig = Figure(figsize=(width, height), dpi=100)
        fig.subplots_adjust(left=left / width, right=1 - right / width, top=1 - top / height,
                            bottom=bottom / height, wspace=wspace)  # fmt: skip
        yield fig


def to_svg(fig: Any) -> str:
    """Inline SVG (no XML prologue), its ids made unique so several charts can share one page."""
    global _count
    _count += 1
    buf = io.StringIO()
    fig.savefig(buf, format="svg", transparent=True)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)  # the generator's RDF block: not needed inline
    p = f"c{_count}-"
    svg = re.sub(r'id="([^"]+)"', rf'id="{p}\1"', svg)
    svg = svg.replace("url(#", f"url(#{p}").replace('xlink:href="#', f'xlink:href="#{p}')
    return svg.replace("<svg ", '<svg class="chart" ', 1)


def _err(est: dict[str, Any]) -> tuple[float, float]:
    v, lo, hi = est["value"], est["lo"], est["hi"]
    if v is None or lo is None or hi is None:
        return (0.0, 0.0)
    return (max(0.0, v - lo), max(0.0, hi - v))


def agents_forest(agents: Sequence[dict[str, Any]], team: float | None) -> str:
    """Each agent's empathy score and 95% interval against the team: overlap means no verdict."""
    rows = [a for a in agents if a["empathy"]["value"] is not None]
    rows = sorted(rows, key=lambda a: -a["scored_calls"])[:FOREST_ROWS]  # the table lists every agent
    rows.sort(key=lambda a: a["empathy"]["value"])
    with figure(12.0, 0.75 + 0.27 * max(len(rows), 1), left=0.8, right=0.9, top=0.15) as fig:
        ax = fig.add_subplot()
        for y, a in enumerate(rows):
            e = a["empathy"]
            colour = TIER_COLOURS[a["tier"]]
            lo, hi = _err(e)
            ax.errorbar(
                e["value"],
                y,
                xerr=[[lo], [hi]],
                fmt="o",
                color=colour,
                ecolor=colour,
                elinewidth=2.2,
                capsize=0,
                markersize=6,
            )
            ax.text(
                1.02,
                y,
                plural(a["scored_calls"], "call"),
                va="center",
                fontsize=8,
                color=MUTED,
                transform=ax.get_yaxis_transform(),
            )
        if team is not None:
            ax.axvline(team, color=TEAM, linestyle="--", linewidth=1)
            ax.text(team, len(rows) - 0.3, f" team {team:.2f}", color=TEAM, fontsize=8, va="bottom")
        ax.set_yticks(range(len(rows)), [a["agent"] for a in rows])
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.7, len(rows) - 0.1)
        ax.set_xlabel("empathy score (share of emotional turns answered), 95% interval")
        ax.grid(axis="y", visible=False)
        return to_svg(fig)


def trend(
    periods: Sequence[dict[str, Any]],
    key: str,
    label: str,
    colour: str = TEAM,
    percent: bool = True,
    ylim: tuple[float, float] | None = (0, 1),
    min_n: int = 1,
) -> str:
    """One KPI per period with its interval as a band; periods resting on fewer than `min_n` are left out."""
    xs = [p["period"] for p in periods]
    with figure(3.8, 2.3, left=0.5, top=0.3, bottom=0.35) as fig:
        ax = fig.add_subplot()
        est = [p[key] for p in periods]
        idx = [i for i, e in enumerate(est) if e["value"] is not None and e["n"] >= min_n]
        if idx:
            vals = [est[i]["value"] for i in idx]
            lo = [est[i]["lo"] if est[i]["lo"] is not None else est[i]["value"] for i in idx]
            hi = [est[i]["hi"] if est[i]["hi"] is not None else est[i]["value"] for i in idx]
            ax.fill_between(idx, lo, hi, color=colour, alpha=0.15, linewidth=0)
            ax.plot(idx, vals, "o-", color=colour, markersize=3.5, linewidth=1.8)
        else:
            ax.text(0.5, 0.5, "not enough data", ha="center", va="center", color=MUTED, transform=ax.transAxes)
        _period_axis(ax, xs)
        if ylim:
            ax.set_ylim(*ylim)
        else:
            ax.set_ylim(bottom=0)
        if percent:
            ax.yaxis.set_major_formatter(_percent())
        ax.set_title(label, loc="left", fontsize=10, color=INK)
        return to_svg(fig)


def sentiment_trend(periods: Sequence[dict[str, Any]], min_n: int = 1) -> str:
    xs = [p["period"] for p in periods]
    with figure(3.8, 2.3, left=0.5, top=0.3, bottom=0.35) as fig:
        ax = fig.add_subplot()
        idx = [i for i, p in enumerate(periods) if p["sentiment_start"] is not None and p["calls"] >= min_n]
        ax.plot(idx, [periods[i]["sentiment_start"] for i in idx], "o-", color=MUTED, markersize=3.5,
                label="start of call")  # fmt: skip
        ax.plot(idx, [periods[i]["sentiment_end"] for i in idx], "o-", color=HIGH, markersize=3.5, label="end of call")
        ax.axhline(0, color=GRID, linewidth=1)
        _period_axis(ax, xs)
        ax.set_ylim(-1, 1)
        ax.legend(loc="center right", fontsize=8)
        ax.set_title("Customer sentiment, start vs end", loc="left", fontsize=10, color=INK)
        return to_svg(fig)


def trajectories(traj: dict[str, list[float | None]], counts: dict[str, int]) -> str:
    """Mean sentiment along the call, by the call's empathy band."""
    with figure(5.8, 3.0, left=0.75, top=0.1) as fig:
        ax = fig.add_subplot()
        for band in ("high", "mid", "low", "none"):
            ys = traj.get(band) or []
            pts = [(i, y) for i, y in enumerate(ys) if y is not None]
            if not pts or not counts.get(band):
                continue
            xs_ = [(i + 0.5) * 10 for i, _ in pts]
            ax.plot(
                xs_,
                [y for _, y in pts],
                "-",
                color=BAND_COLOURS[band],
                linewidth=2.2,
                label=f"{BAND_LABELS[band]} · {plural(counts[band], 'call')}",
            )
        ax.axhline(0, color=MUTED, linewidth=0.8, linestyle=":")
        ax.set_xlim(0, 100)
        ax.set_ylim(-1, 1)
        ax.set_xlabel("position in the call (% of the customer's turns)")
        ax.legend(loc="upper left", fontsize=8, ncols=2)
        return to_svg(fig)


def state_misses(states: Sequence[dict[str, Any]]) -> str:
    """Share of calls where each state was missed at least once, with Wilson intervals."""
    rows = sorted(states, key=lambda s: s["share"]["value"] or 0)
    with figure(5.8, 0.75 + 0.34 * max(len(rows), 1), left=1.0, right=1.2, top=0.1) as fig:
        ax = fig.add_subplot()
        ys = range(len(rows))
        vals = [s["share"]["value"] or 0 for s in rows]
        ax.barh(ys, vals, color=LOW, alpha=0.8, height=0.6)
        errs = [_err(s["share"]) for s in rows]
        ax.errorbar(
            vals, ys, xerr=[[e[0] for e in errs], [e[1] for e in errs]], fmt="none", ecolor=INK, elinewidth=1, capsize=2
        )
        for y, s in zip(ys, rows, strict=True):
            ax.text(
                1.01,
                y,
                f"{s['missed_calls']:,} of {s['judged_calls']:,} calls",
                va="center",
                fontsize=8,
                color=MUTED,
                transform=ax.get_yaxis_transform(),
            )
        ax.set_yticks(list(ys), [s["state"].replace("_", " ") for s in rows])
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(_percent())
        ax.set_xlabel("calls where the state came up and at least one reply missed it")
        ax.grid(axis="y", visible=False)
        return to_svg(fig)


def by_band(bands: dict[str, Any], metrics: Sequence[tuple[str, str]]) -> str:
    """Outcome rates by the call's empathy band, with intervals: is empathy linked to trust?"""
    order = [b for b in ("low", "mid", "high") if b in bands]
    with figure(12.0, 2.5, left=0.5, right=0.1, top=0.3, bottom=0.3, wspace=0.3) as fig:
        axes = fig.subplots(1, len(metrics), sharey=False)
        for ax, (key, label) in zip(axes if len(metrics) > 1 else [axes], metrics, strict=True):
            vals = [bands[b][key]["value"] for b in order]
            heights = [v or 0 for v in vals]
            errs = [_err(bands[b][key]) for b in order]
            ax.bar(range(len(order)), heights, color=[BAND_COLOURS[b] for b in order], width=0.65, alpha=0.85)
            ax.errorbar(
                range(len(order)),
                heights,
                yerr=[[e[0] for e in errs], [e[1] for e in errs]],
                fmt="none",
                ecolor=INK,
                elinewidth=1,
                capsize=2,
            )
            for i, (v, b) in enumerate(zip(vals, order, strict=True)):
                n = bands[b][key]["n"]
                ax.text(i, 0.02, "n/a" if v is None else f"n={n:,}", ha="center", fontsize=7, color="white")
            ax.set_xticks(range(len(order)), order)
            ax.set_ylim(0, 1)
            ax.yaxis.set_major_formatter(_percent())
            ax.set_title(label, loc="left", fontsize=9, color=INK)
            ax.grid(axis="x", visible=False)
        return to_svg(fig)


def roi_bars(results: dict[str, float]) -> str:
    labels = ["retention value", "referral value", "programme cost", "net"]
    vals = [results["retention_value"], results["referral_value"], -results["cost"], results["net"]]
    colours = [HIGH, HIGH, LOW, TEAM if results["net"] >= 0 else LOW]
    with figure(5.2, 2.0, left=1.2, top=0.1, bottom=0.3) as fig:
        ax = fig.add_subplot()
        ax.barh(range(4), vals, color=colours, height=0.6)
        ax.axvline(0, color=MUTED, linewidth=0.8)
        ax.set_yticks(range(4), labels)
        ax.invert_yaxis()
        ax.xaxis.set_major_formatter(_money())
        ax.grid(axis="y", visible=False)
        return to_svg(fig)


def _period_axis(ax: Any, xs: Sequence[str]) -> None:
    """At most six readable ticks: W36 for weeks, Sep for months, 09-14 for days (year only when it changes)."""
    step = max(1, -(-len(xs) // 6))
    ticks = list(range(0, len(xs), step))
    ax.set_xticks(ticks, [_short(xs[i], xs[ticks[j - 1]] if j else None) for j, i in enumerate(ticks)])
    ax.set_xlim(-0.4, max(len(xs) - 0.6, 0.4))
    ax.grid(axis="x", visible=False)


_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def _short(period: str, before: str | None) -> str:
    year = period[:4]
    new_year = before is None or before[:4] != year
    if "-W" in period:
        label = "W" + period.split("-W")[1]
    elif len(period) == 7 and period[4] == "-":
        label = _MONTHS[int(period[5:7]) - 1]
    elif len(period) == 10:
        label = period[5:]
    else:
        return period
    return f"{label}\n{year}" if new_year else label


def _percent() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _: f"{v:.0%}")


def _money() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _: f"{v / 1000:,.0f}k" if abs(v) >= 1000 else f"{v:,.0f}")
