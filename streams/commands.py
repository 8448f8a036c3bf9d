"""What each `outcome-monitor` command does, given its parsed arguments and the `Settings` that `cli.py`
reads once (the commands' names, arguments and help are there)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import TYPE_CHECKING

from streams.settings import Settings

if TYPE_CHECKING:
    from streams.core.programme.surveys import Survey


def _monitor(settings: Settings):  # type: ignore[no-untyped-def]
    from streams.core.monitor import Monitor
    from streams.core.pseudonym import Pseudonymiser

    return Monitor(settings.monitor, Pseudonymiser(settings.pseudonym_key_bytes()))


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    from streams.files.replay import run

    if not args.events.exists():
        print(f"replay: no such file: {args.events}", file=sys.stderr)
        return 2
    if args.jobs < 1:
        print(f"replay: --jobs takes a number of processes, 1 or more (not {args.jobs})", file=sys.stderr)
        return 2
    for out in (args.flags_out, args.rejects_out, args.indicators_out, args.programmes_out):
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
    if args.demo_key:
        settings = settings.model_copy(update={"allow_demo_key": True})
    return run(_monitor(settings), args.events, args.flags_out, args.rejects_out, args.indicators_out,
               quiet=args.quiet, programmes_out=args.programmes_out, jobs=args.jobs)


def cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    from streams.simulators.simulation import Scenario, generate

    if args.programme is not None:
        return _simulate_programme(args)
    scenario = Scenario(seed=args.seed, days=args.days, units=args.units, care_persons=args.care_persons,
                        malformed_lines=args.malformed, consent_share=args.consent_share)
    if args.out is None:
        from streams.files.publish import print_report, producer, publish_lines, simulated_lines
        from streams.progress import Progress

        bootstrap = args.bootstrap or settings.bootstrap_servers
        _ensure_input_topic(bootstrap, settings.topics.events, settings)
        prod = producer(bootstrap, settings.kafka)
        try:
            report = publish_lines(simulated_lines(generate(scenario)), prod, settings.topics.events,
                                   settings.monitor, send_invalid=True, rate=args.rate,
                                   progress=Progress("simulate", sys.stderr), source="simulated")
        finally:
            prod.close()
        print_report(report)
        return 0
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


def _simulate_programme(args: argparse.Namespace) -> int:
    """A programme scenario with a known truth (streams/simulators/programme_scenarios.py) as an events file."""
    from streams.simulators.programme_scenarios import SCENARIOS, SURVEY_INSTRUMENT, SURVEY_SCALES, run

    if args.out is None:
        print("simulate: --programme writes a file: give --out (then `outcome-monitor publish FILE`)",
              file=sys.stderr)
        return 2
    sc = SCENARIOS[args.programme]
    done = run(sc, surveys=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(line + "\n" for line in done.lines), encoding="utf-8")
    programme: dict[str, object] = {"name": sc.program, "kind": sc.kind, "cost": sc.cost.model_dump()}
    config: dict[str, object] = {"programmes": [programme]}
    if sc.kind == "care":
        programme["surveys"] = [SURVEY_INSTRUMENT]
        config["survey_scales"] = SURVEY_SCALES
    config_path = args.out.with_name(args.out.name.split(".")[0] + ".config.json")
    config_path.write_text(json.dumps(config, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"simulate: wrote {len(done.lines):,} events of the programme {sc.program!r} ({sc.kind}, "
          f"{done.enrolled} enrolled) to {args.out}, and the configuration that follows it to {config_path}:\n"
          f'  export OUTCOME_MONITOR_MONITOR="$(cat {config_path})"')
    return 0


def _ensure_input_topic(bootstrap: str, topic: str, settings: Settings) -> None:
    """Create the input topic with the configured partition count before the first send, so that the
    broker's auto-creation never picks another count."""
    from streams.agents.runtime.topics import TopicSpec, ensure_topics

    ensure_topics(bootstrap, [TopicSpec(topic, settings.topics.partitions)], settings.kafka,
                  settings.topics.replication_factor)


def cmd_publish(args: argparse.Namespace, settings: Settings) -> int:
    from streams.files.publish import print_report, producer, publish_lines, read_lines
    from streams.progress import Progress

    if not args.events.exists():
        print(f"publish: no such file: {args.events}", file=sys.stderr)
        return 2
    bootstrap = args.bootstrap or settings.bootstrap_servers
    topic = args.topic or settings.topics.events
    _ensure_input_topic(bootstrap, topic, settings)
    prod = producer(bootstrap, settings.kafka)
    try:
        report = publish_lines(read_lines(str(args.events)), prod, topic,
                               settings.monitor, send_invalid=args.send_invalid, stamp=args.timestamps,
                               rate=args.rate, progress=Progress("publish", sys.stderr),
                               source=args.events.name)
    finally:
        prod.close()
    print_report(report)
    return 1 if report.ended_early else 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from faust.worker import Worker

    from streams.agents.runtime.gc_tuning import tune_garbage_collector
    from streams.agents.runtime.topics import ensure_topics, once_the_broker_answers
    from streams.agents.worker import build_app, organisation_partitions, topic_specs
    from streams.observe.metrics import Metrics

    settings.pseudonym_key_bytes()  # refuse the demo key before anything starts
    settings.kafka.check()
    org_partitions = once_the_broker_answers(lambda: organisation_partitions(settings), "worker start")
    once_the_broker_answers(lambda: ensure_topics(settings.bootstrap_servers, topic_specs(settings, org_partitions),
                                                  settings.kafka, settings.topics.replication_factor),
                            "worker start")
    app = build_app(settings, Metrics(), org_partitions)
    # the broker reader assigns one partition per range it reads; aiokafka logs each change at INFO
    logging.getLogger("aiokafka.consumer.subscription_state").setLevel(logging.WARNING)
    tune_garbage_collector()
    worker = Worker(app, loglevel=args.log_level.lower(), quiet=True)
    worker.execute_from_commandline()
    return 0


def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    from streams.up import run

    return run(settings, rate=args.rate, days=args.days)


def cmd_flags(args: argparse.Namespace, settings: Settings) -> int:
    from streams.files.flagview import show

    return show(args.bootstrap or settings.bootstrap_servers, args.topic or settings.topics.flags,
                follow=args.follow, as_json=args.json, access=settings.kafka)


def cmd_grafana(args: argparse.Namespace, settings: Settings) -> int:
    from streams.observe import dashboards

    if args.action == "dashboards":
        from streams.generated import check_or_write

        return check_or_write("grafana", dashboards.rendered(), dashboards.DASHBOARD_DIR, args.check,
                              "outcome-monitor grafana dashboards")
    import json

    from streams.observe.provision import connect, provision

    if not args.url:
        print("grafana provision: --url is required", file=sys.stderr)
        return 2
    flags: list[dict[str, object]] = []
    if args.flags:
        try:
            flags = [json.loads(line) for line in args.flags.read_text().splitlines() if line.strip()]
        except (OSError, ValueError) as exc:
            print(f"grafana provision: cannot read the flags file {args.flags}: {exc}", file=sys.stderr)
            return 2
    elif not args.no_annotations:
        from streams.files.flagview import final_flags

        flags = final_flags(args.bootstrap or settings.bootstrap_servers, settings.topics.flags, settings.kafka)
    api = connect(args.url, token=args.token, user=args.user, password=args.password)
    print(provision(api, args.prometheus_url, flags).text())
    return 0


def cmd_schemas(args: argparse.Namespace, settings: Settings) -> int:
    from streams import schemas
    from streams.generated import check_or_write

    return check_or_write("schemas", schemas.rendered(), schemas.SCHEMA_DIR, args.check, "outcome-monitor schemas")


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from streams.core.programme.money import CostTable, ProgrammeCost
    from streams.core.pseudonym import Pseudonymiser
    from streams.report.make import check_request, read_survey, write_report

    try:
        # before any work: a malformed quarter or a programme not configured is one line, not an empty report
        for programme in args.programme:
            check_request(settings.monitor, programme, args.quarter)
        if args.events is None:
            recompute = [flag for flag, value in (("--kind", args.kind), ("--window-months", args.window_months),
                                                  ("--after-months", args.after_months),
                                                  ("--cost-table", args.cost_table),
                                                  ("--programme-cost", args.programme_cost),
                                                  ("--demo-key", args.demo_key or None)) if value is not None]
            if recompute:
                print(f"report: {', '.join(recompute)} change what is computed: give --events to compute the "
                      "figures again (the stored ones were computed with the worker's configuration)",
                      file=sys.stderr)
                return 2
            return _report_from_stored(args, settings, [read_survey(path) for path in args.survey])
        if len(args.programme) > 1:
            print("report: one --programme with --events (each replays them); several with --figures or "
                  "--from-topic", file=sys.stderr)
            return 2
        [programme] = args.programme
        if not args.events.exists():
            print(f"report: no such file: {args.events}", file=sys.stderr)
            return 2
        if args.demo_key:
            settings = settings.model_copy(update={"allow_demo_key": True})
        costs = CostTable.model_validate_json(args.cost_table.read_text()) if args.cost_table else None
        programme_cost = (ProgrammeCost.model_validate_json(args.programme_cost.read_text()) if args.programme_cost
                          else None)
        surveys = [read_survey(path) for path in args.survey]
        write_report(args.events, programme, args.quarter, args.out, config=settings.monitor,
                     pseudonymise=Pseudonymiser(settings.pseudonym_key_bytes()), kind=args.kind,
                     window_months=args.window_months, after_months=args.after_months, costs=costs,
                     programme_cost=programme_cost, surveys=surveys)
    except (OSError, ValueError) as exc:
        print(f"report: {exc}", file=sys.stderr)
        return 2
    return 0


def _report_from_stored(args: argparse.Namespace, settings: Settings, surveys: list[Survey]) -> int:
    from streams.report.make import write_stored_report
    from streams.report.stored import pick, read_figures_file, read_figures_topic

    if args.figures is not None:
        if not args.figures.exists():
            print(f"report: no such file: {args.figures}", file=sys.stderr)
            return 2
        stored, where = read_figures_file(args.figures), str(args.figures)
    else:
        bootstrap = args.bootstrap or settings.bootstrap_servers
        topic = settings.topics.programme_figures or settings.topics.beside_flags("programme-figures")
        stored, where = read_figures_topic(bootstrap, topic, settings.kafka), f"the topic {topic}"
    documents = [pick(stored, programme, args.quarter, where) for programme in args.programme]
    several = len(documents) > 1
    if several and args.out.suffix.lower() in (".html", ".htm"):
        print(f"report: several programmes are several files: --out names their directory, not {args.out}",
              file=sys.stderr)
        return 2
    for programme, document in zip(args.programme, documents, strict=True):
        out = args.out / f"{programme}-{args.quarter.upper()}.html" if several else args.out
        write_stored_report(document, out, surveys=surveys, min_group=settings.monitor.min_group_size)
    return 0
