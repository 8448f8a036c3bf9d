"""Everything a steering group sees about one programme in one quarter, computed once: the report renders
these figures and nothing else, and writes them beside the charts so that a test can hold one to the other."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from streams.core.programme.cohort import COST_SEK, OUTCOMES, Cohort, ProgrammeSpec, build_cohort
from streams.core.programme.diagnostics import Diagnostics, diagnose
from streams.core.programme.estimate import ALL, Effect, EstimatorConfig, Figure, estimate, paired_levels, trials_of
from streams.core.programme.ledger import PersonLedger
from streams.core.programme.money import cost_start
from streams.core.programme.month_totals import HOME_CARE_PLANNED
from streams.core.programme.months import Month, month_label, quarter_months
from streams.core.programme.ordinal import (
    Comparison,
    Distribution,
    OrdinalScale,
    SurveyAnswer,
    compare,
    distribution,
)
from streams.core.programme.trial import Trials
from streams.core.programme_config import CostTable, ProgrammeCost, ProgrammeKind

QUARTER = "quarter"
CUMULATIVE = "cumulative"


@dataclass(frozen=True, slots=True)
class Inputs:
    """Who was in the programme and what it cost. Person counts of 10 or fewer are None (suppressed)."""

    enrolled_to_date: int | None
    new_in_quarter: int | None
    active_in_quarter: int | None
    left_in_quarter: int | None
    cost_in_quarter_sek: float | None  # None: a cost per person over 1 to 10 persons (it would count them)
    cost_to_date_sek: float | None


@dataclass(frozen=True, slots=True)
class Money:
    """Avoided cost (from the reference-adjusted effect), the programme's cost and the net, over a group
    of calendar months. None figures: suppressed."""

    group: str
    months: tuple[str, ...]
    persons: int | None
    avoided_sek: Figure | None
    programme_cost_sek: float | None
    net_sek: Figure | None


@dataclass(frozen=True, slots=True)
class SurveyResult:
    question: str
    scale: tuple[str, ...]
    periods: tuple[str, ...]
    distributions: tuple[Distribution | None, ...]
    comparison: Comparison | None  # the last period shown against the first shown
    instrument: str = ""


@dataclass(frozen=True, slots=True)
class OrganisationEffects:
    """The effects among the members one organisation enrolled (the `organisation` of their enrolment event),
    per outcome over all after-months, against the same references. Per person-month, so comparable across
    organisations of different sizes. `members` None and every effect suppressed: 10 or fewer members, or
    another organisation (or the members without one) has so few that its figures could be subtracted."""

    organisation: str
    members: int | None
    effects: dict[str, Effect]  # measure -> effect over all after-months


@dataclass(slots=True)
class ProgrammeResults:
    programme: str
    kind: str
    quarter: str
    as_of: str
    window_months: int
    after_months: int
    cost_table: CostTable
    programme_cost: ProgrammeCost
    inputs: Inputs
    process: dict[str, float | None]
    effects: dict[str, dict[str, Effect]]  # measure -> group (all, quarter) -> effect
    paired: dict[str, list[tuple[float, float]] | None]
    money: list[Money]
    surveys: list[SurveyResult] = field(default_factory=list)
    organisations: list[OrganisationEffects] = field(default_factory=list)  # by organisation number
    diagnostics: Diagnostics | None = None  # None: 10 or fewer members with a reference

    def published(self) -> dict[str, Any]:
        """The figures without the per-person pairs (each member's own before and after level): what goes on
        a topic any consumer reads, and what replay writes. Only the steering group's report draws them, as
        anonymous dots."""
        return {k: v for k, v in self.figures().items() if k != "paired"}

    def figures(self) -> dict[str, Any]:
        """Every number the report shows, as JSON values (the report embeds exactly this)."""
        out = asdict(self)
        out["cost_table"] = self.cost_table.model_dump()
        out["programme_cost"] = self.programme_cost.model_dump()
        return _rounded(out)


def _rounded(x: Any) -> Any:
    if isinstance(x, float):
        return round(x, 4)
    if isinstance(x, dict):
        return {str(k): _rounded(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_rounded(v) for v in x]
    return x


def _suppress(n: int, min_group: int) -> int | None:
    """A count of 1 to 10 persons is not shown (None); 0 is shown: it tells of no one."""
    return n if n >= min_group or n == 0 else None


def _active(cohort: Cohort, m: Month) -> int:
    return sum(1 for mem in cohort.members
               if mem.enrol_month <= m and (mem.left_month is None or mem.left_month >= m))


def _spent(cohort: Cohort, cost: ProgrammeCost, months: Iterable[Month], start: Month, min_group: int) -> float | None:
    """What the programme cost over `months`. With a cost per enrolled person the sum tells how many were
    enrolled: then it is None (suppressed) when 1 to 10 persons were active in those months."""
    counted = [m for m in months if start <= m <= cohort.as_of]
    if cost.per_enrolled_month_sek > 0:
        active = {mem.person for m in counted for mem in cohort.members
                  if mem.enrol_month <= m and (mem.left_month is None or mem.left_month >= m)}
        if 0 < len(active) < min_group:
            return None
    return sum(cost.month_cost(_active(cohort, m)) for m in counted)


def _money(cohort: Cohort, cost: ProgrammeCost, effects: Mapping[str, Effect], groups: Mapping[str, frozenset[Month]],
           start: Month, min_group: int) -> list[Money]:
    out = []
    for name, months in groups.items():
        spent = _spent(cohort, cost, months, start, min_group)
        e = effects[name]
        if e.suppressed or e.total is None or spent is None:
            out.append(Money(name, tuple(month_label(m) for m in sorted(months)), None, None, spent, None))
            continue
        avoided = Figure(-e.total.value, -e.total.high, -e.total.low)
        net = Figure(avoided.value - spent, avoided.low - spent, avoided.high - spent)
        out.append(Money(name, tuple(month_label(m) for m in sorted(months)), e.persons, avoided, spent, net))
    return out


def programme_results(ledgers: Mapping[str, PersonLedger], spec: ProgrammeSpec, quarter: str, costs: CostTable,
                      programme_cost: ProgrammeCost, cfg: EstimatorConfig | None = None,
                      surveys: Sequence[tuple[OrdinalScale, Sequence[SurveyAnswer]]] = (),
                      references: str = "eligible") -> ProgrammeResults:
    """The figures of one programme for the quarter `2025Q3`: data up to the quarter's end. `references`:
    "never_eligible" only to show what the diagnostics say of a wrong design."""
    cfg = cfg or EstimatorConfig()
    q = quarter_months(quarter)
    cohort = build_cohort(ledgers, spec, costs, as_of=q[-1])
    qset = frozenset(m for m in q if m <= cohort.as_of)
    first = min((mem.enrol_month for mem in cohort.members), default=q[0])
    start = cost_start(programme_cost, first)
    to_date = frozenset(range(start, cohort.as_of + 1))
    groups: dict[str, frozenset[Month]] = {QUARTER: qset, CUMULATIVE: to_date}
    for year in range(programme_cost.contract_years):
        months = frozenset(m for m in range(start + 12 * year, start + 12 * year + 12) if m <= cohort.as_of)
        if months:
            groups[f"contract year {year + 1}"] = months
    trials = trials_of(cohort, cfg, references)  # one set of trials for all measures
    effects: dict[str, dict[str, Effect]] = {}
    for measure in OUTCOMES[spec.kind]:
        effects[measure] = estimate(cohort, measure, {QUARTER: qset}, cfg, trials)
    cost_effects = estimate(cohort, COST_SEK, groups, cfg, trials)
    effects[COST_SEK] = {ALL: cost_effects[ALL], QUARTER: cost_effects[QUARTER]}
    mg = cfg.min_group_size
    inputs = Inputs(
        enrolled_to_date=_suppress(len(cohort.members), mg),
        new_in_quarter=_suppress(sum(1 for mem in cohort.members if mem.enrol_month in qset), mg),
        active_in_quarter=_suppress(max((_active(cohort, m) for m in qset), default=0), mg),
        left_in_quarter=_suppress(sum(1 for mem in cohort.members if mem.left_month in qset), mg),
        cost_in_quarter_sek=_spent(cohort, programme_cost, qset, start, mg),
        cost_to_date_sek=_spent(cohort, programme_cost, to_date, start, mg),
    )
    return ProgrammeResults(
        programme=spec.name, kind=spec.kind.value, quarter=quarter.upper(), as_of=month_label(cohort.as_of),
        window_months=spec.window_months, after_months=spec.after_window, cost_table=costs,
        programme_cost=programme_cost, inputs=inputs,
        process=_process(cohort, qset, mg), effects=effects,
        paired={m: paired_levels(cohort, m, mg) for m in (*OUTCOMES[spec.kind], COST_SEK)},
        money=_money(cohort, programme_cost, cost_effects, groups, start, mg),
        surveys=[_survey(scale, answers, mg) for scale, answers in surveys],
        organisations=_by_organisation(cohort, (*OUTCOMES[spec.kind], COST_SEK), cfg, trials),
        # about the members as a group: none for 10 or fewer (their trajectories would describe them)
        diagnostics=diagnose(trials, OUTCOMES[spec.kind][0], mg) if len(trials.members) >= mg else None,
    )


def _by_organisation(cohort: Cohort, measures: Sequence[str], cfg: EstimatorConfig,
                     trials: Trials) -> list[OrganisationEffects]:
    """Per organisation of the members' enrolments, each measure's effect over all after-months: the estimate
    over the cohort restricted to that organisation's members (their matches among the cohort's)."""
    organisations = sorted({m.organisation for m in cohort.members if m.organisation})
    sizes = Counter(m.organisation for m in cohort.members)  # members without an organisation too (None)
    # One small group is enough to hide them all: its figures would be the whole's minus the others'.
    any_small = any(n < cfg.min_group_size for n in sizes.values())
    out = []
    for org in organisations:
        members = sizes[org]
        if any_small:
            out.append(OrganisationEffects(org, None, {m: Effect(m, ALL, True) for m in measures}))
            continue
        effects = {m: estimate(cohort, m, None, cfg, trials, organisation=org)[ALL] for m in measures}
        out.append(OrganisationEffects(org, members, effects))
    return out


def with_surveys(results: ProgrammeResults, surveys: Sequence[tuple[OrdinalScale, Sequence[SurveyAnswer]]],
                 min_group: int) -> ProgrammeResults:
    """The results with (more) survey outcomes beside them: each question's distributions per period, and
    the last period against the first."""
    return replace(results, surveys=[*results.surveys,
                                     *(_survey(scale, answers, min_group) for scale, answers in surveys)])


def _process(cohort: Cohort, qset: frozenset[Month], min_group: int) -> dict[str, float | None]:
    """What the programme did: contacts per member-month in the quarter (care), members per month."""
    out: dict[str, float | None] = {}
    active = [(mem, m) for m in sorted(qset) for mem in cohort.members
              if mem.enrol_month <= m and (mem.left_month is None or mem.left_month >= m)]
    members = {mem.person for mem, _ in active}
    out["member_months_in_quarter"] = float(len(active)) if len(members) >= min_group else None
    if cohort.spec.kind == ProgrammeKind.CARE:
        i = cohort.measures.index(HOME_CARE_PLANNED)
        contacts = sum(cohort.series[mem.person].value(m, i) for mem, m in active)
        out["planned_home_care_contacts_per_member_month"] = (
            contacts / len(active) if len(members) >= min_group else None)
    return out


def _survey(scale: OrdinalScale, answers: Sequence[SurveyAnswer], min_group: int) -> SurveyResult:
    periods = tuple(sorted({a.period for a in answers}))
    by_period = [[a.level for a in answers if a.period == p] for p in periods]
    shown = [b for b in by_period if len(b) >= min_group]  # the first and last periods that are shown at all
    comparison = compare(scale, shown[-1], shown[0], min_group_size=min_group) if len(shown) > 1 else None
    question = answers[0].question if answers else ""
    instrument = answers[0].instrument if answers else ""
    return SurveyResult(question, scale.levels, periods, tuple(distribution(scale, b, min_group) for b in by_period),
                        comparison, instrument)
