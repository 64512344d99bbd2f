"""Benchmark: 100 agents over 10 structures on loopback, then PostgreSQL restarted under load.

Run from the repository root (PostgreSQL's server binaries must be installed, not running):

    .venv/bin/python -m benchmarks.load.run

The script starts its own stack: a private PostgreSQL cluster on a free port of 127.0.0.1
(never the shared server), the structures with their agents and synthetic files, gunicorn on
127.0.0.1, and a signed-in session per agent written directly in the database (sign-in is
bypassed; tests/signin covers it). Locust then drives the agents in two phases on the same
gunicorn: a steady load, then a shorter one during which PostgreSQL is stopped and started
again. After each phase the interviews stored are compared with the writes the clients saw
acknowledged. The script prints the figures, rewrites the "## Load" section of
docs/benchmarks.md unless --no-docs is given, and exits with status 1 if a check failed.
"""

import argparse
import logging
import shlex
import sys
from collections import Counter
from collections.abc import Sequence

from benchmarks.common import (
    bounded,
    load_average,
    machine_facts,
    machine_sentence,
    wrap,
    write_section,
)
from benchmarks.load.cluster import private_cluster
from benchmarks.load.harness import MAX_DURATION_S, MAX_USERS, PhaseResult, run_phase
from benchmarks.load.stack import StackOptions, load_stack

SECTION_TITLE = "## Load"
MAX_STRUCTURES = 50
MAX_FILES = 20_000

logger = logging.getLogger("benchmarks.load")


def latency_table(result: PhaseResult) -> str:
    lines = [
        "| request | answered | median ms | p95 ms | p99 ms |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for kind, figures in result.latencies().items():
        lines.append(
            f"| {kind} | {figures['count']} | {figures['median']:.0f} | {figures['p95']:.0f} "
            f"| {figures['p99']:.0f} |"
        )
    return "\n".join(lines)


def loads(result: PhaseResult) -> str:
    before = ", ".join(f"{value:.2f}" for value in result.load_before)
    after = ", ".join(f"{value:.2f}" for value in result.load_after)
    return f"load average (1, 5 and 15 min) {before} before the phase and {after} after it"


def phase_summary(result: PhaseResult) -> str:
    outcomes = result.outcomes()
    writes = result.writes
    return (
        f"{result.users} agents for {result.duration_s} s, {loads(result)}: "
        f"{len(result.records)} requests ({result.requests_per_second():.1f} per second), "
        f"{outcomes['ok']} answered as expected, {outcomes['unavailable']} French 503 pages, "
        f"{outcomes['error']} errors. Interviews: {writes.acknowledged} acknowledged, "
        f"{writes.stored} stored, {len(writes.missing)} acknowledged but missing, "
        f"{len(writes.duplicated)} duplicated, {len(writes.misplaced)} in another structure's "
        f"schema, {writes.unacknowledged_stored} stored although the client got an error."
    )


def fault_summary(result: PhaseResult, outage_s: float) -> str:
    assert result.restart is not None
    restart = result.restart
    window = result.unavailable_window()
    recovery = result.recovery_s()
    text = (
        f"PostgreSQL was stopped (fast mode) and started again {outage_s:g} s later; the "
        f"restart took {restart.ended - restart.began:.1f} s from the stop command to the end "
        f"of the start command. "
    )
    if window is None:
        text += "No request got the 503 page. "
    else:
        text += (
            f"The 503 pages answered requests from {window[0]:.1f} s to {window[1]:.1f} s after "
            f"the stop command. "
        )
    if recovery is not None:
        text += (
            f"The first request that succeeded after the restart started {recovery:.2f} s after "
            f"PostgreSQL was back. "
        )
    text += (
        "gunicorn's master and workers were the same processes before and after the phase."
        if result.gunicorn_kept
        else "gunicorn's processes changed during the phase: a worker died or was replaced."
    )
    return text


def failures(steady: PhaseResult, fault: PhaseResult | None) -> list[str]:
    found = []
    for name, result in [("steady", steady), ("restart", fault)]:
        if result is None:
            continue
        errors = result.errors()
        if errors:
            statuses = Counter(f"HTTP {e['status']} on {e['kind']}" for e in errors)
            listed = ", ".join(f"{count} × {what}" for what, count in statuses.items())
            found.append(f"{name} phase: {len(errors)} errors ({listed}; HTTP 0: no answer)")
        if not result.writes.ok:
            found.append(f"{name} phase: write check failed: {result.writes}")
        if not result.gunicorn_kept:
            found.append(f"{name} phase: gunicorn's processes changed")
    if steady.outcomes()["unavailable"]:
        found.append("steady phase: 503 pages without a restart")
    return found


METHOD = """\
`benchmarks/load/run.py` starts a stack of its own on this machine: a private PostgreSQL
cluster (initdb and pg_ctl of the system's binaries, on a free port of 127.0.0.1, `fsync`
off), `migrate_schemas`, the structures provisioned from the template schema, agents with the
social worker role, synthetic files inserted with `bulk_create` (Faker `fr_FR` names, birth
dates, addresses and phones, every file active), and gunicorn on 127.0.0.1 with gthread
workers as in the container image. **Sign-in is bypassed**: the script writes each agent's
session row itself, as `django.contrib.auth.login` does after a ProConnect sign-in, and the
clients send that cookie; tests/signin covers the real sign-in against a local OpenID
provider. DEBUG is off and the cache is each worker's local memory (no `REDIS_URL`).

Locust users take the agents in turn, so they spread evenly over the structures. Each sends its
structure's `Host` header (`<slug>.localhost`) to 127.0.0.1 and waits 1 to 3 s between tasks.
Tasks, by weight: search by a last name from the structure's files (3), open a file (3), open
the new interview form of a file and save it (1). An interview's synthesis starts with
`[<structure slug>] <client token>`, a token new for every attempt, and a save counts as
acknowledged only when the server redirects to the new interview. Clients never retry. After
each phase the script reads every interview of every structure's schema: each acknowledged
token must be stored exactly once, in its own structure's schema, no token may be stored twice,
and no row may carry another structure's slug. Latencies are the client's wall time of the
requests answered as expected, nearest-rank percentiles; Locust and gunicorn share the
machine's cores.

The restart phase runs on the same gunicorn processes: PostgreSQL is stopped with
`pg_ctl stop -m fast` (open sessions are ended), kept down for a few seconds, then started
again. Requests during that time should get the French 503 page (`src/templates/503.html`),
then succeed again without any restart of gunicorn, whose workers reconnect on their own
(`CONN_HEALTH_CHECKS`). A write that got an error may be absent, never duplicated. The short
version of this phase runs in the test suite: tests/faults/test_postgres_restart.py."""


def render(
    args: argparse.Namespace,
    command: str,
    facts: dict[str, str],
    prepare_s: float,
    steady: PhaseResult,
    fault: PhaseResult | None,
    problems: list[str],
) -> str:
    parts = [
        SECTION_TITLE,
        METHOD,
        "### Figures",
        f"Command, from the repository root:\n\n    {command}",
        wrap(machine_sentence(facts)),
        wrap(
            f"Data: {args.structures} structures of {args.files:,} files and "
            f"{args.users // args.structures} agents each, prepared in {prepare_s:.0f} s "
            f"(migrations, template, provisioning, files and sessions). gunicorn: "
            f"{args.workers} workers of {args.threads} threads."
        ),
        wrap("**Steady load.** " + phase_summary(steady)),
        latency_table(steady),
    ]
    if fault is not None:
        parts += [
            wrap(
                "**PostgreSQL restarted under load.** "
                f"{phase_summary(fault)} {fault_summary(fault, args.outage)}"
            ),
            latency_table(fault),
        ]
    busiest = max(float(facts["load_before"].split(",")[0]), steady.load_after[0])
    if busiest > int(facts["cores"]):
        parts.append(
            wrap(
                f"Other programs kept the machine busy (1-minute load average up to "
                f"{busiest:.1f} on {facts['cores']} cores), so these latencies mostly measure "
                "waiting for a core: they are an upper bound, not the service's capacity."
            )
        )
    if problems:
        parts += ["**Checks that failed:**", "\n".join(f"- {p}" for p in problems)]
    else:
        parts.append(
            "Every check passed: no HTTP error, no write in another structure, every "
            "acknowledged write stored exactly once"
            + (", and only French 503 pages during the restart." if fault else ".")
        )
    return "\n\n".join(parts)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with private_cluster() as cluster:
        facts = machine_facts(cluster.url)
        options = StackOptions(
            structures=args.structures,
            files=args.files,
            agents_per_structure=max(1, args.users // args.structures),
            workers=args.workers,
            threads=args.threads,
        )
        logger.info("Preparing %d structures of %d files", args.structures, args.files)
        with load_stack(cluster, options) as stack:
            logger.info("Prepared in %.0f s; steady phase of %d s", stack.prepare_s, args.duration)
            steady = run_phase(stack, args.users, args.duration)
            print(phase_summary(steady))
            print(latency_table(steady))
            fault = None
            if args.fault_duration:
                logger.info("Restart phase of %d s", args.fault_duration)
                fault = run_phase(
                    stack,
                    args.users,
                    args.fault_duration,
                    restart_after_s=args.restart_after,
                    outage_s=args.outage,
                )
                print(phase_summary(fault), fault_summary(fault, args.outage))
                print(latency_table(fault))
                if fault.errors():
                    # gunicorn's log, with the tracebacks, goes away with the stack.
                    print(stack.log_tail(120), file=sys.stderr)
            prepare_s = stack.prepare_s
    facts["load_after"] = load_average()
    problems = failures(steady, fault)
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    if not args.no_docs:
        command = shlex.join([".venv/bin/python", "-m", "benchmarks.load.run", *sys.argv[1:]])
        write_section(
            SECTION_TITLE, render(args, command, facts, prepare_s, steady, fault, problems)
        )
    if problems:
        sys.exit(1)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--structures", type=bounded(1, MAX_STRUCTURES), default=10)
    parser.add_argument(
        "--files", type=bounded(10, MAX_FILES), default=3000, help="Files per structure."
    )
    parser.add_argument("--users", type=bounded(1, MAX_USERS), default=100)
    parser.add_argument(
        "--duration",
        type=bounded(10, MAX_DURATION_S),
        default=180,
        help=f"Seconds of steady load (default 180, at most {MAX_DURATION_S}).",
    )
    parser.add_argument(
        "--fault-duration",
        type=bounded(0, MAX_DURATION_S),
        default=60,
        help="Seconds of the restart phase; 0 skips it (default 60).",
    )
    parser.add_argument("--restart-after", type=bounded(1, MAX_DURATION_S), default=20)
    parser.add_argument(
        "--outage", type=float, default=5.0, help="Seconds PostgreSQL stays stopped (default 5)."
    )
    parser.add_argument("--workers", type=bounded(1, 16), default=2)
    parser.add_argument("--threads", type=bounded(1, 16), default=4)
    parser.add_argument("--no-docs", action="store_true", help="Leave docs/benchmarks.md alone.")
    args = parser.parse_args(argv)
    if args.users < args.structures:
        parser.error("--users must be at least --structures")
    if args.fault_duration and args.restart_after + args.outage >= args.fault_duration:
        parser.error("the restart and its outage must end before --fault-duration")
    if not 0 <= args.outage <= 60:
        parser.error("--outage must be between 0 and 60 s")
    return args


if __name__ == "__main__":
    main()
