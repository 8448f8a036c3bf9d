"""The report's charts: matplotlib figures as embedded PNG (data: URIs), and the outcomes' names in Swedish
and English. Everything drawn comes from the figures the report shows (`ProgrammeResults`)."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from streams.core.programme.cohort import COST_SEK, OUTCOMES, ProgrammeKind
from streams.core.programme.estimate import ALL, Effect
from streams.core.programme.results import ProgrammeResults

LABELS: dict[str, tuple[str, str]] = {  # measure -> (Swedish, English)
    "inpatient_days": ("vårddagar (oplanerade)", "inpatient days (unplanned)"),
    "ed_visits": ("akutbesök", "ED visits"),
    "home_care_unplanned": ("oplanerade hemvårdsbesök", "unplanned home-care contacts"),
    "sick_days": ("sjukdagar", "sick-leave days"),
    "sick_occasions": ("sjukfall", "sick-leave occasions"),
    "short_days": ("korta sjukdagar (dag 1–14)", "short-term days (1–14)"),
    "long_days": ("långa sjukdagar (dag 15–)", "long-term days (15-)"),
    COST_SEK: ("kostnad, kr", "cost, SEK"),
}



def png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return f'<img alt="" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def both(measure: str) -> str:
    """A measure's name in Swedish and English, as the text gives both."""
    sv, en = LABELS[measure]
    return f"{sv} / {en}"


def no_data(e: Effect) -> bool:
    """Neither the members nor their references had one event of the measure: nothing was measured, and a
    0 with an interval of [0, 0] would read as a measured "no effect"."""
    return (not e.suppressed and not e.before and not e.after and not e.reference_before
            and (e.counterfactual is None or not e.counterfactual.value))


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the forest plot, in percent: the interval as drawn and whether an end is cut at the axis."""

    value: float
    low: float
    high: float
    cut_low: bool
    cut_high: bool


def forest_rows(intervals: Sequence[tuple[float, float, float]]) -> tuple[list[Row], tuple[float, float]]:
    """(value, low, high) in percent to the rows drawn and the axis. The axis covers every estimate, 0 and
    the intervals but the widest: one very uncertain outcome does not squash the others into a dot; its
    interval is cut at the axis (drawn with an arrow and its end written beside it)."""
    if not intervals:
        return [], (-1.0, 1.0)
    ends = [0.0, *(v for v, _, _ in intervals)]
    widest = max(range(len(intervals)), key=lambda i: intervals[i][2] - intervals[i][1])
    for i, (_, lo, hi) in enumerate(intervals):
        if i != widest or len(intervals) == 1:
            ends += [lo, hi]
    left, right = min(ends), max(ends)
    # the widest shown whole up to a span beyond the others' on each side; cut further out
    span = max(right - left, 20.0)
    _, wide_low, wide_high = intervals[widest]
    left, right = min(left, max(wide_low, left - span)), max(right, min(wide_high, right + span))
    pad = max(5.0, 0.08 * (right - left))
    left, right = left - pad, right + pad
    rows = [Row(v, max(lo, left), min(hi, right), lo < left, hi > right) for v, lo, hi in intervals]
    return rows, (left, right)


def draw_charts(r: ProgrammeResults) -> dict[str, str]:
    return {name: png(fig) for name, fig in figures(r).items()}


def figures(r: ProgrammeResults) -> dict[str, Any]:
    """The matplotlib figures of the report, by name (`draw_charts` embeds them)."""
    # matplotlib's object API, without pyplot: no backend or global figure registry to load (a report from
    # stored figures is mostly this import), and nothing to close
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    def subplots(width: float, height: float) -> tuple[Any, Any]:
        fig = Figure(figsize=(width, height))
        return fig, fig.subplots()

    out: dict[str, Any] = {}
    primary = OUTCOMES[ProgrammeKind(r.kind)][0]
    pairs = r.paired.get(primary)
    if pairs:
        fig, ax = subplots(5.2, 3.6)
        for b, a in pairs:
            ax.plot([0, 1], [b, a], color="#9aa7b8", lw=0.6, alpha=0.6)
        ax.scatter([0] * len(pairs), [p[0] for p in pairs], s=10, color="#4a6fa5", zorder=3)
        ax.scatter([1] * len(pairs), [p[1] for p in pairs], s=10, color="#d1495b", zorder=3)
        ax.set_xticks([0, 1], ["före / before", "efter / after"])
        ax.set_xlim(-0.3, 1.3)
        ax.set_ylabel(f"{both(primary)} per månad / month")
        ax.spines[["top", "right"]].set_visible(False)
        out["paired"] = fig
    measured = [(m, e[ALL]) for m, e in r.effects.items()
                if m != COST_SEK and not e[ALL].suppressed and not no_data(e[ALL])]
    if measured:
        intervals = []
        for _, e in measured:
            assert e.relative is not None
            intervals.append((100 * e.relative.value, 100 * e.relative.low, 100 * e.relative.high))
        rows, (left, right) = forest_rows(intervals)
        fig, ax = subplots(6.4, 0.7 + 0.6 * len(rows))
        for y, ((_, e), row) in enumerate(zip(measured, rows, strict=True)):
            ax.errorbar([row.value], [y], xerr=[[row.value - row.low], [row.high - row.value]], fmt="o",
                        color="#d1495b", capsize=0 if (row.cut_low or row.cut_high) else 4)
            for cut, x, marker, end, align in ((row.cut_low, row.low, "<", intervals[y][1], "left"),
                                               (row.cut_high, row.high, ">", intervals[y][2], "right")):
                if cut:
                    ax.scatter([x], [y], marker=marker, color="#d1495b", zorder=3)
                    ax.annotate(f"{end:+.0f} %", (x, y), textcoords="offset points", xytext=(0, 7),
                                ha=align, fontsize=7, color="#d1495b")
            if e.before and e.naive is not None:
                naive = 100 * e.naive.value / e.before
                if left <= naive <= right:
                    ax.scatter([naive], [y], marker="x", color="#777777", zorder=3)
        ax.set_xlim(left, right)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_yticks(range(len(rows)), [both(m) for m, _ in measured])
        ax.set_xlabel("% mot referensen (x: före/efter utan referens) / % vs reference (x: before/after "
                      "without reference)")
        ax.spines[["top", "right"]].set_visible(False)
        out["effects"] = fig
    money = [m for m in r.money if m.net_sek is not None]
    if money:
        fig, ax = subplots(6.4, 3.2)
        xs = range(len(money))
        ax.bar([x - 0.2 for x in xs], [m.avoided_sek.value / 1e6 for m in money if m.avoided_sek], width=0.4,
               color="#4a6fa5", label="undviken kostnad / avoided cost",
               yerr=[[(m.avoided_sek.value - m.avoided_sek.low) / 1e6 for m in money if m.avoided_sek],
                     [(m.avoided_sek.high - m.avoided_sek.value) / 1e6 for m in money if m.avoided_sek]], capsize=3)
        ax.bar([x + 0.2 for x in xs], [(m.programme_cost_sek or 0.0) / 1e6 for m in money], width=0.4, color="#edae49",
               label="programmets kostnad / programme cost")
        ax.set_xticks(list(xs), [m.group for m in money], fontsize=8)
        ax.set_ylabel("Mkr / MSEK")
        ax.axhline(0, color="black", lw=0.8)
        ax.legend(fontsize=8, frameon=False)
        ax.spines[["top", "right"]].set_visible(False)
        out["money"] = fig
    for k, s in enumerate(r.surveys):
        dists = [(p, d) for p, d in zip(s.periods, s.distributions, strict=True) if d is not None]
        if not dists:
            continue
        fig, ax = subplots(6.4, 0.6 + 0.5 * len(dists))
        colours = colormaps["RdYlGn"]([i / max(1, len(s.scale) - 1) for i in range(len(s.scale))])
        for y, (_, d) in enumerate(dists):
            left_share = 0.0
            for lvl, share in enumerate(d.shares):
                ax.barh(y, 100 * share, left=left_share, color=colours[lvl], label=s.scale[lvl] if y == 0 else None)
                left_share += 100 * share
        ax.set_yticks(range(len(dists)), [p for p, _ in dists])
        ax.set_xlabel("% av svaren / % of answers")
        ax.legend(fontsize=7, ncol=len(s.scale), frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.35))
        out[f"survey{k}"] = fig
    return out
