"""`python -m benchmarks.report_render`: how long a steering group's report takes from figures already
computed (`outcome-monitor report --figures`), for three programmes, beside what each report cost when it
replayed its events. Writes its section of BENCHMARKS.md (between its markers). A benchmark, not a test.

The three programmes are the simulated scenarios of `outcome-monitor simulate --programme` (care with a
patient survey, no effect at a peak, HR). Each is replayed once with its configuration, as the worker or
`replay --programmes-out` computes figures (timed: the cost of the old report per programme); then each
report is rendered from the one figures file by the command a user runs, in a fresh process (timed: what
the user waits for, Python's start and matplotlib's import included)."""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.host import ROOT, machine, say

BEGIN, END = "<!-- report-render: begin -->", "<!-- report-render: end -->"
TARGET_S = 5.0
CLI = [sys.executable, "-m", "streams.cli"]


def _config(name: str) -> dict[str, object]:
    from streams.simulators.programme_scenarios import SCENARIOS, SURVEY_INSTRUMENT, SURVEY_SCALES

    sc = SCENARIOS[name]
    programme: dict[str, object] = {"name": sc.program, "kind": sc.kind, "cost": sc.cost.model_dump()}
    config: dict[str, object] = {"programmes": [programme]}
    if sc.kind == "care":
        programme["surveys"] = [SURVEY_INSTRUMENT]
        config["survey_scales"] = SURVEY_SCALES
    return config


def _env(config: dict[str, object]) -> dict[str, str]:
    return {**os.environ, "OUTCOME_MONITOR_MONITOR": json.dumps(config), "OUTCOME_MONITOR_ALLOW_DEMO_KEY": "true"}


def measure(workdir: Path) -> dict[str, object]:
    from streams.simulators.programme_scenarios import SCENARIOS, run, write

    figures: dict[str, object] = {}
    replays: dict[str, float] = {}
    for name in ("care", "rtm", "hr"):
        events, out = workdir / f"{name}.jsonl", workdir / f"{name}.figures.json"
        write(run(SCENARIOS[name], surveys=name == "care"), str(events))
        started = time.perf_counter()
        subprocess.run([*CLI, "replay", str(events), "--quiet", "--demo-key", "--programmes-out", str(out)],
                       env=_env(_config(name)), check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        replays[SCENARIOS[name].program] = time.perf_counter() - started
        figures.update(json.loads(out.read_text()))
        say(f"figures of {name}: {replays[SCENARIOS[name].program]:.1f} s (replay of its events)")
    stored = workdir / "figures.json"
    stored.write_text(json.dumps(figures))
    config = {"programmes": [p for name in ("care", "rtm", "hr") for p in _config(name)["programmes"]],  # type: ignore[attr-defined]
              "survey_scales": _config("care")["survey_scales"]}
    renders: dict[str, tuple[float, float]] = {}  # wall, CPU seconds
    for key in sorted(figures):
        programme, quarter = key.split("/")
        started, cpu = time.perf_counter(), _children_cpu()
        subprocess.run([*CLI, "report", "--figures", str(stored), "--programme", programme, "--quarter", quarter,
                        "--out", str(workdir / f"{programme}.html")], env=_env(config), check=True,
                       stderr=subprocess.DEVNULL, cwd=ROOT)
        renders[key] = (time.perf_counter() - started, _children_cpu() - cpu)
        say(f"report of {key} from stored figures: {renders[key][0]:.2f} s ({renders[key][1]:.2f} s CPU)")
    quarters = {key.split("/")[1] for key in figures}
    assert len(quarters) == 1, quarters  # one run renders one quarter's reports
    started, cpu = time.perf_counter(), _children_cpu()
    each = [arg for key in sorted(figures) for arg in ("--programme", key.split("/")[0])]
    subprocess.run([*CLI, "report", "--figures", str(stored), "--quarter", quarters.pop(),
                    "--out", str(workdir / "all"), *each],
                   env=_env(config), check=True, stderr=subprocess.DEVNULL, cwd=ROOT)
    together = (time.perf_counter() - started, _children_cpu() - cpu)
    assert len(list((workdir / "all").glob("*.html"))) == len(figures)
    say(f"the three reports in one run: {together[0]:.2f} s ({together[1]:.2f} s CPU)")
    return {"replays": replays, "renders": renders, "together": together}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def section(m: dict[str, object], command: str) -> str:
    renders: dict[str, tuple[float, float]] = m["renders"]  # type: ignore[assignment]
    replays: dict[str, float] = m["replays"]  # type: ignore[assignment]
    wall, cpu = sum(w for w, _ in renders.values()), sum(c for _, c in renders.values())
    one_wall, one_cpu = m["together"]  # type: ignore[misc]
    lines = [BEGIN, "## The steering group's report from stored figures", "",
             f"Measured {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC on {machine()}. Command: `{command}`. "
             "Each report is `outcome-monitor report --figures FILE` in a fresh process (Python's start and "
             "matplotlib's import included) on the figures `replay --programmes-out` wrote; beside it, the "
             "replay a report ran before (`--events`, still there for other options).", "",
             f"Load average {os.getloadavg()[0]:.1f} when the section was written; CPU seconds (of the "
             "report's process) are the figure that does not depend on other work on the machine.", "",
             "| programme | report from stored figures, s (CPU s) | replay of its events, s |", "|---|---|---|"]
    for key, (w, c) in sorted(renders.items()):
        lines.append(f"| {key} | {w:.2f} ({c:.2f}) | {replays.get(key.split('/')[0], float('nan')):.1f} |")
    lines += [f"| three reports, one run each | {wall:.2f} ({cpu:.2f}) | {sum(replays.values()):.1f} |",
              f"| **three reports in one run** (`--programme` three times) | **{one_wall:.2f} ({one_cpu:.2f})** | |",
              "", f"Target: the reports of three programmes from stored figures in under {TARGET_S:g} s: "
              + ("**met**" if one_cpu < TARGET_S else "**not met**") + " in CPU time, "
              + ("met" if one_wall < TARGET_S else "not met") + " in wall time "
              "(one run: Python's start and the imports, about a second of CPU, are paid once).", END]
    return "\n".join(lines) + "\n"


def write_section(text: str, path: Path) -> None:
    doc = path.read_text(encoding="utf-8")
    if BEGIN in doc:
        doc = doc[:doc.index(BEGIN)] + text + doc[doc.index(END) + len(END) + 1:]
    else:
        doc = doc.rstrip("\n") + "\n\n" + text
    path.write_text(doc, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        m = measure(Path(tmp))
    text = section(m, "python -m benchmarks.report_render")
    write_section(text, args.out)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
