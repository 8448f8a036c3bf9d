"""What the operator configures: rule thresholds, windows, costs. Separate from learned state."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from streams.core.programme_config import CostTable, ProgrammeConfig, ProgrammeKind, SickLeaveCost
from streams.models.vocab import UnitOutcome


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RuleConfig(_Frozen):
    repeated_sick_leave_occasions: int = Field(default=6, ge=1)
    repeated_sick_leave_window_days: int = Field(default=365, ge=1)
    long_sick_leave_days: int = Field(default=15, ge=2, description="Employer sick pay ends at day 14.")
    occasion_gap_days: int = Field(
        default=5, ge=0, description="A sick day within this many days of the last one continues it."
    )
    frequent_emergency_visits: int = Field(default=4, ge=1)
    frequent_emergency_window_days: int = Field(default=365, ge=1)
    readmission_window_days: int = Field(default=30, ge=1)


class CostConfig(_Frozen):
    monthly_salary_sek: float = Field(default=36_000.0, ge=0)
    short_term_days: int = Field(default=14, ge=0, description="Days 1..N of an occasion are short-term.")
    short_term_day_share: float = Field(default=0.10, ge=0, description="Of a monthly salary, per day.")
    long_term_day_share: float = Field(default=0.025, ge=0, description="Of a monthly salary, per day.")


class DriftConfig(_Frozen):
    detector: str = Field(default="nb_cusum", pattern=r"^[a-z][a-z0-9_]*$",
                          description="A `kind` of `streams.core.org.detectors.DETECTORS`: nb_cusum, cusum, "
                          "page_hinkley.")
    signal: Literal["occasions", "sick_days"] = Field(
        default="occasions",
        description="Occasions are near-Poisson and lead days; days are dominated by a few long spells.",
    )
    warmup_weeks: int = Field(default=12, ge=2, description="Weeks of data that set a unit's baseline.")
    outcome_warmup_weeks: dict[UnitOutcome, int] = Field(
        default_factory=lambda: {o: 26 for o in (UnitOutcome.ED_VISITS, UnitOutcome.INPATIENT_DAYS,
                                                  UnitOutcome.READMISSIONS)},
        description="`warmup_weeks` per unit outcome, where it differs. A care unit's outcomes are monitored "
        "once a year of history has filled its care population, all units at once: their dispersion "
        "(persons' bad months, stays in lumps) is learned from their own weeks and each other's, and 12 weeks "
        "of all of them understated it (make drift-eval, field part).")
    baseline_prior_weight: float = Field(
        default=10.0, ge=0, description="Expected events' worth of shrinkage of a baseline towards 1."
    )
    shift: float | None = Field(default=None, gt=1, description="The rate ratio the detector is tuned to "
                                "find; None: the detector's own default (1.75 for each).")
    threshold: float | None = Field(default=None, gt=0, description="Decision interval h (log-likelihood "
                                    "units); None: the detector's own default (nb_cusum 5.5, the others 5.0).")
    outcome_thresholds: dict[UnitOutcome, float] = Field(
        default_factory=lambda: {UnitOutcome.ED_VISITS: 7.0, UnitOutcome.INPATIENT_DAYS: 7.0},
        description="The decision interval h per unit outcome, where it differs from `threshold`. ED visits "
        "and inpatient days of care units are counts of tens a week with little dispersion, where h 5.5 "
        "gave 0.06-0.075 false alarms per unit-year (make drift-eval); h 7 gives 0.01-0.03.")
    outcome_level_min_ratios: dict[UnitOutcome, float] = Field(
        default_factory=lambda: {UnitOutcome.INPATIENT_DAYS: 1.75},
        description="`level_min_ratio` per unit outcome, where it differs. Inpatient days come in lumps (a "
        "frail person's two-week stay is 14 bed-days): at 1.5x, 6.7% of care units of 100 persons without a "
        "change were level-flagged in two years (make drift-eval, counted on the discharge day), at 1.75x 2.1%.")
    calibrated: bool | None = Field(
        default=None, description="Pool each unit's dispersion with its peers' and raise a flag only when "
        "its interval (over the weeks the detector accumulated) excludes the baseline. None: on for the "
        "detectors made for overdispersed counts (nb_cusum), off for cusum and page_hinkley as they were.")
    dispersion_block_weeks: int = Field(
        default=4, ge=1, description="Dispersion is measured on sums of this many weeks: a person's bad "
        "spell lasts months, so neighbouring weeks are correlated and weekly counts understate it.")
    dispersion_prior_blocks: float = Field(
        default=8.0, ge=0, description="Blocks' worth of shrinkage of a unit's dispersion towards its peers'.")
    max_window_weeks: int = Field(default=26, ge=1, description="At most this many weeks in a flag's window.")
    min_headcount: int | None = Field(
        default=None, ge=1, description="Units whose group (employees, or persons in care) is smaller than "
        "this in a week are not tested that week. None: `min_group_size`, so that no flag's evidence is a "
        "figure about 10 or fewer people.")
    outcomes: tuple[UnitOutcome, ...] = Field(
        default=tuple(UnitOutcome), description="The unit outcomes monitored for drift and level: sick leave "
        "(workplaces), ED visits, readmissions and inpatient days (care units).")
    level_weeks: int = Field(
        default=13, ge=2, description="A level flag looks at this many weeks (a quarter): the unit's outcome "
        "against its peers' over them, trend-adjusted.")
    level_min_ratio: float = Field(
        default=1.5, ge=1.0, description="A level flag is raised when the interval of the unit's ratio to "
        "its peers over `level_weeks` lies wholly above this, and kept until the ratio itself falls to it. "
        "1.5: clearly above, so that over two years of weekly looks at most 5% of units at their peers' "
        "level are ever flagged, in workplaces of 20 staff too (1.25 flagged 10% of those, make "
        "drift-eval); a unit at 2x is still found within a quarter or two.")
    history_start: dt.date | None = Field(
        default=None, description="The day from which the sources' history is complete, for every unit. "
        "A figure that needs a look-back (persons in a care unit's care: a person counts for 365 days after "
        "a care event; readmissions: 30 days; occasions: the re-illness gap) is incomplete until the "
        "look-back is covered, and its weeks are neither learned from nor tested (the boards show them as "
        "building up). None: each unit's history begins with the first day it reported.")
    refold_weeks: int = Field(
        default=115, ge=8,
        description="How far back (in weeks of event time) late unit data may still revise drift, at least "
        "8: the detectors keep a snapshot to return to every 8 weeks, and a late week needs one inside the "
        "window. A "
        "backfill sent by several producers can arrive in any order between persons (one producer's "
        "records land after another's whole history): this covers a backfill of up to two years.",
    )


class ConsentConfig(_Frozen):
    """Programmes whose membership is consent for a person's flags to reach a recipient."""

    hr_programmes: tuple[str, ...] = Field(
        default=("health-support",), description="An employee's person-level flags reach an HR partner only "
        "while the employee is in one of these (otherwise they count in unit figures only).")
    care_programmes: tuple[str, ...] = Field(
        default=(), description="The same for care rules; empty: care flags need no enrolment.")

    @property
    def programmes(self) -> frozenset[str]:
        return frozenset(self.hr_programmes) | frozenset(self.care_programmes)


class MonitorConfig(_Frozen):
    """Everything the core needs to decide. Built once from `Settings` at the entry point."""

    timezone: str = "Europe/Stockholm"
    allowed_lateness_days: float = Field(default=7.0, ge=0)
    max_future_hours: float = Field(default=24.0, ge=0)
    max_ahead_days: float = Field(
        default=7.0, gt=0, description="An event more than this after the stream's own clock is held until "
        "the stream is seen to move on with it, or rejected as ahead_of_stream (core/stream_clock.py).")
    max_message_bytes: int = Field(default=64 * 1024, ge=256)
    min_group_size: int = Field(
        default=11, ge=1, description="No figure for a group of fewer (Swedish practice: not for <= 10)."
    )
    max_unit_labels: int = Field(
        default=1000, ge=1, description="Units with a label of their own on /metrics; further units are "
        'summed into unit="other" where a figure can be summed, and left out where it cannot.')
    dedup_window_days: int = Field(default=30, ge=0)
    unit_settle_days: int = Field(
        default=7, ge=0, description="A unit-day goes to drift detection once this many days have passed."
    )
    retention_days: int = Field(
        default=800, ge=60,
        description="Days a unit keeps its daily figures (the 12-month figures need 365). Longer, so "
        "that a backfill of up to two years arriving in any order between persons is counted in full.")
    rules: RuleConfig = RuleConfig()
    cost: CostConfig = CostConfig()
    drift: DriftConfig = DriftConfig()
    consent: ConsentConfig = ConsentConfig()
    programmes: tuple[ProgrammeConfig, ...] = Field(
        default=(), description="Programmes whose outcomes are followed against a matched reference (live "
        "figures, the Programmes board, `outcome-monitor report`). Empty: no programme stage runs.")
    cost_table: CostTable | None = Field(
        default=None, description="What outcomes cost, with its version and source; None: the documented "
        "defaults with the sick-leave settings of `cost`.")
    survey_scales: dict[str, tuple[str, ...]] = Field(
        default_factory=dict, description="The ordinal scales survey answers may be on: scale id -> its "
        "levels, lowest first. A `survey_response` on another scale, or with another answer, is rejected "
        "unknown_scale_level.")

    @field_validator("programmes")
    @classmethod
    def _one_programme_per_name(cls, programmes: tuple[ProgrammeConfig, ...]) -> tuple[ProgrammeConfig, ...]:
        names = [p.name for p in programmes]
        if len(set(names)) != len(names):
            raise ValueError(f"programme names must be unique: {sorted(names)}")
        return programmes

    @field_validator("programmes")
    @classmethod
    def _one_consent_programme(cls, programmes: tuple[ProgrammeConfig, ...]) -> tuple[ProgrammeConfig, ...]:
        declared = [p for p in programmes if p.gives_consent]
        if len(declared) > 1:
            raise ValueError("gives_consent: at most one programme is the consent programme; declared by "
                             + ", ".join(p.name for p in declared))
        if declared and declared[0].kind is not ProgrammeKind.HR:
            raise ValueError(f"gives_consent: only an hr programme gives consent to HR, not {declared[0].name!r} "
                             "(care flags' consent: consent.care_programmes)")
        return programmes

    def consent_in_effect(self) -> ConsentConfig:
        """The consent programmes: a programme that declares `gives_consent` is the HR one, beside those set
        in `consent.hr_programmes`; the default "health-support" only while neither says otherwise (configs
        that rely on the name keep working)."""
        declared = tuple(p.name for p in self.programmes if p.gives_consent)
        if not declared:
            return self.consent
        kept = self.consent.hr_programmes if "hr_programmes" in self.consent.model_fields_set else ()
        return self.consent.model_copy(update={"hr_programmes": tuple(dict.fromkeys((*kept, *declared)))})

    @field_validator("survey_scales")
    @classmethod
    def _levels_are_a_scale(cls, scales: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for name, levels in scales.items():
            if len(levels) < 2 or len(set(levels)) != len(levels) or not all(levels):
                raise ValueError(f"survey scale {name!r}: two or more distinct, non-empty levels, lowest first")
        return scales

    def costs(self) -> CostTable:
        """The configured cost table, else the documented defaults with the sick-leave settings of `cost`."""
        if self.cost_table is not None:
            return self.cost_table
        c = self.cost
        return CostTable(sick_leave=SickLeaveCost(
            monthly_salary_sek=c.monthly_salary_sek, short_term_days=c.short_term_days,
            short_day_share=c.short_term_day_share, long_day_share=c.long_term_day_share))

    def programme(self, name: str) -> ProgrammeConfig | None:
        return next((p for p in self.programmes if p.name == name), None)

    @property
    def max_ahead_s(self) -> int:
        return int(self.max_ahead_days * 86400)

    @property
    def allowed_lateness_s(self) -> int:
        return int(self.allowed_lateness_days * 86400)
