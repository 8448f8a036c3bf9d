"""Making the steering group's report: from events, replayed through the pipeline (`write_report`: slow,
the only way to change what is computed or to draw each member's dots), or from figures already computed
by the worker or `replay --programmes-out` (`write_stored_report`: nothing replayed); the request is
checked before any work (`check_request`)."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from streams.core.config import MonitorConfig
from streams.core.monitor import Monitor
from streams.core.programme.cohort import ProgrammeKind
from streams.core.programme.ledger import PersonLedger
from streams.core.programme.money import CostTable, ProgrammeCost
from streams.core.programme.months import quarter_months
from streams.core.programme.ordinal import OrdinalScale, SurveyAnswer
from streams.core.programme.results import ProgrammeResults, with_surveys
from streams.core.programme.stage import ProgrammeStage
from streams.core.programme.surveys import SurveyStore
from streams.core.programme_config import ProgrammeConfig
from streams.core.pseudonym import Pseudonymiser
from streams.files.replay import replay
from streams.progress import Progress
from streams.report.quarterly import render
from streams.report.stored import results_of


@dataclass(frozen=True)
class Replayed:
    """What `replay` over a file keeps for the programmes (the worker keeps the same live): every person event
    the pipeline accepts in its person's ledger, by pseudonym; every survey answer admitted; and the number
    of lines rejected (`replay` says why)."""

    ledgers: dict[str, PersonLedger]
    surveys: SurveyStore
    rejected: int


def replayed(events: Path, config: MonitorConfig, pseudonymise: Pseudonymiser,
             progress: Progress | None = None) -> Replayed:
    monitor = Monitor(config, pseudonymise, keep_ledgers=True)
    replay(monitor, events, progress=progress)
    return Replayed(monitor.ledgers, monitor.surveys, sum(monitor.tally.rejected.values()))


def infer_kind(ledgers: Mapping[str, PersonLedger], program: str) -> ProgrammeKind:
    """HR when the programme's members have more sick-leave facts than care facts, else care."""
    hr = care = 0
    for ledger in ledgers.values():
        if ledger.episodes(program):
            for totals in ledger.months().values():
                hr += int(totals.get("sick_days") > 0)
                care += int(any(v > 0 for k, v in totals.values.items() if not k.startswith(("sick", "short", "long"))))
    return ProgrammeKind.HR if hr > care else ProgrammeKind.CARE


def write_report(events: Path, programme: str, quarter: str, out: Path, *, config: MonitorConfig,
                 pseudonymise: Pseudonymiser, kind: str | None = None, window_months: int | None = None,
                 after_months: int | None = None, costs: CostTable | None = None,
                 programme_cost: ProgrammeCost | None = None,
                 surveys: Sequence[tuple[OrdinalScale, Sequence[SurveyAnswer]]] = (),
                 err: IO[str] | None = None) -> ProgrammeResults:
    """Replay the events, compute the programme's figures and write the report; returns the figures. The
    programme is the configured one of that name (`MonitorConfig.programmes`, what the worker publishes),
    with what is given here instead; one not configured needs no configuration (kind inferred, 6 months).
    Survey answers: those of the events for the programme's instruments (`ProgrammeConfig.surveys`), then
    those of `surveys` (files). Progress on `err` (default: standard error)."""
    err = err or sys.stderr
    check_request(config, programme, quarter)
    done = replayed(events, config, pseudonymise, Progress("report: replaying", err))
    ledgers = done.ledgers
    if done.rejected:
        err.write(f"report: {done.rejected:,} lines rejected (outcome-monitor replay --rejects-out says why)\n")
    configured = config.programme(programme)
    if configured is None and not any(ledger.episodes(programme) for ledger in ledgers.values()):
        seen = sorted({row[0] for ledger in ledgers.values() for row in ledger.enrolments.values()})
        raise ValueError(f"no enrolment of {programme!r} in {events}; the programmes enrolled in there: "
                         f"{', '.join(seen) or 'none'}")
    changes: dict[str, Any] = {"name": programme}
    if kind or configured is None:
        changes["kind"] = ProgrammeKind(kind) if kind else infer_kind(ledgers, programme)
    for key, value in (("window_months", window_months), ("after_months", after_months), ("cost", programme_cost)):
        if value is not None:
            changes[key] = value
    spec = (configured.model_copy(update=changes) if configured is not None
            else ProgrammeConfig.model_validate(changes))
    config = config.model_copy(update={"programmes": (spec,), "cost_table": costs or config.costs()})
    err.write(f"report: {len(ledgers):,} persons; estimating {spec.name} ({spec.kind.value}) for {quarter}\n")
    [figures] = ProgrammeStage(config).figures(ledgers, quarter, surveys=done.surveys)
    results = figures.results
    if surveys:
        results = with_surveys(results, surveys, config.min_group_size)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(results), encoding="utf-8")
    err.write(f"report: wrote {out}\n")
    return results


def write_stored_report(document: Mapping[str, Any], out: Path, *,
                        surveys: Sequence[tuple[OrdinalScale, Sequence[SurveyAnswer]]] = (),
                        min_group: int = 11, err: IO[str] | None = None) -> ProgrammeResults:
    """The report of figures already computed (`replay --programmes-out`, the programme-figures topic):
    rendered as they are, with survey files' answers beside them; nothing replayed."""
    results = results_of(document)
    if surveys:
        results = with_surveys(results, surveys, min_group)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(results), encoding="utf-8")
    (err or sys.stderr).write(f"report: wrote {out}\n")
    return results


def check_request(config: MonitorConfig, programme: str, quarter: str) -> None:
    """Before any work: the quarter is one like 2025Q3, and the programme is a configured one when any is
    configured (an unknown name would give an empty report after a whole replay)."""
    quarter_months(quarter)  # ValueError: not a quarter like 2025Q3
    names = [p.name for p in config.programmes]
    if names and programme not in names:
        raise ValueError(f"no programme {programme!r} is configured; the configured ones: {', '.join(names)}")


def read_survey(path: Path) -> tuple[OrdinalScale, list[SurveyAnswer]]:
    """A survey file: {"scale": {"name": ..., "levels": [...]}, "answers": [{"instrument", "question",
    "level", "period", ...}]}."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        scale = OrdinalScale(data["scale"]["name"], tuple(data["scale"]["levels"]))
        answers = [SurveyAnswer(**a) for a in data["answers"]]
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ValueError(f"{path} is not a survey file ({type(exc).__name__}: {exc}); expected "
                         '{"scale": {"name", "levels"}, "answers": [{"instrument", "question", "level", '
                         '"period"}, ...]}') from exc
    unknown = sorted({a.level for a in answers} - set(scale.levels))
    if unknown:
        raise ValueError(f"{path}: answers not on the scale {scale.name}: {', '.join(unknown)}; its levels: "
                         + ", ".join(scale.levels))
    return scale, answers
