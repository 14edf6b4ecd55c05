"""The `trackwatch` command. Bad input exits with status 2 and a line naming the field, one
per problem."""

from __future__ import annotations

import argparse
import asyncio
import os
import select
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from carriers import CARRIERS
from rules.missing import case_opens
from trackwatch.bench import run_email_benchmark
from trackwatch.chaos.command import add_chaos_parser, run_chaos
from trackwatch.clock import Clock, SystemClock
from trackwatch.config import ConfigError, Settings, load_settings
from trackwatch.csv_import import import_csv
from trackwatch.db_command import add_db_parser, run_db
from trackwatch.errors import InputError
from trackwatch.fields import whole_number
from trackwatch.forget_command import add_forget_parser, run_forget
from trackwatch.ingest import Accepted, accept, notes_for
from trackwatch.logs import configure as configure_logging
from trackwatch.model import Direction, NoticeState, Shipment, Status
from trackwatch.preview import add_preview_parser, preview_command
from trackwatch.sandbox.demo import run_demo
from trackwatch.service import run_forever
from trackwatch.sim.bench import run_bench_daemons
from trackwatch.sim.command import add_several_arguments, run_simulation
from trackwatch.sim.report import render
from trackwatch.stopping import checked_reason, stop_shipment
from trackwatch.store import (
    DuplicateShipment,
    SchemaMismatch,
    Store,
    StoreInUse,
    UnreadableShipment,
    open_store,
    redacted,
)
from trackwatch.store.transfer import migrate_store
from trackwatch.views import (
    policy_lines,
    print_alerts,
    print_notices,
    print_shipment,
    print_shipments,
)

USAGE_ERROR = 2
PIPE_CLOSED = 1  # what Python itself exits with on EPIPE; a shell pipeline ignores it


def _shipment_id(text: str) -> int:
    number = whole_number(text)
    if number is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a shipment id (a whole number)")
    return number


def build_shipment(args: argparse.Namespace, settings: Settings) -> Accepted:
    now: datetime = args.now
    return accept({
        "store": args.store, "carrier": args.carrier, "tracking_number": args.tracking_number,
        "order_id": args.order_id, "customer_email": args.customer_email,
        "customer_name": args.customer_name, "customer_phone": args.phone,
        "destination_country": args.country, "destination_postal_code": args.postal_code,
        "destination_city": args.city, "shipped_at": args.shipped_at or now.isoformat(),
        "ordered_at": args.ordered_at, "promised_by": args.promised_by,
        "direction": Direction.RETURN if args.is_return else Direction.OUTBOUND,
    }, settings, now)  # fmt: skip


@asynccontextmanager
async def _opened(settings: Settings) -> AsyncIterator[Store]:
    store = await open_store(settings.daemon.database)
    try:
        yield store
    finally:
        await store.close()


async def _add(args: argparse.Namespace, settings: Settings) -> int:
    accepted = build_shipment(args, settings)
    shipment = accepted.shipment
    async with _opened(settings) as store:
        try:
            shipment_id = await store.add_shipment(shipment, args.now)
        except DuplicateShipment as exc:
            raise InputError("tracking_number", str(exc)) from None
    print(f"added shipment {shipment_id}: {shipment.carrier} {shipment.tracking_number}")
    for note in accepted.notes:
        print(f"  {note}")
    return 0


async def _import(args: argparse.Namespace, settings: Settings) -> int:
    async with _opened(settings) as store:
        report = await import_csv(args.file, settings, store, args.now,
                                  progress=sys.stderr.isatty())  # fmt: skip
    for line, error in report.bad:
        for problem in error.problems:
            print(f"{args.file}:{line}: {problem}", file=sys.stderr)
    print(f"{args.file}: {report.summary()}")
    for note in report.note_lines():
        print(f"{args.file}: {note}")
    return 1 if report.bad else 0


async def _list(settings: Settings) -> int:
    async with _opened(settings) as store:
        found = await store.list_shipments()
        print_shipments(found.shipments)
        for row in found.unreadable:
            print(f"{row.shipment_id:>5}  {row.store:<10} set aside: {row.reason}")
    return 0


async def _alerts(settings: Settings) -> int:
    async with _opened(settings) as store:
        print_alerts(await store.open_alerts_of_store(None))
    return 0


async def _notices(state: str | None, settings: Settings) -> int:
    async with _opened(settings) as store:
        print_notices(await store.notices(NoticeState(state) if state else None))
    return 0


async def _shipment(store: Store, shipment_id: int) -> Shipment:
    try:
        shipment = await store.get_shipment(shipment_id)
    except UnreadableShipment as exc:
        raise InputError("id", str(exc)) from None
    if shipment is None:
        raise InputError("id", f"no shipment {shipment_id}")
    return shipment


async def _show(shipment_id: int, settings: Settings) -> int:
    async with _opened(settings) as store:
        shipment = await _shipment(store, shipment_id)
        events = (await store.events_for([shipment_id]))[shipment_id]
        print_shipment(shipment, events, await store.alerts_for(shipment_id),
                       notes_for(shipment, settings))  # fmt: skip
    return 0


async def _report_missing(shipment_id: int, by: str, settings: Settings) -> int:
    async with _opened(settings) as store:
        shipment = await _shipment(store, shipment_id)
        if not shipment.active:
            raise InputError("id", f"shipment {shipment_id} is no longer watched "
                             f"({shipment.stopped}): a report would reach nobody")  # fmt: skip
        if shipment.status is not Status.DELIVERED:
            raise InputError(
                "id", f"shipment {shipment_id} is {shipment.status.value}, not delivered: a "
                "missing report is for parcels the carrier marked delivered",
            )  # fmt: skip
        reported = await store.report_missing(shipment_id, by, datetime.now(UTC))
        events = (await store.events_for([shipment_id])).get(shipment_id, [])
    if reported is None:  # gone between the two reads
        raise InputError("id", f"no shipment {shipment_id}")
    wait = settings.store(shipment.store).policy.delivered.wait_hours
    opens = case_opens(reported, events, wait)  # as the rule counts it: from the delivery scan
    first = shipment.missing_reported_at is None
    print(f"shipment {shipment_id}: {'reported' if first else 'already reported'} as not "
          f"received at {reported:%Y-%m-%d %H:%M UTC}; the claim starts at "
          f"{opens.astimezone(UTC):%Y-%m-%d %H:%M UTC} if it has not turned up")  # fmt: skip
    return 0


async def _resolve(args: argparse.Namespace, settings: Settings) -> int:
    async with _opened(settings) as store:
        await _shipment(store, args.id)
        resolved = await store.resolve_by_hand(args.id, args.rule, args.note, datetime.now(UTC))
    if not resolved:
        which = f"{args.rule} alert" if args.rule else "alert"
        raise InputError("id", f"shipment {args.id} has no open {which}")
    print(f"shipment {args.id}: resolved alert(s) {', '.join(f'#{n}' for n in resolved)}")
    return 0


async def _stop(args: argparse.Namespace, settings: Settings) -> int:
    reason, by = checked_reason(args.reason), checked_reason(args.by, "by")
    async with _opened(settings) as store:
        shipment = await _shipment(store, args.id)
        done = await stop_shipment(store, settings, shipment, reason, by, datetime.now(UTC))
    if done.already:
        print(f"shipment {args.id}: already stopped ({done.stopped}); nothing changed")
        return 0
    resolved = ", ".join(f"#{n}" for n in done.resolved) or "none"
    print(f"shipment {args.id}: stopped watching ({done.stopped}): no more polls, alerts or "
          f"customer notices; resolved alert(s) {resolved}; {done.cancelled} customer "
          f"notice(s) cancelled; staff told of {done.told} resolution(s). "
          f"`trackwatch restart {args.id}` watches it again")  # fmt: skip
    return 0


def _migrate_store(source: str, target: str) -> int:
    copied = asyncio.run(migrate_store(source, target))
    rows = ", ".join(f"{n} {table}" for table, n in copied.items())
    print(f"copied {redacted(source)} to {redacted(target)}: {rows}")
    print(f"point [daemon] database at {redacted(target)} and start the daemons")
    return 0


def _check_config(settings: Settings, path: Path) -> int:
    print(f"{path}: OK")
    print(f"database: {redacted(settings.daemon.database)}")
    for name in CARRIERS:
        carrier = settings.carriers.get(name)
        state = "enabled" if carrier.enabled else "disabled"
        print(f"carrier {name}: {state}, {carrier.base_url}")
    for store_id, store in settings.stores.items():
        channels = {k: len(v) for k, v in store.channels.model_dump().items()}
        source = f" from {store.policy_file}" if store.policy_file else ""
        print(f"store {store_id} ({store.name}): channels {channels}")
        print(f"  effective policy{source}:")
        for line in policy_lines(store.policy):
            print(f"    {line}")
    return 0


async def _restart(args: argparse.Namespace, settings: Settings) -> int:
    async with _opened(settings) as store:
        try:
            shipment = await store.get_shipment(args.id)
            why = shipment and (shipment.stopped or shipment.set_aside)
        except UnreadableShipment as exc:  # set aside as unreadable: mended by hand, we hope
            why = exc.row.reason
        else:
            if shipment is None:
                raise InputError("id", f"no shipment {args.id}")
        if not await store.restart_polling(args.id, datetime.now(UTC)):
            raise InputError("id", f"shipment {args.id} is still polled (nothing to restart)")
    print(f"shipment {args.id}: polling restarted (it had stopped: {why}); a running daemon "
          "polls it within its idle minute")  # fmt: skip
    return 0


def _restart_and_stop_parsers(sub: Any) -> tuple[argparse.ArgumentParser, ...]:
    restart: argparse.ArgumentParser = sub.add_parser(
        "restart", help="watch a shipment again whose polling stopped (delivered, expired, "
        "lost, or stopped by hand)")  # fmt: skip
    restart.add_argument("id", type=_shipment_id)
    stop: argparse.ArgumentParser = sub.add_parser(
        "stop", help="stop watching a shipment (order cancelled, label voided): no more "
        "polls, alerts or customer notices; its open alerts resolve, staff told")  # fmt: skip
    stop.add_argument("id", type=_shipment_id)
    stop.add_argument("--reason", required=True, help="why, for the record")
    stop.add_argument("--by", default="staff (cli)", help="who stopped it")
    return restart, stop


def _sandbox_parser(sub: Any) -> None:
    sandbox = sub.add_parser("sandbox", help="serve the four carriers' APIs with a generated "
                             "world in real time, and a configuration for trying `run` on it")  # fmt: skip
    sandbox.add_argument("--port", type=int, default=8780, help="the carriers' port (0: any)")
    sandbox.add_argument("--dir", type=Path, default=Path("trackwatch-sandbox"),
                         help="where to write trackwatch.toml, shipments.csv and the database")  # fmt: skip
    sandbox.add_argument("--shipments", type=int, choices=range(1, 10_001), default=40,
                         metavar="1..10000")  # fmt: skip
    sandbox.add_argument("--seed", type=int, default=1)


def _sandbox(args: argparse.Namespace) -> int:
    # Imported here: no other command needs the sandbox (nor the simulator it uses).
    from trackwatch.sandbox.live import serve_sandbox  # noqa: PLC0415

    return asyncio.run(serve_sandbox(args.dir, args.port, args.shipments, args.seed,
                                     SystemClock()))  # fmt: skip


def _migrate_parser(sub: Any) -> None:
    move = sub.add_parser("migrate-store", help="copy a whole database into an empty one on "
                          "another backend (SQLite to PostgreSQL, or back); stop the daemons first")  # fmt: skip
    move.add_argument("source", metavar="FROM", help="a path, sqlite:///path or postgresql://…")
    move.add_argument("target", metavar="TO", help="an empty database (made if need be)")


def _add_parser(sub: Any) -> argparse.ArgumentParser:
    add: argparse.ArgumentParser = sub.add_parser("add", help="watch a shipment")
    for flag in ("--store", "--tracking-number", "--order-id"):
        add.add_argument(flag, required=True)
    add.add_argument("--customer-email", default="",
                     help="one address; without one, staff alerts only")  # fmt: skip
    add.add_argument("--carrier", help="USPS, UPS, FedEx or DHL, as the label names it "
                     "(default: from the number)")  # fmt: skip
    add.add_argument("--customer-name", default="")
    add.add_argument("--phone", default="", help="the customer's number (E.164), for texts")
    add.add_argument("--country", default="US", help="destination country (ISO 3166 alpha-2)")
    add.add_argument("--postal-code", default="", help="destination postal code")
    add.add_argument("--city", default="", help="destination city")
    add.add_argument("--shipped-at", help="ISO date or date-time with offset (default: now)")
    add.add_argument("--ordered-at", help="when the order was placed (the promise runs from it)")
    add.add_argument("--promised-by", help="the delivery date promised for this order")
    add.add_argument("--return", dest="is_return", action="store_true",
                     help="a return on its way back to the store")  # fmt: skip
    return add


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trackwatch", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the daemon")
    run.add_argument("--config", type=Path, required=True)
    sub.add_parser("demo", help="play the built-in scenario against the sandbox")
    bench = sub.add_parser("bench-email", help="customer-email throughput to a local SMTP server")
    bench.add_argument("--notices", type=int, default=200)
    sim = sub.add_parser("simulate", help="the daemon against a generated world in simulated "
                         "time, scored against its ground truth")  # fmt: skip
    sim.add_argument("--shipments", type=int, default=1000)
    sim.add_argument("--days", type=float, default=30)
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--carriers", help="comma-separated (default: all four, in the usual mix)")
    sim.add_argument("--baseline", help="also run fixed-interval polling, e.g. fixed:4h")
    sim.add_argument("--ship-days", type=float, help="labels printed over this many days")
    add_several_arguments(sub, sim)
    add_chaos_parser(sub)
    add = _add_parser(sub)
    imports = sub.add_parser("import", help="watch the shipments of a CSV file (README: "
                             "Feeding it orders); bad rows are reported, good ones stored")  # fmt: skip
    imports.add_argument("file", type=Path)
    show = sub.add_parser("show", help="a shipment's events and alerts, with explanations")
    show.add_argument("id", type=_shipment_id)
    report = sub.add_parser("report-missing", help="the customer says a delivered parcel is "
                            "not there: starts the delivered-not-received wait")  # fmt: skip
    report.add_argument("id", type=_shipment_id)
    report.add_argument("--by", default="staff (cli)", help="who reported it")
    resolve = sub.add_parser("resolve", help="resolve a shipment's open alerts by hand")
    resolve.add_argument("id", type=_shipment_id)
    resolve.add_argument("--rule", help="only this rule's alert (e.g. returns)")
    resolve.add_argument("--note", default="resolved by hand", help="why, for the record")
    restart, stop = _restart_and_stop_parsers(sub)
    sub.add_parser("list", help="every shipment")
    sub.add_parser("alerts", help="open alerts, oldest first")
    notices = sub.add_parser("notices", help="notices and their delivery state")
    notices.add_argument("--state", choices=[s.value for s in NoticeState])
    notices.add_argument("--dead", dest="state", action="store_const", const="dead",
                         help="only dead-lettered notices")  # fmt: skip
    check = sub.add_parser("check-config", help="validate a configuration file")
    check.add_argument("file", type=Path)
    add_preview_parser(sub)
    _migrate_parser(sub)
    _sandbox_parser(sub)
    add_forget_parser(sub)
    add_db_parser(sub)
    for command in (add, imports, show, report, resolve, restart, stop, notices,
                    sub.choices["list"], sub.choices["alerts"]):  # fmt: skip
        command.add_argument("--config", type=Path, default=None)
    return parser


_TOOLS: dict[str, Callable[[argparse.Namespace], int]] = {
    "sandbox": _sandbox,
    "migrate-store": lambda args: _migrate_store(args.source, args.target),
}


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "demo":
        return asyncio.run(run_demo())
    if args.command == "bench-email":
        figures = asyncio.run(run_email_benchmark(args.notices))
        print(" ".join(f"{key}={value}" for key, value in figures.items()))
        return 0 if figures["received_by_smtp"] == args.notices else 1
    if args.command == "bench-daemons":
        return run_bench_daemons(args)
    if args.command == "simulate":
        result = run_simulation(args.shipments, args.days, args.seed, args.baseline,
                                args.carriers, args.ship_days, args.database, args.daemons,
                                args.kill_seed)  # fmt: skip
        print(render(result, args.json))
        return 0
    if args.command == "chaos":
        report, status = run_chaos(args.kills, args.seed, args.phases, args.json,
                                   args.examples, args.workdir)  # fmt: skip
        print(report)
        return status
    if args.command == "check-config":
        return _check_config(load_settings(args.file), args.file)
    if (tool := _TOOLS.get(args.command)) is not None:
        return tool(args)
    if args.command == "preview":
        print(preview_command(args.store, args.config, args.policy), end="")
        return 0
    settings = load_settings(args.config)
    if args.command == "run":
        configure_logging(settings.daemon.log_level, settings)
        asyncio.run(run_forever(settings, SystemClock(), args.config))
        return 0
    return asyncio.run(_DATABASE_COMMANDS[args.command](args, settings))


_DATABASE_COMMANDS: dict[
    str, Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]
] = {
    "add": _add,
    "import": _import,
    "show": lambda args, settings: _show(args.id, settings),
    "report-missing": lambda args, settings: _report_missing(args.id, args.by, settings),
    "resolve": _resolve,
    "restart": _restart,
    "stop": _stop,
    "list": lambda args, settings: _list(settings),
    "alerts": lambda args, settings: _alerts(settings),
    "notices": lambda args, settings: _notices(args.state, settings),
}


def _stdout_closed() -> bool:
    """Whether standard output's reader has gone (`trackwatch list | head` after ten lines):
    poll reports an error on a pipe with no reader left. If so, stdout now writes to
    /dev/null, so that the interpreter's own flush at exit does not fail again (Python's
    documented way to end quietly on EPIPE)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    if not any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0)):
        return False
    os.dup2(os.open(os.devnull, os.O_WRONLY), fd)
    return True


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {"forget": run_forget, "db": run_db}


def main(argv: Sequence[str] | None = None, clock: Clock | None = None) -> int:
    """Run one command; `clock` (tests) is the time `add` and `import` judge dates by."""
    args = _parser().parse_args(argv)
    args.now = (clock or SystemClock()).now()
    try:
        status = _COMMANDS.get(args.command, _dispatch)(args)
        sys.stdout.flush()  # a reader gone shows here, not in the interpreter's exit
        return status
    except BrokenPipeError:
        if not _stdout_closed():
            raise  # a broken pipe of something else (a socket) is a real error
        return PIPE_CLOSED
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"config error: {problem}", file=sys.stderr)
        return USAGE_ERROR
    except InputError as exc:
        for each in exc.problems:
            print(f"error: {each}", file=sys.stderr)
        return USAGE_ERROR
    except (StoreInUse, SchemaMismatch) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR


if __name__ == "__main__":
    sys.exit(main())
