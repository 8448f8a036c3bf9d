"""The care scenario's patient survey, with a known truth: safety at home on a five-level scale, whose
answers shift up on a latent scale. As `survey_response` events in the scenario's stream (`survey_events`,
for `programme_scenarios.run(sc, surveys=True)`), or as a survey file for `report --survey` (`survey`)."""

from __future__ import annotations

import datetime as dt
import heapq
import json
import random
from typing import Protocol

from streams.models.vocab import EventKind
from streams.simulators.simulation import ArrivalQueue, local_time


class SurveyedScenario(Protocol):
    """What the survey reads of the scenario that runs it (`programme_scenarios.ProgrammeScenario`)."""

    @property
    def seed(self) -> int: ...
    @property
    def units(self) -> int: ...
    @property
    def start(self) -> dt.date: ...
    @property
    def end(self) -> dt.date: ...
    @property
    def enrol_from(self) -> dt.date: ...
    @property
    def tz(self) -> str: ...
    @property
    def survey_shift(self) -> float: ...


SAFETY = ("inte alls trygg / not at all safe", "lite trygg / slightly safe", "ganska trygg / fairly safe",
          "trygg / safe", "mycket trygg / very safe")
SURVEY_INSTRUMENT = "patient-safety-at-home"
SURVEY_QUESTION = "Hur trygg känner du dig hemma? / How safe do you feel at home?"
SURVEY_SCALE = "safety-5"
SURVEY_SCALES = {SURVEY_SCALE: SAFETY}  # what `MonitorConfig.survey_scales` must declare for them
SURVEY_RESPONDENTS = 40  # a quarter


def _answer(rng: random.Random, mu: float) -> str:
    """A level of SAFETY from a latent normal with mean `mu` (the cut points make 0 the middle level)."""
    latent = rng.gauss(mu, 1.0)
    return SAFETY[sum(latent > c for c in (-1.2, -0.4, 0.4, 1.2))]


def survey_events(sc: SurveyedScenario, sink: ArrivalQueue, members: list[tuple[str, str, int]]) -> int:
    """The programme's patient survey, each quarter from the first enrolments to the end of the data: 40
    answers in the quarter's middle month, half of them anonymous, half from members enrolled by then (by
    person). The latent mean rises evenly from 0 in the first quarter to `survey_shift` in the last (the
    known truth). Straight into the sink's heap with ids of their own: its random numbers are not used."""
    rng = random.Random(f"{sc.seed}:survey-events")
    first = dt.date(sc.enrol_from.year, 3 * ((sc.enrol_from.month - 1) // 3) + 1, 1)
    quarters = []
    q = first
    while q <= sc.end:
        quarters.append(q)
        q = dt.date(q.year + (q.month + 3 > 12), (q.month + 2) % 12 + 1, 1)
    n = 0
    for i, q in enumerate(quarters):
        mu = sc.survey_shift * i / max(1, len(quarters) - 1)
        middle = dt.date(q.year, q.month + 1, 1)
        enrolled = [m for m in members if sc.start + dt.timedelta(days=m[2]) < middle]
        for k in range(SURVEY_RESPONDENTS):
            day = middle + dt.timedelta(days=rng.randrange(28))
            when = local_time(day, 14, rng.randrange(60), sc.tz)
            body: dict[str, object] = {
                "event_id": f"sv-{sc.seed}-{i}-{k:03d}", "event_type": EventKind.SURVEY_RESPONSE,
                "occurred_at": when.isoformat(timespec="seconds"), "source": "care-survey",
                "instrument": SURVEY_INSTRUMENT, "question": SURVEY_QUESTION, "scale": SURVEY_SCALE,
                "answer": _answer(rng, mu)}
            if k % 2 and enrolled:
                person, unit, _ = enrolled[rng.randrange(len(enrolled))]
                body.update(person_id=person, unit_id=unit)
            else:
                body["unit_id"] = f"care-unit-{rng.randrange(sc.units):02d}"
            line = json.dumps(body, separators=(",", ":"))
            heapq.heappush(sink.heap, (int(when.timestamp()) + 3600, 10**9 + n, line))  # sent within the hour
            n += 1
    return n


def survey(sc: SurveyedScenario, respondents: int = 80, shift: float = 0.6) -> dict[str, object]:
    """Patient-reported safety at home at enrolment and six months later, anonymous, on a five-level
    scale; the follow-up is shifted up by `shift` on a latent scale (known truth). The file format of
    `outcome-monitor report --survey`."""
    rng = random.Random(f"{sc.seed}:survey")
    answers = []
    for period, mu in (("1 baseline", 0.0), ("2 follow-up", shift)):
        for _ in range(respondents):
            answers.append({"instrument": SURVEY_INSTRUMENT, "level": _answer(rng, mu), "period": period,
                            "question": SURVEY_QUESTION})
    return {"scale": {"name": SURVEY_SCALE, "levels": list(SAFETY)}, "answers": answers}
