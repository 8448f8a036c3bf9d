"""`python -m benchmarks.compiled_core`: what compiling the core with mypyc would buy replay, and what it
would change. An experiment for a decision (BENCHMARKS.md, notes item 9), not a build the product uses.

It copies `streams/` and `benchmarks/` to a temporary directory, compiles `streams/core` there with mypyc
(from the project's own mypy pin), leaving out the modules mypyc cannot compile as they are written
(`NOT_COMPILED`, each with its reason), then, in fresh processes and alternating, runs section 1's replay
benchmark on the tree as it is and on the compiled copy, and replays the sample file in both to compare
their flags, rejections and indicators byte for byte. Takes a few minutes (the compile alone ~2 min on two
cores); shows progress on stderr.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.host import ROOT, say

NOT_COMPILED = {
    "streams/core/config.py": "defines pydantic models: mypyc's C output does not build "
                              "('CPyModule_pydantic___main' undeclared)",
    "streams/core/programme_config.py": "defines pydantic models (as config.py)",
    "streams/core/notify.py": "defines pydantic models (as config.py)",
    "streams/core/handling/access.py": "defines pydantic models (as config.py)",
    "streams/core/stream_clock.py": "a generic slotted dataclass (`_Held(Generic[T])`) fails at import "
                                    "('attribute __dict__ of type objects is not writable')",
    "streams/core/org/detectors/": "the registry reads each detector class's `kind`, which mypyc makes an "
                                   "instance attribute (a ClassVar would do)",
}

BENCH = ("import json, sys; from benchmarks.replay_speed import bench_replay; "
         "import streams.core.person.fold as fold; r = bench_replay({events}); r['compiled'] = "
         "fold.__file__.endswith('.so'); print(json.dumps(r))")
SAMPLE = ("import sys; from streams.cli import main; sys.argv = ['outcome-monitor', 'replay', "
          "'streams/sample/events.jsonl.gz', '--demo-key', '--flags-out', '{out}/flags.jsonl', '--rejects-out', "
          "'{out}/rejects.jsonl', '--indicators-out', '{out}/indicators.json']; main()")
OUTPUTS = ("flags.jsonl", "rejects.jsonl", "indicators.json")


def compiled_copy(dest: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.so")
    for part in ("streams", "benchmarks"):
        shutil.copytree(ROOT / part, dest / part, ignore=ignore)
    modules = sorted(str(p.relative_to(dest)) for p in (dest / "streams/core").rglob("*.py"))
    modules = [m for m in modules if not any(m.startswith(skip) for skip in NOT_COMPILED)]
    say(f"compiling {len(modules)} modules of streams/core with mypyc (~2 min)")
    t = time.perf_counter()
    done = subprocess.run([str(Path(sys.executable).parent / "mypyc"), *modules], cwd=dest, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise SystemExit(f"mypyc failed:\n{done.stdout[-4000:]}")
    say(f"  compiled in {time.perf_counter() - t:.0f} s")


def run(code: str, tree: Path) -> str:
    # stderr (the benchmark's progress, or an error) goes straight to the terminal
    done = subprocess.run([sys.executable, "-c", code], cwd=tree, text=True, stdout=subprocess.PIPE,
                          env={**os.environ, "PYTHONPATH": str(tree)})
    if done.returncode != 0:
        raise SystemExit(f"failed in {tree} (its error is above)")
    return done.stdout


def compare_outputs(a: Path, b: Path) -> list[str]:
    """The sample's outputs of both trees: each file that differs, with its first differing lines."""
    found = []
    for name in OUTPUTS:
        left, right = (a / name).read_text().splitlines(), (b / name).read_text().splitlines()
        if left != right:
            diff = [d for d in difflib.unified_diff(left, right, lineterm="", n=0) if d[:1] in "+-"][2:8]
            changed = sum(1 for d in difflib.ndiff(left, right) if d.startswith("- "))
            found.append(f"{name}: {changed} line(s) differ, e.g. " + " / ".join(d.strip() for d in diff))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=130_000, help="events per replay run (section 1's 1x)")
    parser.add_argument("--rounds", type=int, default=3, help="replay runs of each tree, alternating")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="outcome-monitor-mypyc-") as tmp:
        copy = Path(tmp) / "tree"
        compiled_copy(copy)
        trees = {"as it is": ROOT, "core compiled with mypyc": copy}
        results: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
        for i in range(args.rounds):
            for name, tree in trees.items():
                say(f"round {i + 1}/{args.rounds}: replay of {args.events:,} events, {name}")
                r = json.loads(run(BENCH.format(events=args.events), tree).strip().splitlines()[-1])
                if r["compiled"] != (tree == copy):
                    raise SystemExit(f"{name}: the core that ran was {'' if r['compiled'] else 'not '}compiled")
                results[name].append(r)
        say("the sample file through both trees")
        for name, tree in trees.items():
            (Path(tmp) / name).mkdir()
            run(SAMPLE.format(out=Path(tmp) / name), tree)
        differences = compare_outputs(*(Path(tmp) / name for name in trees))
    print("| tree | replay events/s, each round | cost vs bare parse, each round |")
    print("|---|---|---|")
    for name, runs in results.items():
        speeds = ", ".join(f"{r['replay_eps']:,.0f}" for r in runs)
        ratios = ", ".join(f"{r['ratio']:.1f}x" for r in runs)
        print(f"| {name} | {speeds} | {ratios} |")
    plain, compiled = (sorted(r["replay_s"] for r in runs)[len(runs) // 2] for runs in results.values())
    print(f"\nCompiled replay is {plain / compiled:.2f}x as fast (median CPU seconds {plain:.2f} -> {compiled:.2f}).")
    print("Not compiled: " + "; ".join(f"`{m}` ({why})" for m, why in NOT_COMPILED.items()) + ".")
    print("Sample outputs: " + ("identical." if not differences else "DIFFER: " + "; ".join(differences)))


if __name__ == "__main__":
    main()
