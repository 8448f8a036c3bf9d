"""Programme scenarios with a known truth, for the acceptance tests and the report's demo.

(a) `care`: a mobile care team for frail elderly that lowers unplanned admissions (so inpatient days) by
30%, while admissions fall for everyone (a common trend); (b) `rtm`: a programme with no effect whose
members are enrolled at a peak of inpatient days (regression to the mean); (c) `hr`: health support for
employees with high absence that lowers new sick-leave occasions by 25%: a known saving in SEK.

Each person is simulated twice with the same random numbers: as it happened, and as it would have
happened without the programme (the counterfactual, kept for enrolled persons only). The truth is then
exact for the sample: what the enrolled would have had minus what they had. Events are JSON lines of the
wire contract in arrival order, shaped as `simulation.py` makes them (ids, time zone, sources, re-sends).

The care scenario's units belong to two municipalities (`organisation` of the enrolments and home-care
contacts), and with `run(sc, surveys=True)` its patients answer a quarterly survey (`survey_response`
events, with a known shift: `patient_survey.py`), drawn from a generator of their own so that the other
events stay the same.
"""

from __future__ import annotations

import datetime as dt
import heapq
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from streams.core.programme.cohort import Cohort
from streams.core.programme.money import CostTable, ProgrammeCost
from streams.models.events import Staffing, SurveyResponse
from streams.models.vocab import EventKind
from streams.simulators.patient_survey import SURVEY_INSTRUMENT, SURVEY_QUESTION, SURVEY_SCALES, survey, survey_events
from streams.simulators.simulation import ArrivalQueue, Scenario, local_time

# The survey's instrument, question, scales and file stay importable from here, beside the scenarios they go with.
__all__ = ["SCENARIOS", "SURVEY_INSTRUMENT", "SURVEY_QUESTION", "SURVEY_SCALES", "ProgrammeScenario", "ScenarioRun",
           "run", "sample_truth", "survey", "write"]


@dataclass(frozen=True)
class ProgrammeScenario:
    name: str
    program: str
    kind: str  # "care" or "hr"
    seed: int
    effect: float  # the hazard of the targeted event x this after enrolment (1.0: no effect)
    trend_per_year: float = 0.0  # everyone's hazard x exp(trend x years)
    rule: str = "any_recent"  # who is eligible at a monthly review: any_recent | peak | high_absence
    enrol_probability: float = 0.2  # of an eligible person at a review
    units: int = 4
    persons_per_unit: int = 300
    start: dt.date = dt.date(2024, 1, 1)
    end: dt.date = dt.date(2025, 9, 30)  # the last day of data (2025Q3 complete)
    enrol_from: dt.date = dt.date(2024, 7, 1)
    enrol_until: dt.date = dt.date(2025, 4, 30)
    cost: ProgrammeCost = field(default_factory=ProgrammeCost)
    tz: str = "Europe/Stockholm"
    organisations: tuple[str, ...] = ()  # unit u belongs to organisations[u % len]; (): none given
    survey_shift: float = 0.6  # answers of the last quarter surveyed against the first, on a latent scale

    def organisation(self, unit_index: int) -> str | None:
        return self.organisations[unit_index % len(self.organisations)] if self.organisations else None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


SCENARIOS: dict[str, ProgrammeScenario] = {
    "care": ProgrammeScenario(
        "care", "mobile-care-team", "care", seed=1501, effect=0.7, trend_per_year=-0.3, rule="any_recent",
        enrol_probability=0.02, organisations=("212000-0142", "212000-1355"),
        cost=ProgrammeCost(version="2024-budget", source="Simulated: the team's budget, 100,000 SEK a month.",
                           fixed_per_month_sek=100_000.0, start_month="2024-07")),
    "rtm": ProgrammeScenario(
        "rtm", "peak-follow-up", "care", seed=1502, effect=1.0, trend_per_year=0.0, rule="peak",
        enrol_probability=0.35,
        cost=ProgrammeCost(version="2024-budget", source="Simulated: 4,000 SEK per enrolled person a month.",
                           per_enrolled_month_sek=4_000.0, start_month="2024-07")),
    "hr": ProgrammeScenario(
        "hr", "health-support", "hr", seed=1503, effect=0.75, trend_per_year=0.05, rule="high_absence",
        enrol_probability=0.06, units=10, persons_per_unit=120,
        cost=ProgrammeCost(version="2024-contract", source="Simulated: the contract's 20,000 SEK a month plus "
                           "800 SEK per enrolled employee a month.", fixed_per_month_sek=20_000.0,
                           per_enrolled_month_sek=800.0, start_month="2024-07")),
}


@dataclass
class ScenarioRun:
    """The scenario's events (arrival order) and, for enrolled persons, their counterfactual events."""

    scenario: ProgrammeScenario
    lines: list[str] = field(default_factory=list)
    counterfactual: dict[str, list[str]] = field(default_factory=dict)  # person -> JSON lines
    enrolled: int = 0
    survey_answers: int = 0


class _World:
    """One person's history in one world (as it happened, or without the programme)."""

    def __init__(self) -> None:
        self.events: list[tuple[dt.datetime, dict[str, object]]] = []
        self.busy_until = -1  # in hospital, or on sick leave, until this day index
        self.daily: list[float] = []  # per day: unplanned inpatient days / sick days (for the review rule)
        self.occasion_starts: list[int] = []


def run(sc: ProgrammeScenario, surveys: bool = False) -> ScenarioRun:
    """All events of the scenario, deterministic for its seed; with `surveys`, the care scenario's quarterly
    survey answers too (the other events are the same either way)."""
    out = ScenarioRun(sc)
    sink = ArrivalQueue(random.Random(sc.seed), Scenario(seed=sc.seed, late_share=0.0, duplicate_share=0.002, tz=sc.tz))
    members: list[tuple[str, str, int]] = []  # (person, unit, enrolment day)
    for u in range(sc.units):
        org = sc.organisation(u)
        for p in range(sc.persons_per_unit):
            person = f"pat-{u:02d}-{p:04d}" if sc.kind == "care" else f"emp-{u:02d}-{p:04d}"
            unit = f"care-unit-{u:02d}" if sc.kind == "care" else f"hr-unit-{u:02d}"
            rng = random.Random(f"{sc.seed}:{person}")
            person_fn = _care_person if sc.kind == "care" else _employee
            factual, counterfactual, enrol_day = person_fn(sc, rng, unit)
            for when, body in factual.events:
                if org and body["event_type"] == EventKind.HOME_CARE_CONTACT:  # the municipality's care
                    body = {**body, "organisation": org}
                sink.emit(when, {**body, "unit_id": unit, "person_id": person},
                          max_delay_days=0.2 if sc.kind == "care" else 2.0)
            if enrol_day is not None:
                out.enrolled += 1
                members.append((person, unit, enrol_day))
                out.counterfactual[person] = [
                    json.dumps({"event_id": f"cf-{person}-{k}", **body, "unit_id": unit, "person_id": person,
                                "occurred_at": when.isoformat(timespec="seconds")}, separators=(",", ":"))
                    for k, (when, body) in enumerate(counterfactual.events)]
                _enrol_events(sc, rng, sink, person, unit, enrol_day, org)
    if surveys and sc.kind == "care":
        out.survey_answers = survey_events(sc, sink, members)
    while sink.heap:
        _, _, line = heapq.heappop(sink.heap)
        out.lines.append(line)
    return out


def _enrol_events(sc: ProgrammeScenario, rng: random.Random, sink: ArrivalQueue, person: str, unit: str,
                  day: int, organisation: str | None = None) -> None:
    base: dict[str, object] = {"event_type": EventKind.ENROLLMENT, "unit_id": unit, "person_id": person,
                               "program": sc.program, "source": "care-system" if sc.kind == "care" else "hr-system"}
    if organisation:
        base["organisation"] = organisation
    sink.emit(local_time(sc.start + dt.timedelta(days=day), 10, 0, sc.tz), dict(base))
    if rng.random() < 0.1:  # some leave the programme after a few months (they are still followed)
        left = day + rng.randint(120, 240)
        if left < sc.days:
            sink.emit(local_time(sc.start + dt.timedelta(days=left), 10, 0, sc.tz), {**base, "status": "left"})


def _review_day(sc: ProgrammeScenario, day_index: int) -> bool:
    day = sc.start + dt.timedelta(days=day_index)
    return day.day == 1 and sc.enrol_from <= day <= sc.enrol_until


def _eligible(sc: ProgrammeScenario, w: _World, day_index: int) -> bool:
    if sc.rule == "any_recent":  # an unplanned inpatient day in the last six months
        return sum(w.daily[max(0, day_index - 182):day_index]) >= 1
    if sc.rule == "peak":  # many inpatient days in the last two months
        return sum(w.daily[max(0, day_index - 61):day_index]) >= 8
    # high absence: three occasions, or twenty sick days, in the last three months
    recent = [d for d in w.occasion_starts if d >= day_index - 91]
    return len(recent) >= 3 or sum(w.daily[max(0, day_index - 91):day_index]) >= 20


def _trend(sc: ProgrammeScenario, day_index: int) -> float:
    return math.exp(sc.trend_per_year * day_index / 365)


def _care_person(sc: ProgrammeScenario, rng: random.Random, unit: str) -> tuple[_World, _World, int | None]:
    """A person in a care unit: unplanned admissions (the programme's target), planned ones, ED visits,
    home care. Both worlds read the same random numbers, day by day."""
    rate = rng.gammavariate(0.7, 1.6 / 0.7) / 365  # unplanned admissions a day; mean 1.6 a year
    ed_rate = (0.3 + 0.5 * rate * 365) / 365
    home_care = rng.random() < 0.2
    worlds = (_World(), _World())  # factual, counterfactual
    enrol_day: int | None = None
    for d in range(sc.days):
        day = sc.start + dt.timedelta(days=d)
        if enrol_day is None and _review_day(sc, d) and _eligible(sc, worlds[0], d) \
                and rng.random() < sc.enrol_probability:
            enrol_day = d + rng.randint(0, 6)
        u_adm, u_ed, u_other = rng.random(), rng.random(), rng.random()
        base = rate * _trend(sc, d)
        length = rng.randint(2, 8) if u_adm < base else 0
        hour = rng.randint(0, 23)
        for w_i, w in enumerate(worlds):
            treated = w_i == 0 and enrol_day is not None and d >= enrol_day
            in_stay = d <= w.busy_until
            w.daily.append(1.0 if in_stay else 0.0)
            if not in_stay and u_adm < base * (sc.effect if treated else 1.0):
                _stay(w, sc, d, length, planned=False, hour=hour)
            elif not in_stay and u_other < 0.15 / 365:
                _stay(w, sc, d, 1 + int(u_other * 365 / 0.15 * 4), planned=True, hour=9)
            if u_ed < ed_rate:
                w.events.append((local_time(day, hour, 30, sc.tz), {"event_type": EventKind.EMERGENCY_VISIT,
                                                                      "source": "region-ed"}))
            if home_care and not in_stay and (d % 7 == 2 or 0.5 < u_other < 0.53):
                planned = d % 7 == 2
                w.events.append((local_time(day, 9 if planned else 19, 15, sc.tz), {
                    "event_type": EventKind.HOME_CARE_CONTACT, "minutes": 30 if planned else 45,
                    "planned": planned, "source": "care-system"}))
    return worlds[0], worlds[1], enrol_day


def _stay(w: _World, sc: ProgrammeScenario, d: int, length: int, planned: bool, hour: int) -> None:
    stay = f"stay-{d}-{len(w.events)}"
    day = sc.start + dt.timedelta(days=d)
    w.events.append((local_time(day, hour, 0, sc.tz), {"event_type": EventKind.ADMISSION, "stay_id": stay,
                                                       "planned": planned, "source": "region-pas"}))
    w.events.append((local_time(day + dt.timedelta(days=length), 11, 0, sc.tz),
                     {"event_type": EventKind.DISCHARGE, "stay_id": stay, "source": "region-pas"}))
    w.busy_until = d + length - 1


def _employee(sc: ProgrammeScenario, rng: random.Random, unit: str) -> tuple[_World, _World, int | None]:
    """An employee: sick-leave occasions (the programme's target) of 1..90 days, reported day by day."""
    rate = rng.gammavariate(1.2, 3.0 / 1.2) / 365  # occasions a day; mean 3 a year
    worlds = (_World(), _World())
    length, extent = 0, 1.0
    enrol_day: int | None = None
    for d in range(sc.days):
        if enrol_day is None and _review_day(sc, d) and _eligible(sc, worlds[0], d) \
                and rng.random() < sc.enrol_probability:
            enrol_day = d + rng.randint(0, 6)
        u_start = rng.random()
        base = rate * _trend(sc, d) * (1 + 0.8 * math.exp(-0.5 * (((d - 40) % 365) / 20) ** 2))  # flu season
        if u_start < base:
            r = rng.random()
            length = rng.randint(1, 4) if r < 0.72 else rng.randint(5, 12) if r < 0.95 else rng.randint(15, 90)
            extent = 1.0 if rng.random() < 0.9 else 0.5
        for w_i, w in enumerate(worlds):
            treated = w_i == 0 and enrol_day is not None and d >= enrol_day
            sick = d <= w.busy_until
            if not sick and u_start < base * (sc.effect if treated else 1.0):
                w.occasion_starts.append(d)
                w.busy_until = d + length - 1
                for k in range(length):
                    if d + k < sc.days:
                        w.events.append((local_time(sc.start + dt.timedelta(days=d + k), 7, 30, sc.tz), {
                            "event_type": EventKind.SICK_LEAVE, "extent": extent, "source": "hr-system"}))
            w.daily.append(1.0 if d <= w.busy_until else 0.0)
    return worlds[0], worlds[1], enrol_day



def write(run_: ScenarioRun, path: str) -> None:
    """The scenario's events as a JSON-lines file (what `outcome-monitor report --events` reads)."""
    with open(path, "w", encoding="utf-8") as fh:
        for line in run_.lines:
            fh.write(line + "\n")


def sample_truth(run_: ScenarioRun, factual: Cohort, costs: CostTable,
                 key: Callable[[str], str] = str) -> dict[str, tuple[float, float]]:
    """Per measure: (what the enrolled had minus what they would have had without the programme, summed
    over the same follow-up days the estimate uses; what they would have had). Exact for this sample.
    `key`: what the factual cohort is keyed by (the pipeline's pseudonymiser)."""
    from streams.core.programme.cohort import build_cohort
    from streams.core.programme.estimate import trials_of
    from streams.core.programme.ledger import LedgerBook
    from streams.models.events import EVENT_ADAPTER, PersonEvent

    book = LedgerBook()
    for lines in run_.counterfactual.values():
        for line in lines:
            event = EVENT_ADAPTER.validate_json(line)
            assert not isinstance(event, Staffing | SurveyResponse)
            book.add(cast(PersonEvent, event.model_copy(update={"person_id": key(event.person_id)})))
    without = build_cohort(book.persons, factual.spec, costs, as_of=factual.as_of)
    trials = trials_of(factual)
    out = {}
    for measure in factual.measures:
        had = would = 0.0
        for e in trials.members:  # over the follow-up days the estimate uses: [enrolment day, stop)
            person = trials.table.keys[e.row]
            had += sum(v for d, v in factual.daily.outcomes.get(person, {}).get(measure, {}).items()
                       if e.day <= d < e.stop)
            would += sum(v for d, v in without.daily.outcomes.get(person, {}).get(measure, {}).items()
                         if e.day <= d < e.stop)
        out[measure] = (had - would, would)
    return out
