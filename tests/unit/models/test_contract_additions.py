"""Issue 15's additions to the event contract, at the door: a disenrolment's `reason`, the `organisation`
responsible (a Swedish organisationsnummer; a personnummer there is rejected as one), and the
`survey_response` event on a declared scale. Valid input is admitted as it should be read; each kind of
invalid input is rejected for its reason, with a message that never echoes what was sent."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic_core import PydanticCustomError
from stdnum import luhn

from streams.core.config import MonitorConfig
from streams.core.monitor import Monitor
from streams.core.pseudonym import Pseudonymiser
from streams.core.stages import Admit, Admitted
from streams.models.events import Enrollment, EventKind, SurveyResponse, _organisation_number
from streams.models.rejections import Rejection, RejectReason
from streams.models.vocab import PERSON_EVENT_KINDS, PROGRAMME_EVENT_KINDS
from tests.helpers import KEY, NOW, at, event
from tests.unit.core.test_personnummer import births, forms, number

SCALES = {"safety-5": ("not at all", "slightly", "fairly", "safe", "very safe"), "yes-no": ("no", "yes")}
CONFIG = MonitorConfig(survey_scales=SCALES)
STRICT = settings(max_examples=300, derandomize=True, deadline=None)
DECLARED_MESSAGES = {"scale: not a declared scale; declared: safety-5, yes-no"} | {
    f"answer: not a level of the scale {name}; its levels: {', '.join(levels)}" for name, levels in SCALES.items()}


class _Counts:
    def __init__(self) -> None:
        self.accepted_types: list[str] = []
        self.rejected_reasons: list[str] = []

    def accepted(self, event_type: str, occurred: int, arrival: int) -> None:
        self.accepted_types.append(event_type)

    def rejected(self, reason: str) -> None:
        self.rejected_reasons.append(reason)

    def duplicate(self) -> None: ...

    def resent(self) -> None: ...

    def retraction(self, outcome: str) -> None: ...


def door(line: str, config: MonitorConfig = CONFIG) -> Admitted | Rejection:
    """The door as replay and the worker pass through it: decode, the scale check, arrival, pseudonym."""
    admit = Admit(config, Pseudonymiser(KEY))
    return admit(line, NOW, "test:1", lambda e: int(e.occurred_at.timestamp()), _Counts())


def rejected(line: str, reason: RejectReason, config: MonitorConfig = CONFIG) -> Rejection:
    result = door(line, config)
    assert isinstance(result, Rejection), result
    assert result.reason is reason, result
    assert result.message
    return result


def survey(**fields: object) -> str:
    body: dict[str, object] = {"event_id": "s1", "event_type": "survey_response", "occurred_at": at(3),
                               "unit_id": "care-unit-1", "instrument": "patient-safety", "question": "q1",
                               "scale": "safety-5", "answer": "fairly"}
    body.update(fields)
    return json.dumps({k: v for k, v in body.items() if v is not None})


def organisation_number(nine: str) -> str:
    return nine + luhn.calc_check_digit(nine)


organisation_numbers = st.builds(lambda first, rest: organisation_number(first + rest),
                                 st.from_regex(r"\A[0-9][0-9][2-9]\Z"), st.from_regex(r"\A[0-9]{6}\Z"))


# -- the disenrolment's reason ------------------------------------------------------------------------------

@pytest.mark.parametrize("reason", ["completed", "declined", "moved", "died"])
def test_a_left_enrolment_carries_its_reason(reason: str) -> None:
    admitted = door(event("enrollment", 0, program="team", status="left", reason=reason))
    assert isinstance(admitted, Admitted) and isinstance(admitted.event, Enrollment)
    assert admitted.event.reason == reason


def test_a_reason_is_optional_and_only_for_leaving() -> None:
    plain = door(event("enrollment", 0, program="team", status="left"))
    assert isinstance(plain, Admitted) and plain.event.reason is None  # type: ignore[union-attr]
    joined = rejected(event("enrollment", 0, program="team", reason="moved"), RejectReason.INVALID_FIELD)
    assert joined.message.startswith("reason:") and 'only with status "left"' in joined.message
    rejected(event("enrollment", 0, program="team", status="joined", reason="completed"), RejectReason.INVALID_FIELD)
    rejected(event("enrollment", 0, program="team", status="left", reason="emigrated"), RejectReason.INVALID_FIELD)
    rejected(event("emergency_visit", 0, reason="died"), RejectReason.UNKNOWN_FIELD)  # only on an enrolment


# -- the organisation responsible ---------------------------------------------------------------------------

@STRICT
@given(org=organisation_numbers, hyphen=st.booleans(),
       kind=st.sampled_from(["sick_leave", "emergency_visit", "enrollment", "staffing", "survey_response"]))
def test_any_valid_organisation_number_is_admitted_and_read_with_its_hyphen(org: str, hyphen: bool,
                                                                           kind: str) -> None:
    written = f"{org[:6]}-{org[6:]}" if hyphen else org
    extra: dict[str, object] = {"program": "team"} if kind == "enrollment" else \
        {"headcount": 4} if kind == "staffing" else {}
    line = survey(organisation=written) if kind == "survey_response" else \
        event(kind, 0, organisation=written, **extra)
    admitted = door(line)
    assert isinstance(admitted, Admitted), admitted
    assert admitted.event.organisation == f"{org[:6]}-{org[6:]}"


@STRICT
@given(org=organisation_numbers, wrong=st.integers(1, 9))
def test_a_wrong_check_digit_is_rejected_without_echoing_the_number(org: str, wrong: int) -> None:
    bad = org[:9] + str((int(org[9]) + wrong) % 10)
    result = rejected(event("emergency_visit", 0, organisation=bad), RejectReason.INVALID_FIELD)
    assert result.message.startswith("organisation:") and "check digit" in result.message
    assert bad not in result.message and bad[:6] not in result.message


@STRICT
@given(born=births, serial=st.integers(0, 999), form=forms)
def test_a_personnummer_as_organisation_is_rejected_as_one(born: dt.date, serial: int,
                                                          form: tuple[bool, str, bool]) -> None:
    """A sole trader's organisation number is the owner's personnummer (or a samordningsnummer), in any form."""
    century, sep, coordination = form
    pnr = number(born, serial, coordination=coordination, century=century, sep=sep)
    result = rejected(event("emergency_visit", 0, organisation=pnr), RejectReason.RAW_PERSONAL_IDENTITY_NUMBER)
    assert result.message.startswith("organisation:") and "sole trader" in result.message
    assert pnr[-4:] not in result.message


@pytest.mark.parametrize("value", [
    "1234567890",  # third digit 3 but the check digit is wrong
    "0012345674",  # third digit 1 and no personnummer (month 12? 00-12-34: day 34): not a legal person
    "556036-079", "55603607930", "556036 0793", "556036+0793", "", "org-1",
])
def test_other_values_that_are_no_organisation_number_are_invalid(value: str) -> None:
    result = rejected(event("emergency_visit", 0, organisation=value), RejectReason.INVALID_FIELD)
    assert result.message.startswith("organisation:")
    rejected(json.dumps({**json.loads(event("emergency_visit", 0)), "organisation": 5560360793}),
             RejectReason.INVALID_FIELD)  # a number, not a string


def test_the_third_digit_separates_legal_persons() -> None:
    low = organisation_number("001234567")  # Luhn-valid, but 00-12-34 is no date: still not a legal person
    result = rejected(event("emergency_visit", 0, organisation=low), RejectReason.INVALID_FIELD)
    assert "third digit" in result.message


# -- the survey response ------------------------------------------------------------------------------------

def test_survey_responses_are_programme_events_neither_person_nor_unit_ones() -> None:
    assert EventKind.SURVEY_RESPONSE in PROGRAMME_EVENT_KINDS
    assert EventKind.SURVEY_RESPONSE not in PERSON_EVENT_KINDS


def test_an_anonymous_answer_and_a_person_s_answer_are_admitted_and_the_person_pseudonymised() -> None:
    anonymous = door(survey())
    assert isinstance(anonymous, Admitted) and anonymous.subject is None
    assert isinstance(anonymous.event, SurveyResponse) and anonymous.event.person_id is None
    assert anonymous.pseudonymised() == anonymous.event
    mine = door(survey(person_id="pat-7"))
    assert isinstance(mine, Admitted) and mine.subject == Pseudonymiser(KEY)("pat-7")
    out = mine.pseudonymised()
    assert isinstance(out, SurveyResponse) and out.person_id == mine.subject and "pat-7" not in out.model_dump_json()


@STRICT
@given(born=births, serial=st.integers(0, 999), form=forms,
       field=st.sampled_from(["person_id", "instrument", "question", "scale", "answer"]))
def test_a_personnummer_in_any_of_a_survey_s_identifiers_is_rejected(born: dt.date, serial: int,
                                                                      form: tuple[bool, str, bool], field: str) -> None:
    century, sep, coordination = form
    pnr = number(born, serial, coordination=coordination, century=century, sep=sep)
    result = rejected(survey(**{field: f"x {pnr}"}), RejectReason.RAW_PERSONAL_IDENTITY_NUMBER)
    assert result.message.startswith(field) and pnr not in result.message


def test_an_answer_on_an_undeclared_scale_or_level_is_rejected_naming_what_is_declared() -> None:
    scale = rejected(survey(scale="stars-10", answer="7"), RejectReason.UNKNOWN_SCALE_LEVEL)
    assert scale.message == "scale: not a declared scale; declared: safety-5, yes-no" and scale.event_id == "s1"
    level = rejected(survey(answer="Fairly"), RejectReason.UNKNOWN_SCALE_LEVEL)
    assert level.message == ("answer: not a level of the scale safety-5; its levels: not at all, slightly, fairly, "
                             "safe, very safe")
    assert "Fairly" not in level.message
    none = rejected(survey(), RejectReason.UNKNOWN_SCALE_LEVEL, MonitorConfig())
    assert "no survey scale is declared" in none.message


@pytest.mark.parametrize(("changes", "reason"), [
    ({"instrument": None}, RejectReason.MISSING_FIELD),
    ({"answer": None}, RejectReason.MISSING_FIELD),
    ({"answer": ""}, RejectReason.INVALID_FIELD),
    ({"answer": 3}, RejectReason.INVALID_FIELD),
    ({"question": "q" * 129}, RejectReason.FIELD_TOO_LONG),
    ({"person_id": ""}, RejectReason.INVALID_FIELD),
    ({"minutes": 5}, RejectReason.UNKNOWN_FIELD),
    ({"answer": "fairly\u202e"}, RejectReason.INVALID_FIELD),
])
def test_a_malformed_survey_response_is_rejected_for_its_reason(changes: dict[str, object],
                                                                reason: RejectReason) -> None:
    rejected(survey(**changes), reason)


@STRICT
@given(scale=st.one_of(st.sampled_from([*SCALES, "other"]), st.text(max_size=12)),
       answer=st.one_of(st.sampled_from([level for levels in SCALES.values() for level in levels]),
                        st.text(max_size=12)))
def test_any_scale_and_answer_are_admitted_exactly_when_declared(scale: str, answer: str) -> None:
    result = door(survey(scale=scale, answer=answer))
    if answer in SCALES.get(scale, ()):
        assert isinstance(result, Admitted)
    else:
        assert isinstance(result, Rejection)
        assert result.reason in {RejectReason.UNKNOWN_SCALE_LEVEL, RejectReason.INVALID_FIELD,
                                 RejectReason.RAW_PERSONAL_IDENTITY_NUMBER}
        if result.reason is RejectReason.UNKNOWN_SCALE_LEVEL:  # names what is declared, never what was sent
            assert result.message in DECLARED_MESSAGES


def test_in_replay_a_survey_response_is_counted_accepted_and_changes_no_person_or_unit() -> None:
    """Dropped when no programme is followed, as for any event nobody follows."""
    m = Monitor(CONFIG, Pseudonymiser(KEY))
    result = m.process(survey(person_id="pat-7"), NOW)
    m.finish()
    assert result.rejection is None and not result.flags
    assert m.tally.accepted == 1 and m.tally.by_type["survey_response"] == 1
    assert m.persons == {} and m.units == {} and m.surveys.answers == {}


def test_the_readme_s_example_lines_are_admitted() -> None:
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[3] / "docs" / "event-contract.md").read_text(encoding="utf-8")
    block = re.search(r"Examples of the additions, one line each:\n\n```json\n(.*?)```", readme, re.S)
    assert block is not None
    scales = {"safety-5": ("not at all safe", "slightly safe", "fairly safe", "safe", "very safe")}
    lines = block.group(1).splitlines()
    assert len(lines) == 3
    for line in lines:
        assert isinstance(door(line, MonitorConfig(survey_scales=scales)), Admitted), line


def _read_organisation(value: str) -> str | tuple[str, str]:
    try:
        return _organisation_number(value)
    except PydanticCustomError as exc:
        return exc.type, exc.message()


@STRICT
@given(value=st.one_of(organisation_numbers, st.from_regex(r"\A[0-9]{6}-?[0-9]{4}\Z"),
                       organisation_numbers.map(lambda org: f"{org[:6]}-{org[6:]}")))
def test_an_organisation_number_read_from_the_cache_is_read_as_afresh(value: str) -> None:
    """The check is cached per string (its errors are raised again, each time): asked twice, the same answer
    as the check not cached."""
    fresh = _organisation_number.__wrapped__
    try:
        expected: str | tuple[str, str] = fresh(value)
    except PydanticCustomError as exc:
        expected = exc.type, exc.message()
    assert _read_organisation(value) == expected
    assert _read_organisation(value) == expected
