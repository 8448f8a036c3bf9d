"""What the operator configures about programmes: their kind, what outcomes cost and what a programme costs.
Data only, beside `config.py` (which holds it); `core/programme/` computes with it.

The cost defaults are placeholders of the right order of magnitude, each saying where a municipality or
region finds its own figure; a steering group's report prints the table's version and source beside every SEK.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ProgrammeKind(StrEnum):
    CARE = "care"
    HR = "hr"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SickLeaveCost(_Frozen):
    """The employer's cost of a sick day, from the employee's monthly salary (rule of thumb)."""

    monthly_salary_sek: float = Field(default=36_000.0, ge=0, description="Default for a unit without its own.")
    salary_by_unit: dict[str, float] = Field(default_factory=dict, description="Monthly salary per unit, SEK.")
    short_term_days: int = Field(default=14, ge=0, description="Days 1..N of an occasion: the sick-pay period.")
    short_day_share: float = Field(default=0.10, ge=0, description="Of a monthly salary, per short-term day.")
    long_day_share: float = Field(default=0.025, ge=0, description="Of a monthly salary, per later day.")

    def salary(self, unit_id: str) -> float:
        return self.salary_by_unit.get(unit_id, self.monthly_salary_sek)

    def short_day(self, unit_id: str) -> float:
        return self.short_day_share * self.salary(unit_id)

    def long_day(self, unit_id: str) -> float:
        return self.long_day_share * self.salary(unit_id)


DEFAULT_SOURCE = (
    "Defaults to be replaced with the organisation's own figures. Sick leave: the rule of thumb that a sick "
    "day costs the employer about 10% of a monthly salary in days 1-14 (sick pay, social fees, lost "
    "production) and about 2.5% per later day, on a monthly salary of 36,000 SEK (configuration keys "
    "`cost.monthly_salary_sek` and `cost_table.sick_leave`). Inpatient day and ED visit (configuration key "
    "`cost_table`): round figures of the order of the national averages in SKR's "
    "Kostnad per patient (KPP) database for somatic care; replace with the region's own KPP figures. "
    "Home-care hour: a round figure of the order municipalities report as cost per hour of home care "
    "(Kolada / Socialstyrelsen's open comparisons); replace with the municipality's own."
)


class CostTable(_Frozen):
    """Unit costs of the outcomes a programme may change, in SEK, with their version and source."""

    version: str = "2025.1-default"
    source: str = DEFAULT_SOURCE
    currency: str = "SEK"
    inpatient_day_sek: float = Field(default=10_000.0, ge=0, description="An unplanned inpatient (bed) day.")
    ed_visit_sek: float = Field(default=4_000.0, ge=0, description="A visit to an emergency department.")
    home_care_hour_sek: float = Field(default=650.0, ge=0, description="An hour of unplanned home care.")
    sick_leave: SickLeaveCost = SickLeaveCost()


class ProgrammeCost(_Frozen):
    """What the programme itself costs per month: a fixed part (the team) and a part per enrolled person."""

    version: str = Field(default="1", description="Printed beside every SEK of the report.")
    source: str = Field(default="The programme's budget (to be stated by the programme owner).",
                        description="Where the figures come from; printed beside every SEK of the report.")
    fixed_per_month_sek: float = Field(default=0.0, ge=0, description="The team's cost a month, SEK.")
    per_enrolled_month_sek: float = Field(default=0.0, ge=0, description="Per enrolled person and month, SEK.")
    start_month: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}$",
                                    description="First month the programme costs (default: its first enrolment).")
    contract_years: int = Field(default=3, ge=1, description="Years of the contract (net per contract year).")

    def month_cost(self, enrolled: int) -> float:
        return self.fixed_per_month_sek + self.per_enrolled_month_sek * enrolled


EligibilityMeasure = Literal["admissions", "inpatient_days", "ed_visits", "home_care_unplanned", "sick_days",
                             "sick_occasions"]


class Criterion(_Frozen):
    """One way to be eligible: `measure` summed over the `days` days before the date is at least `at_least`
    (e.g. admissions >= 2 in 60 days)."""

    measure: EligibilityMeasure = Field(description="The outcome counted (admissions: unplanned ones).")
    at_least: float = Field(gt=0, description="Eligible when the sum over the days is at least this.")
    days: int = Field(ge=1, le=365, description="The days before the date that are summed.")


class ProgrammeConfig(_Frozen):
    """A programme followed for its outcomes: members are those with an `enrollment` of this `program`."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[^\W_][\w .-]*$",
                      description="The `program` of the programme's enrolment events.",
                      json_schema_extra={"allowed": "1-64 letters (å, ä, ö too), digits, spaces, '.', '_' and "
                                                    "'-', beginning with a letter or a digit"})
    kind: ProgrammeKind = Field(description="care: inpatient days, ED visits, unplanned home care; hr: sick "
                                "days, occasions, short and long absence.")
    window_months: int = Field(default=6, ge=1, le=24, description="Months before enrolment (the before-level).")
    after_months: int | None = Field(default=None, ge=1, le=60, description="Months followed after enrolment; "
                                     "None: as many as before. A contract paid by what it saves: 36.")
    cost: ProgrammeCost = Field(default_factory=ProgrammeCost, description="What the programme costs a month.")
    surveys: tuple[str, ...] = Field(default=(), description="Survey instruments reported with the programme: "
                                     "per question, answers by quarter (`survey_response` events).")
    gives_consent: bool = Field(
        default=False, description="Joining this HR programme is an employee's consent to their person-level "
        "flags reaching an HR partner (leaving it withdraws it). At most one programme declares it; when none "
        "does, the consent programmes are `consent.hr_programmes` (default: \"health-support\").")
    eligible_if: tuple[Criterion, ...] = Field(
        default=(), description="Who the programme is for, as its team decides: eligible on a date when any of "
        "these holds over the person's own outcomes before it. Each enrolment is compared with persons of the "
        "same unit eligible on the same day; none declared: with anyone not enrolled (a weaker comparison).")
