"""The report's charts: matplotlib figures as embedded PNG (data: URIs), and the outcomes' names in Swedish
and English. Everything drawn comes from the figures the report shows (`ProgrammeResults`)."""

from __future__ import annotations

import base64
import io
from typing import Any

from streams.core.programme.cohort import COST_SEK, OUTCOMES, ProgrammeKind
from streams.core.programme.estimate import ALL
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
    import matplotlib.pyplot as plt

    plt.close(fig)
    return f'<img alt="" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def draw_charts(r: ProgrammeResults) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out: dict[str, str] = {}
    primary = OUTCOMES[ProgrammeKind(r.kind)][0]
    pairs = r.paired.get(primary)
    if pairs:
        fig, ax = plt.subplots(figsize=(5.2, 3.6))
        for b, a in pairs:
            ax.plot([0, 1], [b, a], color="#9aa7b8", lw=0.6, alpha=0.6)
        ax.scatter([0] * len(pairs), [p[0] for p in pairs], s=10, color="#4a6fa5", zorder=3)
        ax.scatter([1] * len(pairs), [p[1] for p in pairs], s=10, color="#d1495b", zorder=3)
        ax.set_xticks([0, 1], ["före / before", "efter / after"])
        ax.set_xlim(-0.3, 1.3)
        ax.set_ylabel(f"{LABELS[primary][1]} per month")
        ax.spines[["top", "right"]].set_visible(False)
        out["paired"] = png(fig)
    rows = [(m, e[ALL]) for m, e in r.effects.items() if m != COST_SEK and not e[ALL].suppressed]
    if rows:
        fig, ax = plt.subplots(figsize=(6.4, 0.7 + 0.6 * len(rows)))
        for y, (_, e) in enumerate(rows):
            assert e.relative is not None and e.naive is not None
            ax.errorbar([100 * e.relative.value], [y], xerr=[[100 * (e.relative.value - e.relative.low)],
                        [100 * (e.relative.high - e.relative.value)]], fmt="o", color="#d1495b", capsize=4)
            if e.before:
                ax.scatter([100 * e.naive.value / e.before], [y], marker="x", color="#777777", zorder=3)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_yticks(range(len(rows)), [LABELS[m][1] for m, _ in rows])
        ax.set_xlabel("% vs reference (x: before/after without reference)")
        ax.spines[["top", "right"]].set_visible(False)
        out["effects"] = png(fig)
    money = [m for m in r.money if m.net_sek is not None]
    if money:
        fig, ax = plt.subplots(figsize=(6.4, 3.2))
        xs = range(len(money))
        ax.bar([x - 0.2 for x in xs], [m.avoided_sek.value / 1e6 for m in money if m.avoided_sek], width=0.4,
               color="#4a6fa5", label="avoided / undviken kostnad",
               yerr=[[(m.avoided_sek.value - m.avoided_sek.low) / 1e6 for m in money if m.avoided_sek],
                     [(m.avoided_sek.high - m.avoided_sek.value) / 1e6 for m in money if m.avoided_sek]], capsize=3)
        ax.bar([x + 0.2 for x in xs], [(m.programme_cost_sek or 0.0) / 1e6 for m in money], width=0.4, color="#edae49",
               label="programme cost / programmets kostnad")
        ax.set_xticks(list(xs), [m.group for m in money], fontsize=8)
        ax.set_ylabel("MSEK")
        ax.axhline(0, color="black", lw=0.8)
        ax.legend(fontsize=8, frameon=False)
        ax.spines[["top", "right"]].set_visible(False)
        out["money"] = png(fig)
    for k, s in enumerate(r.surveys):
        dists = [(p, d) for p, d in zip(s.periods, s.distributions, strict=True) if d is not None]
        if not dists:
            continue
        fig, ax = plt.subplots(figsize=(6.4, 0.6 + 0.5 * len(dists)))
        colours = plt.get_cmap("RdYlGn")([i / max(1, len(s.scale) - 1) for i in range(len(s.scale))])
        for y, (_, d) in enumerate(dists):
            left = 0.0
            for lvl, share in enumerate(d.shares):
                ax.barh(y, 100 * share, left=left, color=colours[lvl], label=s.scale[lvl] if y == 0 else None)
                left += 100 * share
        ax.set_yticks(range(len(dists)), [p for p, _ in dists])
        ax.set_xlabel("% of answers")
        ax.legend(fontsize=7, ncol=len(s.scale), frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.35))
        out[f"survey{k}"] = png(fig)
    return out


