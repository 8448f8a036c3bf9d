"""What Prometheus shows of a programme (issue 15): the report's figures, each effect with its interval,
nothing for a cohort of 10 or fewer, only the latest quarter, and no person anywhere. The figures come
from a simulated scenario (programme_scenarios, made small) through the core's `programme_results`."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from streams.core.programme.cohort import COST_SEK, ProgrammeKind, ProgrammeSpec
from streams.core.programme.estimate import EstimatorConfig
from streams.core.programme.ledger import SICK_OCCASIONS, LedgerBook, PersonLedger
from streams.core.programme.money import CostTable
from streams.core.programme.results import CUMULATIVE, programme_results
from streams.models.events import EVENT_ADAPTER, Staffing
from streams.observe.metric_names import MetricName
from streams.observe.metrics import Metrics
from streams.observe.programme_metrics import ProgrammeGauges, metric_values
from streams.simulators.programme_scenarios import SCENARIOS, ProgrammeScenario, run

Series = dict[tuple[str, tuple[tuple[str, str], ...]], float]

# The hr scenario on 4 units instead of 10 (~27 enrolled, about a second), and a pilot on one unit (6).
HR = dataclasses.replace(SCENARIOS["hr"], units=4)
PILOT = dataclasses.replace(SCENARIOS["hr"], program="small-pilot", units=1)
FAST = EstimatorConfig(bootstrap=200)


def _ledgers(sc: ProgrammeScenario) -> dict[str, PersonLedger]:
    book = LedgerBook()
    for line in run(sc).lines:
        event = EVENT_ADAPTER.validate_json(line)
        if not isinstance(event, Staffing):
            book.add(event)
    return book.persons


def _figures(sc: ProgrammeScenario, ledgers: dict[str, PersonLedger], quarter: str) -> dict[str, Any]:
    results = programme_results(ledgers, ProgrammeSpec(sc.program, ProgrammeKind(sc.kind)), quarter, CostTable(),
                                sc.cost, FAST)
    return results.figures()


@pytest.fixture(scope="module")
def hr_ledgers() -> dict[str, PersonLedger]:
    return _ledgers(HR)


@pytest.fixture(scope="module")
def q3(hr_ledgers: dict[str, PersonLedger]) -> dict[str, Any]:
    return _figures(HR, hr_ledgers, "2025Q3")


@pytest.fixture(scope="module")
def q2(hr_ledgers: dict[str, PersonLedger]) -> dict[str, Any]:
    return _figures(HR, hr_ledgers, "2025Q2")


def scraped(registry: CollectorRegistry) -> Series:
    """Every programme series as /metrics shows it: (name, sorted labels) -> value."""
    out: Series = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            if sample.name.startswith("outcome_programme_"):
                out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def labels(**values: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(values.items()))


def _registry_with(*figures: dict[str, Any]) -> CollectorRegistry:
    """A fresh registry with the programme gauges, given these figures in this order."""
    registry = CollectorRegistry()
    gauges = ProgrammeGauges(registry)
    for f in figures:
        gauges.set_results(f)
    return registry


def published(figures: dict[str, Any]) -> Series:
    return scraped(_registry_with(figures))


def test_the_effect_is_published_as_the_report_shows_it_with_its_interval(q3: dict[str, Any]) -> None:
    shown = published(q3)
    programme, quarter = HR.program, "2025Q3"
    figure = q3["effects"][SICK_OCCASIONS]["all"]
    assert figure["suppressed"] is False
    at = labels(programme=programme, quarter=quarter, measure=SICK_OCCASIONS, period="all")
    assert shown[("outcome_programme_effect_per_person_month", at)] == figure["effect"]["value"]
    assert shown[("outcome_programme_effect_per_person_month_lower", at)] == figure["effect"]["low"]
    assert shown[("outcome_programme_effect_per_person_month_upper", at)] == figure["effect"]["high"]
    assert shown[("outcome_programme_relative_effect_ratio", at)] == figure["relative"]["value"]
    assert shown[("outcome_programme_relative_effect_lower_ratio", at)] == figure["relative"]["low"]
    assert shown[("outcome_programme_relative_effect_upper_ratio", at)] == figure["relative"]["high"]
    assert shown[("outcome_programme_counterfactual_per_person_month", at)] == figure["counterfactual"]["value"]
    assert shown[("outcome_programme_before_per_person_month", at)] == figure["before"]
    assert shown[("outcome_programme_after_per_person_month", at)] == figure["after"]
    assert shown[("outcome_programme_persons", at)] == figure["persons"]
    assert shown[("outcome_programme_reference_persons", at)] == figure["reference_persons"]
    cohort = labels(programme=programme, quarter=quarter)
    assert shown[("outcome_programme_enrolled", cohort)] == q3["inputs"]["enrolled_to_date"] > 10
    assert shown[("outcome_programme_active", cohort)] == q3["inputs"]["active_in_quarter"]


def test_every_effect_and_money_period_has_its_value_and_both_bounds(q3: dict[str, Any]) -> None:
    shown = published(q3)
    for measure, groups in q3["effects"].items():
        for period, effect in groups.items():
            at = labels(programme=HR.program, quarter="2025Q3", measure=measure, period=period)
            for name in ("effect_per_person_month", "counterfactual_per_person_month"):
                got = [shown.get((f"outcome_programme_{name}{bound}", at)) for bound in ("_lower", "", "_upper")]
                assert None not in got, (measure, period, name)
                assert got[0] <= got[1] <= got[2]  # type: ignore[operator]
            assert ("outcome_programme_relative_effect_lower_ratio", at) in shown
            assert effect["measure"] == measure
    assert {m["group"] for m in q3["money"]} == {"quarter", CUMULATIVE, "contract year 1", "contract year 2"}
    for row in q3["money"]:
        at = labels(programme=HR.program, quarter="2025Q3", period=row["group"])
        assert shown[("outcome_programme_cost_sek", at)] == row["programme_cost_sek"]
        assert shown[("outcome_programme_avoided_sek", at)] == row["avoided_sek"]["value"]
        assert shown[("outcome_programme_net_sek_lower", at)] == row["net_sek"]["low"]
        assert shown[("outcome_programme_net_sek_upper", at)] == row["net_sek"]["high"]
    cumulative = labels(programme=HR.program, quarter="2025Q3", period=CUMULATIVE)
    assert shown[("outcome_programme_net_sek", cumulative)] == pytest.approx(
        shown[("outcome_programme_avoided_sek", cumulative)] - shown[("outcome_programme_cost_sek", cumulative)],
        abs=1e-3)
    assert (("outcome_programme_effect_per_person_month",
             labels(programme=HR.program, quarter="2025Q3", measure=COST_SEK, period="all")) in shown)


def test_metrics_shows_exactly_what_metric_values_says_also_from_the_reports_json(q3: dict[str, Any]) -> None:
    """The integration test holds the HTML report's embedded figures to /metrics through metric_values."""
    from_json = json.loads(json.dumps(q3))
    assert published(from_json) == metric_values(from_json) == metric_values(q3)
    assert {name for name, _ in metric_values(q3)} <= (
        {str(m) for m in MetricName if m.startswith("outcome_programme_")}
        | {f"outcome_programme_{n}_{b}" for n in ("effect_per_person_month", "counterfactual_per_person_month",
                                                    "avoided_sek", "net_sek") for b in ("lower", "upper")}
        | {"outcome_programme_relative_effect_lower_ratio", "outcome_programme_relative_effect_upper_ratio",
           "outcome_programme_placebo_relative_lower_ratio", "outcome_programme_placebo_relative_upper_ratio"})


def test_a_cohort_of_10_or_fewer_publishes_no_series_at_all() -> None:
    figures = _figures(PILOT, _ledgers(PILOT), "2025Q3")
    assert figures["inputs"]["enrolled_to_date"] is None  # 6 enrolled: suppressed
    assert all(e["suppressed"] for groups in figures["effects"].values() for e in groups.values())
    assert metric_values(figures) == {}
    text = generate_latest(_registry_with(figures)).decode()
    assert PILOT.program not in text
    assert not [line for line in text.splitlines() if line.startswith("outcome_programme_")]


def test_a_new_quarter_replaces_the_old_quarters_series(q2: dict[str, Any], q3: dict[str, Any]) -> None:
    assert published(q2)  # the earlier quarter has figures of its own
    shown = scraped(_registry_with(q2, q3))
    assert shown == metric_values(q3)
    assert {dict(lab)["quarter"] for _, lab in shown} == {"2025Q3"}


def test_a_figure_that_becomes_suppressed_disappears_and_other_programmes_stay(q3: dict[str, Any]) -> None:
    other = {**q3, "programme": "other-programme"}
    later = json.loads(json.dumps(q3))
    later["effects"][SICK_OCCASIONS]["quarter"] = {**later["effects"][SICK_OCCASIONS]["quarter"], "suppressed": True,
                                                   **{k: None for k in ("persons", "reference_persons", "before",
                                                                        "after", "counterfactual", "effect",
                                                                        "relative", "total", "naive")}}
    shown = scraped(_registry_with(other, q3, later))
    gone = labels(programme=HR.program, quarter="2025Q3", measure=SICK_OCCASIONS, period="quarter")
    assert not [key for key in shown if key[1] == gone]
    assert ("outcome_programme_persons", gone) in metric_values(q3)
    assert shown == {**metric_values(other), **metric_values(later)}


def test_the_worker_metrics_carry_the_programme_gauges(q3: dict[str, Any]) -> None:
    metrics = Metrics(CollectorRegistry())
    metrics.programmes.set_results(q3)
    assert scraped(metrics.registry) == metric_values(q3)


def test_no_label_names_a_person(hr_ledgers: dict[str, PersonLedger], q3: dict[str, Any]) -> None:
    shown = published(q3)
    assert shown
    names = {k for _, lab in shown for k, _ in lab}
    assert names <= {"programme", "quarter", "measure", "period"}
    values = {v for _, lab in shown for _, v in lab}
    assert not values & set(hr_ledgers)  # the person keys the figures were computed from
    assert not [v for v in values if v.startswith(("emp-", "pat-", "p_"))]


def _by_organisation(hr_ledgers: dict[str, PersonLedger], orgs: dict[str, str]) -> dict[str, Any]:
    """The hr figures with each member's enrolment naming the organisation responsible for their unit."""
    ledgers = {k: dataclasses.replace(p, enrolments={e: [*row[:6], orgs[row[4]]] for e, row in p.enrolments.items()})
               for k, p in hr_ledgers.items()}
    return dict(json.loads(json.dumps(_figures(HR, ledgers, "2025Q3"))))


def test_each_organisation_shows_its_effect_per_person_month(hr_ledgers: dict[str, PersonLedger]) -> None:
    figures = _by_organisation(hr_ledgers, {"hr-unit-00": "232100-0016", "hr-unit-01": "232100-0016",
                                            "hr-unit-02": "212000-0142", "hr-unit-03": "212000-0142"})
    assert all(o["members"] is not None and o["members"] > 10 for o in figures["organisations"])
    shown = {dict(k[1])["organisation"] for k in metric_values(figures) if "organisation" in dict(k[1])}
    assert shown == {"232100-0016", "212000-0142"}
    registry = _registry_with(figures)
    effect = MetricName.PROGRAMME_ORGANISATION_EFFECT_PER_PERSON_MONTH
    for org in figures["organisations"]:
        for measure, e in org["effects"].items():
            key = (effect.value, labels(measure=measure, organisation=org["organisation"], programme=HR.program,
                                        quarter="2025Q3"))
            if e["suppressed"]:
                assert key not in scraped(registry)
            else:
                assert scraped(registry)[key] == pytest.approx(e["effect"]["value"])


def test_one_organisation_of_10_or_fewer_members_hides_every_organisation(hr_ledgers: dict[str, PersonLedger]) -> None:
    """Its figures would be the programme's minus the other organisation's: none is shown."""
    figures = _by_organisation(hr_ledgers, {"hr-unit-00": "232100-0016", "hr-unit-01": "232100-0016",
                                            "hr-unit-02": "232100-0016", "hr-unit-03": "212000-0142"})
    assert figures["effects"][SICK_OCCASIONS]["all"]["persons"] > 10  # the programme's own figures stay
    assert [o["members"] for o in figures["organisations"]] == [None, None]
    assert not [k for k in metric_values(figures) if "organisation" in dict(k[1])]


def test_a_cost_per_enrolled_person_does_not_count_a_small_cohort_for_anyone() -> None:
    """800 SEK per enrolled person-month over 6 persons: the sum would tell how many; it is not shown."""
    assert PILOT.cost.per_enrolled_month_sek > 0
    figures = _figures(PILOT, _ledgers(PILOT), "2025Q3")
    assert figures["inputs"]["enrolled_to_date"] is None
    assert figures["inputs"]["cost_in_quarter_sek"] is None and figures["inputs"]["cost_to_date_sek"] is None
    assert all(m["programme_cost_sek"] is None and m["net_sek"] is None for m in figures["money"])
    fixed_only = dataclasses.replace(PILOT, cost=PILOT.cost.model_copy(update={"per_enrolled_month_sek": 0.0}))
    shown = _figures(fixed_only, _ledgers(fixed_only), "2025Q3")
    assert shown["inputs"]["cost_to_date_sek"] > 0  # a fixed budget counts nobody: shown
