"""A programme's quarterly figures as Prometheus gauges: cohort size, before and after per
person-month, the effect against the reference with its 95% interval, and the money.

`metric_values` reads exactly the JSON figures the report embeds (`ProgrammeResults.figures()`) and says
which series they give; `ProgrammeGauges.set_results` publishes those and nothing else, so the report and
`/metrics` can be held to each other through one function. Labels: programme, quarter, measure, period
(the figures' group names: "all"/"quarter" for effects, "quarter"/"cumulative"/"contract year N" for
money), never a person. A suppressed figure (10 or fewer persons) gives no series at all, not a zero.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Gauge

from streams.observe.figure_gauges import FigureGauges
from streams.observe.metric_names import MetricName as M

Labels = tuple[tuple[str, str], ...]  # (label name, value) pairs, sorted by name
SeriesKey = tuple[str, Labels]

COHORT = ("programme", "quarter")
EFFECT = ("programme", "quarter", "measure", "period")
MONEY = ("programme", "quarter", "period")
ORGANISATION = ("programme", "quarter", "organisation")  # an organisationsnummer: a legal person, never a person
ORGANISATION_EFFECT = ("programme", "quarter", "organisation", "measure")

# figures key -> gauge: the effect's plain numbers, its figures with an interval, the money's likewise.
EFFECT_NUMBERS = {"persons": M.PROGRAMME_PERSONS, "reference_persons": M.PROGRAMME_REFERENCE_PERSONS,
                  "before": M.PROGRAMME_BEFORE_PER_PERSON_MONTH, "after": M.PROGRAMME_AFTER_PER_PERSON_MONTH}
EFFECT_FIGURES = {"effect": M.PROGRAMME_EFFECT_PER_PERSON_MONTH,
                  "counterfactual": M.PROGRAMME_COUNTERFACTUAL_PER_PERSON_MONTH,
                  "relative": M.PROGRAMME_RELATIVE_EFFECT_RATIO}
MONEY_FIGURES = {"avoided_sek": M.PROGRAMME_AVOIDED_SEK, "net_sek": M.PROGRAMME_NET_SEK}


def bounds(name: str) -> tuple[str, str]:
    """The names of a figure's lower and upper bound gauges, as `FigureGauges` makes them."""
    base, suffix = (name.removesuffix("_ratio"), "_ratio") if name.endswith("_ratio") else (name, "")
    return f"{base}_lower{suffix}", f"{base}_upper{suffix}"


def _labels(**values: str) -> Labels:
    return tuple(sorted(values.items()))


def _figure(name: str, labels: Labels, fig: Mapping[str, float] | None) -> Iterator[tuple[SeriesKey, float]]:
    if fig is None:  # suppressed: no value and no bounds
        return
    lower, upper = bounds(name)
    yield (name, labels), float(fig["value"])
    yield (lower, labels), float(fig["low"])
    yield (upper, labels), float(fig["high"])


def _series(figures: Mapping[str, Any]) -> Iterator[tuple[SeriesKey, float]]:
    programme, quarter = str(figures["programme"]), str(figures["quarter"])
    cohort = _labels(programme=programme, quarter=quarter)
    for key, name in (("enrolled_to_date", M.PROGRAMME_ENROLLED), ("active_in_quarter", M.PROGRAMME_ACTIVE)):
        if figures["inputs"][key] is not None:
            yield (name, cohort), float(figures["inputs"][key])
    for measure, groups in figures["effects"].items():
        for period, effect in groups.items():
            if effect["suppressed"]:
                continue
            labels = _labels(programme=programme, quarter=quarter, measure=str(measure), period=str(period))
            for key, name in EFFECT_NUMBERS.items():
                if effect[key] is not None:
                    yield (name, labels), float(effect[key])
            for key, name in EFFECT_FIGURES.items():
                yield from _figure(name, labels, effect[key])
    for row in figures["money"]:
        if row["net_sek"] is None:  # as the report: a period behind 10 or fewer persons shows no money at all
            continue
        labels = _labels(programme=programme, quarter=quarter, period=str(row["group"]))
        yield (M.PROGRAMME_COST_SEK, labels), float(row["programme_cost_sek"])
        for key, name in MONEY_FIGURES.items():
            yield from _figure(name, labels, row[key])
    diagnostics = figures.get("diagnostics")
    if diagnostics is not None:
        yield (M.PROGRAMME_EFFECT_RELIABLE, cohort), 1.0 if diagnostics["reliable"] else 0.0
        yield from _figure(M.PROGRAMME_PLACEBO_RELATIVE_RATIO, cohort, diagnostics["placebo"])
    for org in figures.get("organisations", []):
        if org["members"] is None:  # 10 or fewer members: nothing of this organisation is shown
            continue
        labels = _labels(programme=programme, quarter=quarter, organisation=str(org["organisation"]))
        yield (M.PROGRAMME_ORGANISATION_MEMBERS, labels), float(org["members"])
        for measure, effect in org["effects"].items():
            if not effect["suppressed"]:
                yield from _figure(M.PROGRAMME_ORGANISATION_EFFECT_PER_PERSON_MONTH,
                                   _labels(programme=programme, quarter=quarter, organisation=str(org["organisation"]),
                                           measure=str(measure)), effect["effect"])


def metric_values(figures: Mapping[str, Any]) -> dict[SeriesKey, float]:
    """Every series one programme's figures give: (metric name, sorted label pairs) -> value. The one
    source of what `ProgrammeGauges.set_results` publishes."""
    return dict(_series(figures))


class ProgrammeGauges:
    """The programme gauges of one registry. Each programme's last figures replace all of its earlier
    series: a new quarter, or a figure now suppressed, leaves nothing of the old one behind."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        gauges: list[tuple[Gauge, tuple[str, ...]]] = [
            (Gauge(M.PROGRAMME_ENROLLED, "Persons enrolled in the programme up to the quarter's end.",
                   COHORT, registry=r), COHORT),
            (Gauge(M.PROGRAMME_ACTIVE, "Persons active in the programme in the quarter (most in any month).",
                   COHORT, registry=r), COHORT),
            (Gauge(M.PROGRAMME_EFFECT_RELIABLE, "1 when the effect's diagnostics hold (placebo holds 0, most "
                   "members have a reference); 0: the report says the effect is not reliable.", COHORT, registry=r),
             COHORT),
            (Gauge(M.PROGRAMME_COST_SEK, "What the programme cost over the period, SEK.", MONEY, registry=r),
             MONEY),
            (Gauge(M.PROGRAMME_ORGANISATION_MEMBERS, "Members the organisation enrolled (the `organisation` of "
                   "their enrolment event).", ORGANISATION, registry=r), ORGANISATION),
            (Gauge(M.PROGRAMME_PERSONS, "Enrolled persons behind the effect on the measure over the period.",
                   EFFECT, registry=r), EFFECT),
            (Gauge(M.PROGRAMME_REFERENCE_PERSONS, "Reference persons (not enrolled) the enrolled are compared "
                   "with.", EFFECT, registry=r), EFFECT),
            (Gauge(M.PROGRAMME_BEFORE_PER_PERSON_MONTH, "The enrolled's level of the measure per person-month "
                   "before enrolment.", EFFECT, registry=r), EFFECT),
            (Gauge(M.PROGRAMME_AFTER_PER_PERSON_MONTH, "The enrolled's level of the measure per person-month "
                   "after enrolment.", EFFECT, registry=r), EFFECT),
        ]
        figures = [
            (FigureGauges(M.PROGRAMME_EFFECT_PER_PERSON_MONTH, "Effect of the programme on the measure per "
                          "person-month: after minus without the programme (negative: less).", list(EFFECT), r),
             EFFECT),
            (FigureGauges(M.PROGRAMME_COUNTERFACTUAL_PER_PERSON_MONTH, "What the enrolled would have had per "
                          "person-month without the programme (the references' development).", list(EFFECT), r),
             EFFECT),
            (FigureGauges(M.PROGRAMME_RELATIVE_EFFECT_RATIO, "The effect relative to what the enrolled would "
                          "have had without the programme (-0.3: 30% less).", list(EFFECT), r), EFFECT),
            (FigureGauges(M.PROGRAMME_PLACEBO_RELATIVE_RATIO, "The same estimate at pseudo-enrolments of eligible "
                          "persons not enrolled: must be about 0 (relative, on the main outcome).", list(COHORT), r),
             COHORT),
            (FigureGauges(M.PROGRAMME_AVOIDED_SEK, "Cost avoided over the period, SEK (from the effect on the "
                          "cost of the outcomes).", list(MONEY), r), MONEY),
            (FigureGauges(M.PROGRAMME_ORGANISATION_EFFECT_PER_PERSON_MONTH, "Effect per person-month among the "
                          "members one organisation enrolled (comparable across organisations of any size).",
                          list(ORGANISATION_EFFECT), r), ORGANISATION_EFFECT),
            (FigureGauges(M.PROGRAMME_NET_SEK, "Cost avoided minus what the programme cost over the period, SEK.",
                          list(MONEY), r), MONEY),
        ]
        gauges += [(g, names) for fg, names in figures for g in (fg.value, fg.lower, fg.upper)]
        # Keyed by the name each gauge reports, so a name metric_values gives and no gauge has fails at once.
        self._gauges = {next(iter(g.describe())).name: (g, names) for g, names in gauges}
        self._published: dict[str, set[SeriesKey]] = {}

    def set_results(self, figures: Mapping[str, Any]) -> None:
        """Publish one programme's figures (`ProgrammeResults.figures()`), replacing its earlier series."""
        values = metric_values(figures)
        programme = str(figures["programme"])
        for name, labels in self._published.get(programme, set()) - values.keys():
            gauge, names = self._gauges[name]
            with contextlib.suppress(KeyError):
                gauge.remove(*(dict(labels)[n] for n in names))
        for (name, labels), value in values.items():
            gauge, names = self._gauges[name]
            gauge.labels(*(dict(labels)[n] for n in names)).set(value)
        self._published[programme] = set(values)
