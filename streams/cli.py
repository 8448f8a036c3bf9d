"""The console entry point: `outcome-monitor COMMAND`. Reads `Settings` once, here."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from streams.settings import Settings


def _monitor(settings: Settings):  # type: ignore[no-untyped-def]
    from streams.core.monitor import Monitor
    from streams.core.pseudonym import Pseudonymiser

    return Monitor(settings.monitor, Pseudonymiser(settings.pseudonym_key_bytes()))


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    from streams.replay import run

    if not args.events.exists():
        print(f"replay: no such file: {args.events}", file=sys.stderr)
        return 2
    for out in (args.flags_out, args.rejects_out, args.indicators_out):
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
    return run(_monitor(settings), args.events, args.flags_out, args.rejects_out, args.indicators_out,
               quiet=args.quiet)


def cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    from streams.simulation import Scenario, generate

    scenario = Scenario(seed=args.seed, days=args.days, units=args.units, care_persons=args.care_persons,
                        malformed_lines=args.malformed)
    if args.out is None:
        print("simulate: live publishing comes with the Kafka pipeline; use --out FILE", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    import gzip

    opener = gzip.open if args.out.suffix == ".gz" else open
    n = 0
    with opener(args.out, "wt") as fh:  # type: ignore[operator]
        for _, line in generate(scenario):
            fh.write(line + "\n")
            n += 1
    print(f"simulate: wrote {n} events to {args.out}")
    return 0


def cmd_schemas(args: argparse.Namespace, settings: Settings) -> int:
    from streams import schemas

    if args.check:
        stale = schemas.stale()
        if stale:
            print(f"schemas: stale or missing: {', '.join(stale)}; run `outcome-monitor schemas`",
                  file=sys.stderr)
            return 1
        print("schemas: up to date")
        return 0
    for path in schemas.write():
        print(f"schemas: wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="outcome-monitor", description="Streaming monitor of care and HR "
                                 "outcomes: rolling indicators, risk flags and unit drift.")
    ap.add_argument("--log-level", default="WARNING")
    sub = ap.add_subparsers(dest="command", required=True)

    rp = sub.add_parser("replay", help="run the monitor over a file of JSON-lines events")
    rp.add_argument("events", type=Path, help="events, one JSON object per line (.jsonl or .jsonl.gz)")
    rp.add_argument("--flags-out", type=Path, help="write the resulting flags as JSON lines")
    rp.add_argument("--rejects-out", type=Path, help="write rejected lines (reason, message, line)")
    rp.add_argument("--indicators-out", type=Path, help="write unit and person indicators as JSON")
    rp.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    rp.set_defaults(func=cmd_replay)

    sp = sub.add_parser("simulate", help="realistic synthetic events for a demo")
    sp.add_argument("--out", type=Path, help="write to this file (.jsonl or .jsonl.gz)")
    sp.add_argument("--days", type=int, default=365)
    sp.add_argument("--seed", type=int, default=7)
    sp.add_argument("--units", type=int, default=10)
    sp.add_argument("--care-persons", type=int, default=400)
    sp.add_argument("--malformed", type=int, default=0, help="add this many malformed lines")
    sp.set_defaults(func=cmd_simulate)

    sc = sub.add_parser("schemas", help="write JSON Schema of events and flags into schemas/")
    sc.add_argument("--check", action="store_true", help="fail if schemas/ is stale")
    sc.set_defaults(func=cmd_schemas)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings()
    return int(args.func(args, settings))


if __name__ == "__main__":
    raise SystemExit(main())
