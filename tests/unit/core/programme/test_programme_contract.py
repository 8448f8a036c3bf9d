"""Issue 15's contract additions carried through to programme outcomes: the ledger's version 2 (organisations,
disenrolment reasons) reads version 1; members who moved or died are followed only until they left; survey
answers reach a programme's figures through replay, and the programmes agent folds them into the same
store as replay, whatever the order."""

from __future__ import annotations

import datetime as dt
import json
import random
from types import SimpleNamespace
from typing import Any

import msgspec
import pytest

from streams.agents.runtime.codec import loads_dict
from streams.agents.runtime.messages import PersonEnvelope
from streams.agents.runtime.records import InputRecord
from streams.agents.runtime.stage_work import Item
from streams.agents.runtime.state_cache import StateCache
from streams.agents.stages.programmes import Programmes, decode_stored
from streams.core.config import MonitorConfig
from streams.core.monitor import Monitor
from streams.core.programme.cohort import ProgrammeKind, ProgrammeSpec, build_cohort
from streams.core.programme.estimate import ALL, estimate
from streams.core.programme.ledger import ED_VISITS, HOME_CARE_UNPLANNED, Episode, PersonLedger
from streams.core.programme.money import CostTable
from streams.core.programme.months import month_of, parse_month
from streams.core.programme.stage import ProgrammeStage
from streams.core.programme.surveys import SURVEYS_KEY, Folded, SurveyStore, step
from streams.core.programme_config import ProgrammeConfig
from streams.core.pseudonym import Pseudonymiser
from streams.core.stages import Admit, Admitted
from streams.models.events import EVENT_ADAPTER, PersonEvent, SurveyResponse
from streams.observe.metrics import Metrics
from tests.helpers import KEY, NOW

ORG_A, ORG_B = "212000-0142", "212000-1355"


def ev(kind: str, when: dt.date, eid: str, person: str = "p1", **fields: object) -> PersonEvent:
    body = {"event_id": eid, "event_type": kind, "unit_id": fields.pop("unit_id", "u1"), "person_id": person,
            "occurred_at": f"{when.isoformat()}T10:00:00+01:00", **fields}
    event = EVENT_ADAPTER.validate_json(json.dumps(body))
    return event  # type: ignore[return-value]


def day(d: dt.date) -> int:
    return d.toordinal()


# -- the ledger, version 2 ----------------------------------------------------------------------------------

def test_a_version_1_ledger_is_read_and_written_back_as_version_2() -> None:
    """What a worker of the previous version left in its table: no organisations, rows of five."""
    v1 = {
        "schema": 1, "horizon_days": 60, "occasion_gap_days": 5, "short_term_days": 14,
        "settled": {"2025-01": {"values": {"ed_visits": 1.0}, "units": ["u1"]}},
        "pending": {"e2": ["e", day(dt.date(2025, 3, 3)), "u1"],
                    "h1": ["h", day(dt.date(2025, 3, 4)), "u1", 30, False],
                    "a1": ["a", day(dt.date(2025, 3, 5)), "u1", "s1", False],
                    "d1": ["d", day(dt.date(2025, 3, 8)), "u1", "s1"],
                    "s1": ["s", day(dt.date(2025, 3, 9)), "u1", 0.5]},
        "enrolments": {"j1": ["team", "joined", 1736000000, day(dt.date(2025, 1, 4)), "u1"],
                       "l1": ["team", "left", 1741000000, day(dt.date(2025, 3, 3)), "u1"]},
        "retracted": {}, "tail": None, "frontier": day(dt.date(2025, 2, 1)), "max_day": day(dt.date(2025, 3, 9)),
        "late_ignored": 0, "orphans_dropped": 0,
    }
    led = PersonLedger.from_dict(json.loads(json.dumps(v1)))
    months = led.months()
    jan, mar = months[parse_month("2025-01")], months[parse_month("2025-03")]
    assert jan.values == {"ed_visits": 1.0} and jan.organisations == set()
    assert mar.get(ED_VISITS) == 1 and mar.get(HOME_CARE_UNPLANNED) == 1 and mar.get("inpatient_days") == 3
    assert mar.get("sick_days") == 0.5 and mar.units == {"u1"} and mar.organisations == set()
    assert led.episodes("team") == [Episode("team", day(dt.date(2025, 1, 4)), day(dt.date(2025, 3, 3)), "u1")]
    # and on from there: a version-2 event, then the state as the current version, which reads back the same
    assert led.add(ev("emergency_visit", dt.date(2025, 3, 10), "e3", organisation=ORG_A))
    v2 = json.loads(json.dumps(led.to_dict()))
    assert v2["schema"] == 3 and v2["enrolments"]["j1"][5:] == [None, None] and v2["pending"]["e2"][-1] == ""
    again = PersonLedger.from_dict(v2)
    assert again.to_dict() == v2 and again.months() == led.months()
    assert again.months()[parse_month("2025-03")].organisations == {ORG_A}


def test_organisations_per_month_and_an_episode_s_reason_and_organisation_survive_settling() -> None:
    led = PersonLedger(horizon_days=30)
    led.add(ev("enrollment", dt.date(2025, 1, 5), "j1", program="team", organisation=ORG_B))
    led.add(ev("home_care_contact", dt.date(2025, 1, 7), "h1", minutes=20, planned=False, organisation=ORG_A))
    led.add(ev("emergency_visit", dt.date(2025, 1, 9), "e1"))  # the region's: no organisation given
    led.add(ev("enrollment", dt.date(2025, 2, 20), "l1", program="team", status="left", reason="moved"))
    led.add(ev("emergency_visit", dt.date(2025, 5, 1), "e2"))  # settles January
    assert led.frontier is not None and led.frontier > day(dt.date(2025, 1, 31))
    restored = PersonLedger.from_dict(json.loads(json.dumps(led.to_dict())))
    assert restored.months()[parse_month("2025-01")].organisations == {ORG_A}
    [episode] = restored.episodes("team")
    assert (episode.reason, episode.organisation) == ("moved", ORG_B)


# -- moved or died: followed until they left ----------------------------------------------------------------

def _cohort(reason: str | None, left: dt.date, died: dt.date | None = None) -> Any:
    """12 members enrolled on 5 July 2024 who all leave on `left` for `reason` (and, with `died`, are reported
    dead on that day by a second `left`), 30 references, one unit; ED visits every month of 2024; data up
    to 31 December (as of December)."""
    rng = random.Random(15)
    ledgers: dict[str, PersonLedger] = {}
    for person in [f"m{i:02d}" for i in range(12)] + [f"r{i:02d}" for i in range(30)]:
        led = ledgers[person] = PersonLedger()
        for month in range(1, 13):
            for k in range(rng.randint(0, 2)):
                led.add(ev("emergency_visit", dt.date(2024, month, 10 + k), f"{person}-{month}-{k}", person))
        if person.startswith("m"):
            led.add(ev("enrollment", dt.date(2024, 7, 5), f"{person}-j", person, program="team", organisation=ORG_A))
            led.add(ev("enrollment", left, f"{person}-l", person, program="team", status="left",
                       **({"reason": reason} if reason else {})))
            if died is not None:
                led.add(ev("enrollment", died, f"{person}-d", person, program="team", status="left",
                           reason="died"))
    ledgers["r00"].add(ev("emergency_visit", dt.date(2024, 12, 31), "r00-last", "r00"))
    return build_cohort(ledgers, ProgrammeSpec("team", ProgrammeKind.CARE), CostTable())


@pytest.mark.parametrize("reason", ["died", "moved"])
def test_a_member_who_died_or_moved_in_after_month_2_contributes_only_month_1(reason: str) -> None:
    cohort = _cohort(reason, dt.date(2024, 9, 10))  # July: enrolment month; August: 1; September: 2
    assert cohort.as_of == month_of(dt.date(2024, 12, 1))
    assert all(m.left_reason == reason and m.organisation == ORG_A for m in cohort.members)
    assert {tuple(cohort.after_months(m)) for m in cohort.members} == {(month_of(dt.date(2024, 8, 1)),)}
    effect = estimate(cohort, ED_VISITS)[ALL]
    # followed from the enrolment day to the day before they left: 5 July to 9 September, 67 days each
    assert not effect.suppressed and effect.persons == 12 and effect.person_months == round(12 * 67 / 30.4375)


@pytest.mark.parametrize("reason", ["completed", "declined", None])
def test_a_member_who_completed_declined_or_gave_no_reason_is_followed_on(reason: str | None) -> None:
    cohort = _cohort(reason, dt.date(2024, 9, 10))
    assert {m.observed_after for m in cohort.members} == {5}  # August to December: intention to treat
    # from the enrolment day for six months (183 days), within the data (to 31 December: 180 days)
    assert estimate(cohort, ED_VISITS)[ALL].person_months == round(12 * 180 / 30.4375)


def test_a_death_reported_after_completing_the_programme_still_ends_the_follow_up() -> None:
    """The contract has no other way to say that someone who already left has died: a second `left`."""
    assert {m.observed_after for m in _cohort("completed", dt.date(2024, 8, 5)).members} == {5}
    died = _cohort("completed", dt.date(2024, 8, 5), died=dt.date(2024, 10, 12))
    assert {m.observed_after for m in died.members} == {2}  # August and September; not October on


def test_a_member_who_died_in_after_month_1_is_followed_up_to_the_day_before() -> None:
    cohort = _cohort("died", dt.date(2024, 8, 20))
    assert {m.observed_after for m in cohort.members} == {0}  # no whole month after the enrolment month
    assert estimate(cohort, ED_VISITS)[ALL].person_months == round(12 * 46 / 30.4375)  # 5 July to 19 August


# -- surveys ------------------------------------------------------------------------------------------------

SCALES = {"safety-5": ("not at all", "slightly", "fairly", "safe", "very safe"), "yes-no": ("no", "yes")}
CONFIG = MonitorConfig(survey_scales=SCALES, programmes=(
    ProgrammeConfig(name="team", kind=ProgrammeKind.CARE, surveys=("patient-safety",)),))


def answer(eid: str, when: dt.date, level: str, *, person: str | None = None, question: str = "q1",
           scale: str = "safety-5", instrument: str = "patient-safety") -> str:
    body: dict[str, object] = {"event_id": eid, "event_type": "survey_response",
                               "occurred_at": f"{when.isoformat()}T14:00:00+01:00", "unit_id": "u1",
                               "instrument": instrument, "question": question, "scale": scale, "answer": level}
    if person:
        body["person_id"] = person
    return json.dumps(body)


def _survey_lines() -> list[str]:
    """12 answers in 2024Q4 and 13 in 2025Q1 (higher), 3 in 2025Q2; a re-send, two versions of one id, one
    answer to another question on another scale, one of an instrument no programme reports."""
    levels = SCALES["safety-5"]
    lines = [answer(f"a{i}", dt.date(2024, 11, 1 + i), levels[i % 3], person=f"pat-{i}" if i % 2 else None)
             for i in range(12)]
    lines += [answer(f"b{i}", dt.date(2025, 2, 1 + i), levels[2 + i % 3], person=f"pat-{i}" if i % 3 else None)
              for i in range(13)]
    lines += [answer(f"c{i}", dt.date(2025, 4, 2 + i), levels[4]) for i in range(3)]
    lines += [lines[3], answer("a5", dt.date(2024, 11, 6), levels[4], person="pat-5"),
              answer("y1", dt.date(2025, 1, 20), "yes", question="q2", scale="yes-no"),
              answer("o1", dt.date(2025, 1, 21), "no", scale="yes-no", instrument="staff-pulse")]
    return lines


def _replayed(lines: list[str]) -> Monitor:
    m = Monitor(CONFIG, Pseudonymiser(KEY))
    for line in lines:
        m.process(line, NOW)
    m.finish()
    return m


def test_surveys_through_replay_give_each_question_s_distributions_by_quarter_in_the_figures() -> None:
    person_events = [ev("emergency_visit", dt.date(2025, 1, 2) + dt.timedelta(days=7 * k), f"e{k}").model_dump_json()
                     for k in range(13)]
    lines = sorted(_survey_lines() + person_events, key=lambda line: json.loads(line)["occurred_at"])
    m = _replayed(lines)
    # the re-send is a duplicate; the second version of a5 voids the id: rejected, and neither is used
    assert m.tally.rejected == {"conflicting_duplicate": 1} and m.tally.duplicates == 1
    assert m.tally.by_type["survey_response"] == len(_survey_lines()) - 2
    assert len(m.surveys.answers) == 12 + 13 + 3 + 2 and m.surveys.answers["a5"] is None
    [figures] = m.programme_figures("2025Q1")
    q1, q2 = figures.results.surveys
    assert (q1.instrument, q1.question, q1.scale) == ("patient-safety", "q1", SCALES["safety-5"])
    assert q1.periods == ("2024Q4", "2025Q1")  # 2025Q2 is after the figures' quarter
    first, last = q1.distributions
    assert first is not None and last is not None and (first.n, last.n) == (11, 13)  # a5 is void
    assert sum(first.counts[:3]) == 11 and sum(last.counts[2:]) == 13
    # ordinal: the share at or above each level, never a mean of levels
    assert first.at_or_above[0] == 1.0 and last.at_or_above[2] == 1.0 and first.at_or_above[3] == 0.0
    assert q1.comparison is not None and q1.comparison.superiority.low > 0.5  # later answers are higher
    assert (q2.question, q2.scale, q2.distributions) == ("q2", ("no", "yes"), (None,))  # 1 answer: suppressed
    document = figures.results.figures()
    assert document["surveys"][0]["distributions"][1]["n"] == 13
    assert document["surveys"][0]["distributions"][1]["at_or_above"] == [round(x, 4) for x in last.at_or_above]
    assert "pat-" not in json.dumps(document) and "pat-" not in json.dumps(m.surveys.to_dict())
    # no programme names the instrument: no survey figures
    plain = ProgrammeStage(CONFIG.model_copy(update={"programmes": (ProgrammeConfig(name="team", kind="care"),)}))
    assert plain.figures(m.ledgers, "2025Q1", surveys=m.surveys)[0].results.surveys == []


def test_the_survey_store_is_a_state_in_state_out_step_that_round_trips() -> None:
    admit = Admit(CONFIG, Pseudonymiser(KEY))
    state: dict[str, Any] | None = None
    folded = []
    for line in _survey_lines():
        admitted = admit.decode(line, NOW, None, _NoCounts())
        assert isinstance(admitted, SurveyResponse)
        state, did = step(state, admitted)
        state = json.loads(json.dumps(state))
        folded.append(did)
    assert state is not None and state["schema"] == 1
    # the re-send is a duplicate; the second version of a5 voids the id (neither is used), whichever came first
    assert folded.count(Folded.DUPLICATE) == 1 and folded.count(Folded.CONFLICTING) == 1
    assert state["answers"]["a5"] is None
    assert SurveyStore.from_dict(state).to_dict() == state
    with pytest.raises(ValueError, match="schema"):
        SurveyStore.from_dict({**state, "schema": 99})


class _NoCounts:
    def accepted(self, event_type: str, occurred: int, arrival: int) -> None: ...

    def rejected(self, reason: str) -> None: ...

    def duplicate(self) -> None: ...

    def resent(self) -> None: ...

    def retraction(self, outcome: str) -> None: ...


def _agent() -> tuple[Programmes, SimpleNamespace]:
    """The programmes agent over an in-memory table, as the pipeline wires it (agents/runtime/context.py)."""
    table: dict[bytes, bytes] = {}
    stage = ProgrammeStage(CONFIG)
    p = SimpleNamespace(
        programme_stage=stage,
        programme_cache=StateCache(table, lambda raw: PersonLedger.from_dict(loads_dict(raw)), stage.fresh),
        survey_cache=StateCache(table, lambda raw: SurveyStore.from_dict(loads_dict(raw)), lambda _: SurveyStore()),
        metrics=Metrics())
    return Programmes(p), p  # type: ignore[arg-type]


def _envelope(admitted: Admitted) -> PersonEnvelope:
    """What ingest (a survey answer) or persons (a person event) sends to the programme-events topic."""
    return PersonEnvelope(admitted.subject or "", admitted.arrival, "t/0/0",
                          msgspec.Raw(admitted.pseudonymised().model_dump_json().encode()), 0.0)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_the_programmes_agent_folds_survey_answers_into_the_same_store_as_replay_in_any_order(seed: int) -> None:
    lines = [ev("enrollment", dt.date(2024, 11, 1), "j1", program="team").model_dump_json(), *_survey_lines()]
    replayed = _replayed(lines)
    # answers are never too late; the second version of a5 is the one conflicting duplicate
    assert len(replayed.ledgers) == 1 and replayed.tally.rejected == {"conflicting_duplicate": 1}
    admit = Admit(CONFIG, Pseudonymiser(KEY))
    envelopes = []
    for line in lines:
        admitted = admit(line, NOW, None, lambda e: int(e.occurred_at.timestamp()), _NoCounts())
        assert isinstance(admitted, Admitted)
        envelopes.append(_envelope(admitted))
    rng = random.Random(seed)
    rng.shuffle(envelopes)
    work, p = _agent()
    k = 0
    letters = []
    while k < len(envelopes):  # batches of any size, each written as the stage agent writes it
        chunk = envelopes[k:k + rng.randint(1, 7)]
        batch = work.begin()
        for i, env in enumerate(chunk):
            work.apply(batch, Item(InputRecord("om.programme-events", 0, k + i, 0, (), b""), env,
                                   raw=bytes(env.event)))
        work.write(batch)
        work.done(batch)
        letters += [r.reason.value for r, _ in batch.out.rejections]
        k += len(chunk)
    # whichever version of a5 came first: one of them is the dead letter, and the re-send a duplicate
    assert letters == ["conflicting_duplicate"]
    assert p.metrics.events_duplicate._value.get() == 1
    ledgers, stored = decode_stored(p.programme_cache.stored_values())  # what the figures are computed from
    assert stored.to_dict() == json.loads(json.dumps(replayed.surveys.to_dict()))
    assert SURVEYS_KEY not in ledgers and list(ledgers) == list(replayed.ledgers)


def test_a_person_counts_once_per_question_and_quarter_and_a_tiny_pilot_quarter_is_not_an_endpoint() -> None:
    """One person answering weekly is one respondent (their latest answer): 11 answers from one person are
    no group. The comparison runs between the first and last quarters shown, not a suppressed pilot's."""
    levels = SCALES["safety-5"]
    weekly = [answer(f"w{i}", dt.date(2024, 10, 1) + dt.timedelta(days=7 * i), levels[0] if i < 10 else levels[1],
                     person="pat-1") for i in range(11)]
    pilot = [answer("p0", dt.date(2024, 7, 3), levels[4])]
    q1 = [answer(f"x{i}", dt.date(2025, 1, 2 + i), levels[1]) for i in range(12)]
    q2 = [answer(f"z{i}", dt.date(2025, 4, 2 + i), levels[3], person=f"pat-{i}") for i in range(12)]
    enrol = ev("enrollment", dt.date(2024, 6, 1), "j1", program="team").model_dump_json()
    m = _replayed([enrol, *pilot, *weekly, *q1, *q2,
                   ev("emergency_visit", dt.date(2025, 6, 30), "e-last").model_dump_json()])
    [figures] = m.programme_figures("2025Q2")
    [survey] = [s for s in figures.results.surveys if s.question == "q1"]
    assert survey.periods == ("2024Q3", "2024Q4", "2025Q1", "2025Q2")
    assert survey.distributions[0] is None and survey.distributions[1] is None  # 1 answer; 1 respondent
    assert [d.n for d in survey.distributions[2:] if d is not None] == [12, 12]
    assert survey.comparison is not None and (survey.comparison.n_x, survey.comparison.n_y) == (12, 12)
    assert survey.comparison.superiority.low > 0.5  # 2025Q2 against 2025Q1, the first quarter shown


def test_a_person_answering_twice_in_a_quarter_counts_with_the_latest_answer_even_the_same_day() -> None:
    """A follow-up answer is what the person says now: the latest by occurred_at, not by event id or day."""
    levels = SCALES["safety-5"]
    others = [answer(f"o{i}", dt.date(2025, 1, 2 + i), levels[2]) for i in range(11)]
    morning = json.loads(answer("z-first", dt.date(2025, 2, 3), levels[0], person="pat-1"))
    morning["occurred_at"] = "2025-02-03T09:00:00+01:00"
    evening = json.loads(answer("a-later", dt.date(2025, 2, 3), levels[4], person="pat-1"))
    evening["occurred_at"] = "2025-02-03T17:00:00+01:00"
    enrol = ev("enrollment", dt.date(2024, 6, 1), "j1", program="team").model_dump_json()
    for order in ([morning, evening], [evening, morning]):
        m = _replayed([enrol, *others, *(json.dumps(a) for a in order),
                       ev("emergency_visit", dt.date(2025, 3, 31), "e-last").model_dump_json()])
        [figures] = m.programme_figures("2025Q1")
        [survey] = [s for s in figures.results.surveys if s.question == "q1"]
        [d] = survey.distributions
        assert d is not None and d.n == 12 and d.counts == (0, 0, 11, 0, 1), order
