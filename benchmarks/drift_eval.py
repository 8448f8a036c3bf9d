"""False alarms and detection delay of `unit_sick_leave_drift` under person-level clustering (issue 14).

Organisations of 12 units of 20, 50 or 150 staff over two years: a flu season and a common downward trend
for everyone, employees with bad spells (a few months with several occasions), and in each step run one
unit whose occasions step up 1.5x, 2x or 2.5x on day 400 (by hazard multipliers that give these). False
alarms are counted in the runs with no step (every flag is one) per unit-year watched after the warm-up;
a step is detected by the first flag on its unit within 182 days of the onset, its delay counted from the
onset to the flag.

The unit-day series the drift stage sees (sick days, new occasions, headcount) are computed from the
simulated events with the monitor's own occasion rule, so that every detector and configuration runs on
the very same series; river's ADWIN and PageHinkley get the same weekly signal (observed vs expected
from the rest of the organisation, standardised) as the baselines a user might pick instead.
Run: python -m benchmarks.drift_eval [--seeds 20] [--cache DIR]   (progress on stderr)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import pickle
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from streams.core.config import DriftConfig, MonitorConfig
from streams.core.org.drift import OrgDrift
from streams.core.org.state import OrgState
from streams.core.timebase import week_days, week_of
from streams.core.unit.tracker import DaySummary
from streams.files.simulation import Scenario, generate
from streams.models.flags import DriftEvidence

SIZES = (20, 50, 150)
STEPS = (1.5, 2.0, 2.5)
# An employee's occasions are spaced (an occasion, then days back at work), and a step multiplies the
# hazard of a new one, so a hazard x f gives fewer than f x the occasions. These multipliers give steps of
# about 1.5x, 2x and 2.5x in a unit's occasions (measured: the table's last lines).
HAZARD = {1.5: 1.7, 2.0: 3.2, 2.5: 5.0}
ONSET_DAY = 400
DAYS = 730
HORIZON_DAYS = 182
UNITS = 12
GAP_DAYS = 5  # RuleConfig.occasion_gap_days: a sick day within 5 days of the last continues the occasion


def scenario(size: int, step: float | None, seed: int) -> Scenario:
    return Scenario(seed=seed, days=DAYS, units=UNITS, employees_per_unit=(size, size), care_persons=0,
                    drift_unit=0 if step else None, drift_onset_day=ONSET_DAY,
                    drift_factor=HAZARD[step] if step else 1.0,
                    late_share=0.0, duplicate_share=0.0, bad_spell_rate=0.3, bad_spell_days=(60, 150),
                    bad_spell_factor=12.0, trend_per_year=-0.1)


def summaries(sc: Scenario) -> list[DaySummary]:
    """Unit-days as the unit stage sums them: sick days by extent (a day once, at its largest extent),
    new occasions by the re-illness rule, the headcount of the day."""
    sick: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    staffing: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for _, line in generate(sc):
        e = json.loads(line)
        day = dt.date.fromisoformat(e["occurred_at"][:10]).toordinal()
        if e["event_type"] == "staffing":
            staffing[e["unit_id"]].append((day, int(e["headcount"])))
        elif e["event_type"] == "sick_leave":
            days = sick[(e["unit_id"], e["person_id"])]
            days[day] = max(days.get(day, 0.0), float(e.get("extent", 1.0)))
    first, last = sc.start.toordinal(), sc.start.toordinal() + sc.days - 1
    sick_days: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    occasions: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for (unit, _), days in sick.items():
        previous = None
        for day in sorted(days):
            sick_days[unit][day] += days[day]
            if previous is None or day - previous > GAP_DAYS:
                occasions[unit][day] += 1
            previous = day
    out = []
    for unit, changes in staffing.items():
        changes.sort()
        headcount, i = 0, 0
        for day in range(first, last + 1):
            while i < len(changes) and changes[i][0] <= day:
                headcount = changes[i][1]
                i += 1
            out.append(DaySummary(unit, day, sick_days[unit].get(day, 0.0), occasions[unit].get(day, 0.0),
                                  headcount))
    return sorted(out, key=lambda s: (s.day, s.unit_id))


Alarms = dict[str, list[int]]  # unit -> days on which a flag (an alarm) was raised


def ours(drift: DriftConfig) -> Callable[[list[DaySummary]], Alarms]:
    def run(rows: list[DaySummary]) -> Alarms:
        stage, state = OrgDrift(MonitorConfig(drift=drift)), OrgState()
        out: Alarms = defaultdict(list)
        tail = DaySummary(rows[-1].unit_id, rows[-1].day + 8, 0.0, 0.0, rows[-1].headcount)
        for flag in stage.apply(state, [*rows, tail]):
            assert isinstance(flag.evidence, DriftEvidence)
            out[flag.subject_id].append(flag.evidence.window_end.toordinal() + 1)
        return out
    return run


def weekly(rows: list[DaySummary]) -> dict[str, list[tuple[int, float, float]]]:
    """Per unit and complete week: (week, observed occasions, expected at the rest's rate)."""
    totals: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0, 0]))
    for r in rows:
        t = totals[week_of(r.day)][r.unit_id]
        t[0] += r.occasions
        t[1] += r.headcount
        t[2] += 1
    out: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    for week in sorted(totals):
        units = {u: t for u, t in totals[week].items() if t[2] == 7}
        all_o, all_x = sum(t[0] for t in units.values()), sum(t[1] for t in units.values())
        for u, (o, x, _) in units.items():
            rest_o, rest_x = all_o - o, all_x - x
            if rest_o > 0 and rest_x > 0:
                out[u].append((week, o, x * rest_o / rest_x))
    return out


def river_baseline(kind: str, warmup_weeks: int = 12) -> Callable[[list[DaySummary]], Alarms]:
    """river's detector on the standardised weekly residual against the warm-up's ratio (ADWIN: an
    alarm only when the level after the change is above the warm-up's)."""
    from river import drift as river_drift

    def run(rows: list[DaySummary]) -> Alarms:
        out: Alarms = defaultdict(list)
        for unit, weeks in weekly(rows).items():
            head = weeks[:warmup_weeks]
            theta = (sum(o for _, o, _ in head) + 10) / (sum(e for _, _, e in head) + 10)
            detector = river_drift.ADWIN() if kind == "adwin" else river_drift.PageHinkley(mode="up")
            for week, o, e0 in weeks[warmup_weeks:]:
                z = (o - theta * e0) / math.sqrt(max(theta * e0, 1e-9))
                detector.update(z)
                if detector.drift_detected and (kind != "adwin" or detector.estimation > 0):
                    out[unit].append(week_days(week)[-1] + 1)
        return out
    return run


def candidates() -> dict[str, Callable[[list[DaySummary]], Alarms]]:
    return {
        "nb_cusum (default: shift 1.75, h 5.5)": ours(DriftConfig()),
        "nb_cusum h=5": ours(DriftConfig(threshold=5.0)),
        "nb_cusum h=6": ours(DriftConfig(threshold=6.0)),
        "nb_cusum, warm-up dispersion, no gate": ours(DriftConfig(calibrated=False)),
        "cusum (Poisson, before issue 14)": ours(DriftConfig(detector="cusum")),
        "cusum + pooled dispersion + gate": ours(DriftConfig(detector="cusum", calibrated=True)),
        "river ADWIN": river_baseline("adwin"),
        "river PageHinkley": river_baseline("page_hinkley"),
    }


def series(size: int, step: float | None, seed: int, cache: Path | None) -> list[DaySummary]:
    path = cache / f"{size}-{HAZARD[step] if step else None}-{seed}.pickle" if cache else None
    if path and path.exists():
        rows: list[DaySummary] = pickle.loads(path.read_bytes())  # noqa: S301 - our own cache
        return rows
    rows = summaries(scenario(size, step, seed))
    if path:
        path.write_bytes(pickle.dumps(rows))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    ap.add_argument("--cache", type=Path, default=None, help="keep the simulated series here")
    ap.add_argument("--only", default=None, help="run only the candidates whose name contains this")
    args = ap.parse_args(argv)
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
    runs = {k: v for k, v in candidates().items() if args.only is None or args.only in k}
    false_alarms: dict[tuple[str, int], int] = defaultdict(int)
    unit_years: dict[int, float] = defaultdict(float)
    delays: dict[tuple[str, int, float], list[int | None]] = defaultdict(list)
    realised: dict[tuple[int, float], list[float]] = defaultdict(list)
    started, total, done = time.monotonic(), len(args.sizes) * args.seeds * (1 + len(STEPS)), 0
    start_day = Scenario().start.toordinal()
    onset = start_day + ONSET_DAY
    for size in args.sizes:
        for seed in range(1, args.seeds + 1):
            for step in (None, *STEPS):
                rows = series(size, step, seed, args.cache)
                target = "hr-unit-00"
                if step:
                    realised[(size, step)].append(realised_ratio(rows, target, onset))
                for name, run in runs.items():
                    alarms = run(rows)
                    if step is None:
                        false_alarms[(name, size)] += sum(len(v) for v in alarms.values())
                    else:
                        after = [d - onset for d in alarms.get(target, []) if d >= onset]
                        delays[(name, size, step)].append(min(after) if after and min(after) <= HORIZON_DAYS
                                                          else None)
                if step is None:
                    unit_years[size] += UNITS * (DAYS - 12 * 7) / 365
                done += 1
                elapsed = time.monotonic() - started
                print(f"[{done}/{total}] size {size} seed {seed} step {step or 'none'}: {elapsed:.0f} s, "
                      f"about {elapsed / done * (total - done):.0f} s to go", file=sys.stderr, flush=True)
    print(table(runs, args.sizes, false_alarms, unit_years, delays))
    print()
    print("Realised steps (median over seeds of the unit's occasions against the rest's, half a year after "
          "the onset over half a year before):")
    for size in args.sizes:
        print(f"- {size} staff: " + ", ".join(f"{step:g}x -> {statistics.median(realised[(size, step)]):.2f}x"
                                              for step in STEPS))
    return 0


def realised_ratio(rows: list[DaySummary], unit: str, onset: int) -> float:
    weeks = weekly(rows)[unit]
    w0 = week_of(onset)
    before = [(o, e) for w, o, e in weeks if w0 - 26 <= w < w0]
    after = [(o, e) for w, o, e in weeks if w0 < w <= w0 + 26]
    ratio = [sum(o for o, _ in xs) / sum(e for _, e in xs) for xs in (before, after)]
    return ratio[1] / ratio[0]


def _q(values: list[int], q: float) -> str:
    if not values:
        return "-"
    s = sorted(values)
    return f"{s[min(len(s) - 1, math.ceil(q * len(s)) - 1)]}"


def table(runs: dict[str, object], sizes: list[int], false_alarms: dict[tuple[str, int], int],
          unit_years: dict[int, float], delays: dict[tuple[str, int, float], list[int | None]]) -> str:
    head = "| detector | staff | false alarms per unit-year (target <= 0.05) |"
    rule = "|---|---|---|"
    for step in STEPS:
        head += f" {step:g}x detected | {step:g}x delay median / p90 (days) |"
        rule += "---|---|"
    lines = [head, rule]
    for name in runs:
        for size in sizes:
            fa = false_alarms[(name, size)]
            row = f"| {name} | {size} | {fa / unit_years[size]:.3f} ({fa} in {unit_years[size]:.0f}) |"
            for step in STEPS:
                ds = delays[(name, size, step)]
                hit = [d for d in ds if d is not None]
                med = f"{statistics.median(hit):.0f}" if hit else "-"
                row += f" {len(hit)}/{len(ds)} | {med} / {_q(hit, 0.9)} |"
            lines.append(row)
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
