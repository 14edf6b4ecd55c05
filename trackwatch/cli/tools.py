"""The tools around the daemon: the demo, the simulator, the chaos suite, the benchmarks and
the message preview. Each handler imports its machinery when it runs, so that the operator's
commands and `--help` never load the sandbox, the simulator, aiosmtpd or Hypothesis."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

from trackwatch.cli.parsers import CONFIG_HELP, Register, SubParsers
from trackwatch.errors import InputError

TOOLS = "trackwatch.cli.tools"
DEMO_EXTRA = "the demo extra: pip install -e '.[demo]' (or 'trackwatch[demo]')"


def _needs_smtp_server(command: str) -> None:
    """The sandbox's SMTP server is aiosmtpd, an optional extra: say how to get it."""
    if importlib.util.find_spec("aiosmtpd") is None:
        raise InputError(command, f"needs aiosmtpd, from {DEMO_EXTRA}")


def add_demo(sub: SubParsers) -> None:
    demo = sub.add_parser("demo", help="play the built-in scenario against the sandbox")
    demo.set_defaults(handler=f"{TOOLS}:demo")


def demo(args: argparse.Namespace) -> int:
    _needs_smtp_server("demo")
    import asyncio

    from trackwatch.sandbox.demo import run_demo

    return asyncio.run(run_demo())


def add_bench_email(sub: SubParsers) -> None:
    bench = sub.add_parser("bench-email", help="customer-email throughput to a local SMTP server")
    bench.add_argument("--notices", type=int, default=200)
    bench.set_defaults(handler=f"{TOOLS}:bench_email")


def bench_email(args: argparse.Namespace) -> int:
    _needs_smtp_server("bench-email")
    import asyncio

    from trackwatch.bench import run_email_benchmark

    figures = asyncio.run(run_email_benchmark(args.notices))
    print(" ".join(f"{key}={value}" for key, value in figures.items()))
    return 0 if figures["received_by_smtp"] == args.notices else 1


def add_bench_import(sub: SubParsers) -> None:
    bench = sub.add_parser("bench-import", help="rows per second and peak memory of `import` "
                           "(a fresh import, then the same rows again) on SQLite")  # fmt: skip
    bench.add_argument("--rows", type=int, default=100_000)
    bench.set_defaults(handler=f"{TOOLS}:bench_import")


def bench_import(args: argparse.Namespace) -> int:
    from trackwatch.importing.bench import measure_import

    if args.rows < 1:
        raise InputError("--rows", "at least 1")
    figures = measure_import(args.rows)
    print(" ".join(f"{key}={value}" for key, value in figures.items()))
    return 0 if figures["fresh_exit"] == figures["reimport_exit"] == 0 else 1


def add_simulate(sub: SubParsers) -> None:
    sim = sub.add_parser("simulate", help="the daemon against a generated world in simulated "
                         "time, scored against its ground truth")  # fmt: skip
    sim.add_argument("--shipments", type=int, default=1000)
    sim.add_argument("--days", type=float, default=30)
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--carriers", help="comma-separated (default: all four, in the usual mix)")
    sim.add_argument("--baseline", help="fixed-interval polling run beside it on the same "
                     "world, fixed:<hours>h (default fixed:4h; none: no baseline)")  # fmt: skip
    sim.add_argument("--ship-days", type=float, help="labels printed over this many days")
    sim.add_argument("--json", action="store_true", help="one JSON object")
    sim.add_argument("--database", help="postgresql://… (an empty database): the daemons run "
                     "as processes sharing it. The same seed gives the same world, but their "
                     "race may differ from run to run: the scorecard is what must hold")  # fmt: skip
    sim.add_argument("--daemons", type=int, default=1, help="daemon processes (with --database)")
    sim.add_argument("--kill-seed", type=int, help="SIGKILL one daemon mid-pass and start it "
                     "again some steps later (which, when: from this seed)")  # fmt: skip
    sim.add_argument("--push", action="store_true", help="every carrier pushes its scans to "
                     "the daemon (the baseline, if any, still polls without push)")  # fmt: skip
    sim.set_defaults(handler=f"{TOOLS}:simulate")


def simulate(args: argparse.Namespace) -> int:
    from trackwatch import collector
    from trackwatch.sim.command import run_simulation
    from trackwatch.sim.report import render

    if args.own_process:
        collector.tune()
    result = run_simulation(args.shipments, args.days, args.seed, args.baseline, args.carriers,
                            args.ship_days, args.database, args.daemons, args.kill_seed,
                            args.push)  # fmt: skip
    print(render(result, args.json))
    return 0


def add_bench_daemons(sub: SubParsers) -> None:
    bench = sub.add_parser("bench-daemons", help="carrier responses per second of 1, 2 and 3 "
                           "daemons on PostgreSQL, beside SQLite's one daemon")  # fmt: skip
    bench.add_argument("--database", required=True, help="postgresql://… of a server where "
                       "the role may create databases (one new database per configuration)")  # fmt: skip
    bench.add_argument("--shipments", type=int, default=30_000)
    bench.add_argument("--seconds", type=float, default=10.0, help="measured window")
    bench.add_argument(
        "--warm-up", type=float, default=4.0, help="seconds before it, from the first carrier call"
    )
    bench.set_defaults(handler=f"{TOOLS}:bench_daemons")


def bench_daemons(args: argparse.Namespace) -> int:
    from trackwatch.sim.bench import run_bench_daemons

    return run_bench_daemons(args)


def add_bench_console(sub: SubParsers) -> None:
    bench = sub.add_parser("bench-console", help="the staff console's pages timed over HTTP "
                           "with a large store behind them (target: under 100 ms)")  # fmt: skip
    bench.add_argument("--shipments", type=int, default=100_000)
    bench.add_argument("--alerts", type=int, default=10_000, help="open alerts")
    bench.add_argument("--database", help="an empty database: a path, sqlite:///… or "
                       "postgresql://… (default: a new SQLite file in a temporary directory)")  # fmt: skip
    bench.add_argument("--requests", type=int, default=20, help="timed requests per page")
    bench.add_argument("--warm-up", type=int, default=3, help="untimed requests before them")
    bench.set_defaults(handler=f"{TOOLS}:bench_console")


def bench_console(args: argparse.Namespace) -> int:
    import asyncio

    from trackwatch.bench_console import run_bench_console

    if args.shipments < 12 or args.requests < 1 or args.warm_up < 0:
        raise InputError("--shipments", "at least 12, with --requests at least 1")
    table, met = asyncio.run(run_bench_console(args.shipments, args.alerts, args.database,
                                               args.requests, args.warm_up))  # fmt: skip
    print(table)
    return 0 if met else 1


def add_bench(sub: SubParsers) -> None:
    bench = sub.add_parser("bench", help="what a response, a pass and the daemon cost, each "
                           "beside a reference in the same run: parsers beside karrio's and "
                           "json.loads, end to end beside raw aiohttp, pass cost by store "
                           "size, daemon memory, import (the issue's targets checked)")  # fmt: skip
    bench.add_argument("--quick", action="store_true", help="small sizes: a minute, to check "
                       "that every section runs (its figures mean little)")  # fmt: skip
    bench.add_argument("--e2e-only", action="store_true", help="the end-to-end section alone "
                       "(daemon beside raw aiohttp): a minute, to compare two builds")  # fmt: skip
    bench.set_defaults(handler=f"{TOOLS}:bench")


def bench(args: argparse.Namespace) -> int:
    from trackwatch import collector
    from trackwatch.benchmark.command import run_bench

    if args.own_process:
        collector.tune()  # the daemon measured as `trackwatch run` runs it
    return run_bench(args.quick, e2e_only=args.e2e_only)


def add_chaos(sub: SubParsers) -> None:
    chaos = sub.add_parser("chaos", help="the daemon killed -9, its carriers failing, its "
                           "input fuzzed; checked against the targets (README: Chaos suite)")  # fmt: skip
    chaos.add_argument("--kills", type=int, default=8, help="SIGKILLs in the kill phase")
    chaos.add_argument("--seed", type=int, help="default: drawn at random and printed")
    chaos.add_argument("--phases", help="comma-separated: kills,faults,fuzz (default: all)")
    chaos.add_argument("--examples", type=int, default=50, help="fuzzed inputs per way in")
    chaos.add_argument("--workdir", type=Path, help="keep databases, configs and logs here")
    chaos.add_argument("--json", action="store_true", help="one JSON object")
    chaos.set_defaults(handler=f"{TOOLS}:chaos")


def chaos(args: argparse.Namespace) -> int:
    _needs_smtp_server("chaos")
    from trackwatch.chaos.command import run_chaos

    report, status = run_chaos(args.kills, args.seed, args.phases, args.json, args.examples,
                               args.workdir)  # fmt: skip
    print(report)
    return status


def add_preview(sub: SubParsers) -> None:
    preview = sub.add_parser("preview", help="every message a store's customers and staff can "
                             "get under its policy, for a sample parcel")  # fmt: skip
    preview.add_argument("--store", help="the store's id in --config (with --policy: its name)")
    preview.add_argument("--config", type=Path, default=argparse.SUPPRESS, help=CONFIG_HELP)
    preview.add_argument("--policy", type=Path, help="a policy file instead of a configured store")
    preview.set_defaults(handler=f"{TOOLS}:preview")


def preview(args: argparse.Namespace) -> int:
    from trackwatch.cli.common import config_path
    from trackwatch.preview import preview_command

    config = None if args.policy is not None else config_path(args)
    print(preview_command(args.store, config, args.policy), end="")
    return 0


def add_sandbox(sub: SubParsers) -> None:
    sandbox = sub.add_parser("sandbox", help="serve the four carriers' APIs with a generated "
                             "world in real time, and a configuration for trying `run` on it")  # fmt: skip
    sandbox.add_argument("--port", type=int, default=8780, help="the carriers' port (0: any)")
    sandbox.add_argument("--dir", type=Path, default=Path("trackwatch-sandbox"),
                         help="where to write trackwatch.toml, shipments.csv and the database")  # fmt: skip
    sandbox.add_argument("--shipments", type=int, choices=range(1, 10_001), default=40,
                         metavar="1..10000")  # fmt: skip
    sandbox.add_argument("--seed", type=int, default=1)
    sandbox.set_defaults(handler=f"{TOOLS}:sandbox")


def sandbox(args: argparse.Namespace) -> int:
    _needs_smtp_server("sandbox")
    import asyncio

    from trackwatch.clock import SystemClock
    from trackwatch.sandbox.live import serve_sandbox

    return asyncio.run(serve_sandbox(args.dir, args.port, args.shipments, args.seed,
                                     SystemClock()))  # fmt: skip


COMMANDS: list[Register] = [
    add_preview, add_demo, add_sandbox, add_simulate, add_chaos, add_bench_email,
    add_bench_daemons, add_bench_console, add_bench_import, add_bench,
]  # fmt: skip
