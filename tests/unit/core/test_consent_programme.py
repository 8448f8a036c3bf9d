"""Which programme's membership is an employee's consent: the one whose configuration says `gives_consent`,
else those of `consent.hr_programmes` (default "health-support", which existing configurations rely on)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from streams.core.config import ConsentConfig, MonitorConfig
from streams.core.monitor import Tally, TallyCounts
from streams.core.person.tracker import PersonState
from streams.core.programme_config import ProgrammeConfig
from streams.core.pseudonym import Pseudonymiser
from streams.core.stages import Admit, Admitted, PersonStage, person_input
from tests.helpers import KEY, NOW, day_epoch, event


def _consent_given(config: MonitorConfig, program: str) -> list[tuple[str, bool]]:
    """The consent changes the persons stage sends for one employee joining `program`."""
    admitted = Admit(config, Pseudonymiser(KEY))(event("enrollment", 0, program=program, person_id="emp-1"), NOW,
                                                 None, lambda _: day_epoch(0), TallyCounts(Tally()))
    assert isinstance(admitted, Admitted), admitted
    step = PersonStage(config).step(PersonState(), person_input(admitted, config.timezone), TallyCounts(Tally()))
    return [(c.program, c.joined) for c in step.consent]


def _hr(name: str, gives_consent: bool = False) -> ProgrammeConfig:
    return ProgrammeConfig(name=name, kind="hr", gives_consent=gives_consent)  # type: ignore[arg-type]


def test_a_programme_declared_in_its_own_configuration_gives_consent() -> None:
    config = MonitorConfig(programmes=(_hr("Hälsostöd", gives_consent=True), _hr("friskvård")))
    assert _consent_given(config, "Hälsostöd") == [("Hälsostöd", True)]
    assert _consent_given(config, "friskvård") == []
    # the declared one takes the default's place: "health-support" is not consent here
    assert _consent_given(config, "health-support") == []


def test_without_a_declaration_the_configured_or_default_names_give_it() -> None:
    assert _consent_given(MonitorConfig(programmes=(_hr("Hälsostöd"),)), "Hälsostöd") == []
    assert _consent_given(MonitorConfig(), "health-support") == [("health-support", True)]
    named = MonitorConfig(consent=ConsentConfig(hr_programmes=("stöd",)), programmes=(_hr("ny", True),))
    assert {p for p, _ in _consent_given(named, "stöd") + _consent_given(named, "ny")} == {"stöd", "ny"}


def test_at_most_one_programme_gives_consent_and_only_an_hr_one() -> None:
    with pytest.raises(ValidationError, match="at most one programme is the consent programme; declared by a, b"):
        MonitorConfig(programmes=(_hr("a", True), _hr("b", True)))
    with pytest.raises(ValidationError, match="only an hr programme gives consent"):
        MonitorConfig(programmes=(ProgrammeConfig(name="team", kind="care", gives_consent=True),))  # type: ignore[arg-type]
