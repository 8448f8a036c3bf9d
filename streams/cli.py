"""The console entry point: `outcome-monitor COMMAND`. Reads `Settings` once, here."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError
from pydantic_settings import SettingsError

from streams.commands import (
    cmd_flags,
    cmd_grafana,
    cmd_publish,
    cmd_replay,
    cmd_report,
    cmd_schemas,
    cmd_simulate,
    cmd_up,
    cmd_worker,
)
from streams.config_help import explain, explain_unreadable
from streams.settings import DemoKeyRefused, Settings


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
    rp.add_argument("--programmes-out", type=Path,
                    help="write the configured programmes' figures for the current quarter as JSON")
    rp.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    rp.add_argument("--jobs", type=int, default=1, metavar="N",
                    help="persons' stages in N processes, sharded by person; the same outputs (default 1)")
    rp.add_argument("--demo-key", action="store_true",
                    help="accept the public demo pseudonym key (sample data only; see docs/operations.md, Privacy)")
    rp.set_defaults(func=cmd_replay)

    pp = sub.add_parser("publish", help="validate a file of events and publish it to the input topic")
    pp.add_argument("events", type=Path)
    pp.add_argument("--topic", help="default: the configured input topic (care.events)")
    pp.add_argument("--bootstrap", help="default: the configured bootstrap servers (127.0.0.1:9092)")
    pp.add_argument("--send-invalid", action="store_true", help="send invalid lines too (for testing)")
    pp.add_argument("--timestamps", choices=["stream", "now"], default="stream",
                    help="record timestamp: the file's event-time clock (as replay) or the wall clock")
    pp.add_argument("--rate", type=float, help="events per second (default: as fast as possible)")
    pp.set_defaults(func=cmd_publish)

    wp = sub.add_parser("worker", help="run the Faust worker (agents, tables, /health, /metrics)")
    wp.set_defaults(func=cmd_worker)

    sp = sub.add_parser("simulate", help="realistic synthetic events for a demo")
    sp.add_argument("--out", type=Path, help="write to this file (.jsonl or .jsonl.gz); else publish")
    sp.add_argument("--programme", choices=["care", "rtm", "hr"],
                    help="instead: a programme scenario with a known truth (care: a mobile team that works, with a "
                    "patient survey; rtm: no effect, enrolment at a peak; hr: a health-support contract that "
                    "saves); prints the configuration that follows it")
    sp.add_argument("--bootstrap", help="publish to this broker (default: the configured one)")
    sp.add_argument("--rate", type=float, help="events per second when publishing")
    sp.add_argument("--days", type=int, default=365)
    sp.add_argument("--seed", type=int, default=7)
    sp.add_argument("--units", type=int, default=10)
    sp.add_argument("--care-persons", type=int, default=400)
    sp.add_argument("--malformed", type=int, default=0, help="add this many malformed lines")
    sp.add_argument("--consent-share", type=float, default=0.6,
                    help="share of employees in the health-support programme (their flags reach HR)")
    sp.set_defaults(func=cmd_simulate)

    up = sub.add_parser("up", help="run the whole local stack: Kafka, Prometheus, worker, simulator")
    up.add_argument("--rate", type=float, default=200.0, help="simulated events per second")
    up.add_argument("--days", type=int, default=365, help="days of simulated history")
    up.set_defaults(func=cmd_up)

    fl = sub.add_parser("flags", help="print the flags topic (or --topic the dead letters)")
    fl.add_argument("--topic")
    fl.add_argument("--bootstrap")
    fl.add_argument("--follow", action="store_true", help="keep printing new records")
    fl.add_argument("--json", action="store_true", help="raw JSON records")
    fl.set_defaults(func=cmd_flags)

    gp = sub.add_parser("grafana", help="dashboards as code; provisioning through Grafana's HTTP API")
    gp.add_argument("action", choices=["dashboards", "provision"])
    gp.add_argument("--check", action="store_true", help="dashboards: fail if grafana/dashboards is stale")
    gp.add_argument("--url", help="provision: Grafana's URL, e.g. http://localhost:3000")
    gp.add_argument("--token", help="provision: a service-account token (Bearer)")
    gp.add_argument("--user", help="provision: basic-auth user")
    gp.add_argument("--password", help="provision: basic-auth password")
    gp.add_argument("--prometheus-url", default="http://prometheus:9090",
                    help="the URL Grafana reaches Prometheus at")
    gp.add_argument("--flags", type=Path, help="flags JSON lines to annotate (default: the flags topic)")
    gp.add_argument("--bootstrap", help="Kafka to read the flags topic from")
    gp.add_argument("--no-annotations", action="store_true")
    gp.set_defaults(func=cmd_grafana)

    rep = sub.add_parser("report", help="a programme's quarterly report for a steering group (one HTML file)")
    source = rep.add_mutually_exclusive_group(required=True)
    source.add_argument("--figures", type=Path,
                        help="the figures `replay --programmes-out` wrote: renders them, replays nothing")
    source.add_argument("--from-topic", action="store_true",
                        help="the figures the worker published (its programme-figures topic): replays nothing")
    source.add_argument("--events", type=Path,
                        help="events, JSON lines (.jsonl or .jsonl.gz): replayed to compute the figures (slow; "
                        "the only way to draw each member's before/after dots or to change the options below)")
    rep.add_argument("--programme", required=True, action="append",
                     help="the `program` of the programme's enrolment events; with stored figures it may be "
                     "repeated (one report each, in one run)")
    rep.add_argument("--quarter", required=True, help="the quarter, e.g. 2025Q3 (data up to its end)")
    rep.add_argument("--out", type=Path, required=True,
                     help="the HTML file to write; for several programmes a directory (<programme>-<quarter>.html)")
    rep.add_argument("--bootstrap", help="--from-topic: Kafka (default: the configured bootstrap servers)")
    rep.add_argument("--kind", choices=["care", "hr"],
                     help="default: the configured programme's, else inferred from the members' events")
    rep.add_argument("--window-months", type=int,
                     help="months before enrolment (default: the configured programme's, else 6)")
    rep.add_argument("--after-months", type=int,
                     help="months followed after enrolment (default: as many as before; a contract: 36)")
    rep.add_argument("--cost-table", type=Path,
                     help="a CostTable as JSON (default: the configured one, else the documented defaults)")
    rep.add_argument("--programme-cost", type=Path,
                     help="a ProgrammeCost as JSON (default: the configured programme's budget)")
    rep.add_argument("--demo-key", action="store_true",
                     help="pseudonymise with the public demo key (sample data only); otherwise the worker's key, "
                     "so that the report's figures are the worker's")
    rep.add_argument("--survey", type=Path, action="append", default=[],
                     help="survey answers as JSON ({scale, answers}); may be repeated")
    rep.set_defaults(func=cmd_report)

    sc = sub.add_parser("schemas", help="write JSON Schema of events and flags into schemas/")
    sc.add_argument("--check", action="store_true", help="fail if schemas/ is stale")
    sc.set_defaults(func=cmd_schemas)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings()
    except (ValidationError, SettingsError) as exc:
        # one line per mistake (the key, what is allowed), never a traceback
        lines = explain(exc) if isinstance(exc, ValidationError) else [explain_unreadable(exc)]
        print("\n".join(lines), file=sys.stderr)
        return 2
    try:
        return int(args.func(args, settings))
    except DemoKeyRefused as exc:
        print(f"{args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
