"""The programme stage: each person event the person stage accepted goes into that person's ledger
(monthly aggregates, core/programme/ledger.py), keyed by pseudonym, and each admitted survey answer into
the survey store (core/programme/surveys.py); from all ledgers, the figures of every configured programme
for the quarter of the last complete month, with its survey instruments' answers beside them.

Replay (core/monitor.py) and the worker (agents/stages/programmes.py) run this same class: replay over its own
dict of ledgers and its own store, the worker over a table keyed by pseudonym (the store under a key no
pseudonym has), fed by the persons agent and, for survey answers, straight from the door. Figures depend on
the ledgers and the store only (not on arrival order within the ledger's horizon, nor on when they are
computed), and ledgers are visited in key order, so the worker's figures after a stream equal replay's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from streams.core.config import MonitorConfig
from streams.core.programme.cohort import ProgrammeSpec, as_of_month
from streams.core.programme.estimate import EstimatorConfig
from streams.core.programme.ledger import PersonLedger
from streams.core.programme.months import quarter_months, quarter_of
from streams.core.programme.results import ProgrammeResults, programme_results, with_surveys
from streams.core.programme.surveys import Folded, SurveyStore
from streams.core.programme.trial import Criterion
from streams.models.events import PersonEvent, SurveyResponse

#: Facts wait this long before they are folded into monthly totals: far beyond the allowed lateness, so
#: that an event within it is never too late for its ledger.
LEDGER_HORIZON_DAYS = 60


@dataclass(frozen=True, slots=True)
class ProgrammeFigures:
    """One programme's figures for one quarter, as published (topic, metrics) and as the report shows them."""

    programme: str
    quarter: str
    results: ProgrammeResults

    @property
    def key(self) -> str:
        return f"{self.programme}/{self.quarter}"


class ProgrammeStage:
    def __init__(self, config: MonitorConfig) -> None:
        self.config = config
        self.programmes = config.programmes
        self.costs = config.costs()
        self.estimator = EstimatorConfig(min_group_size=config.min_group_size)

    @property
    def enabled(self) -> bool:
        """No programme configured: nothing is kept, sent or computed."""
        return bool(self.programmes)

    def fresh(self, _key: str = "") -> PersonLedger:
        return PersonLedger(horizon_days=LEDGER_HORIZON_DAYS, occasion_gap_days=self.config.rules.occasion_gap_days,
                            short_term_days=self.config.cost.short_term_days)

    def step(self, ledger: PersonLedger, event: PersonEvent) -> bool:
        """An accepted, pseudonymised person event into its person's ledger; True when it changed it."""
        return ledger.add(event, self.config.timezone)

    def survey_step(self, store: SurveyStore, event: SurveyResponse) -> Folded:
        """An admitted, pseudonymised survey answer into the store; what it did (`.changed`: the store)."""
        return store.add(event, self.config.timezone)

    def quarter(self, ledgers: Mapping[str, PersonLedger]) -> str | None:
        """The quarter of the last complete month of the data (None: no complete month yet)."""
        as_of = as_of_month(ledgers)
        return None if as_of is None else quarter_of(as_of)

    def figures(self, ledgers: Mapping[str, PersonLedger], quarter: str | None = None,
                only: str | None = None, surveys: SurveyStore | None = None) -> list[ProgrammeFigures]:
        """The figures of each configured programme (or of `only`) for `quarter` (default: the current one),
        with the answers to each of its survey instruments (`ProgrammeConfig.surveys`) by quarter up to it."""
        quarter = quarter or self.quarter(ledgers)
        if quarter is None:
            return []
        out = []
        for programme in self.programmes:
            if only is not None and programme.name != only:
                continue
            spec = ProgrammeSpec(programme.name, programme.kind, programme.window_months, programme.after_months,
                                 tuple(Criterion(c.measure, c.at_least, c.days) for c in programme.eligible_if))
            results = programme_results(ledgers, spec, quarter, self.costs, programme.cost,
                                        self.estimator)
            if surveys is not None and programme.surveys:
                up_to = quarter_months(results.quarter)[-1]
                answers = [q for instrument in programme.surveys
                           for q in surveys.surveys(instrument, self.config.survey_scales, up_to)]
                results = with_surveys(results, answers, self.config.min_group_size)
            out.append(ProgrammeFigures(programme.name, results.quarter, results))
        return out
