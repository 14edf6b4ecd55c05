"""The commands that change shipments: add, import, report-missing, resolve, restart, stop.
`add` and `import` need the stores and their policies, not the carriers' or channels'
secrets; `stop` drafts staff notices, so it needs the channels it counts."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from rules import RULES
from rules.missing import case_opens
from trackwatch.cli.common import emit, fields, known_name, opened, settings_for
from trackwatch.cli.reads import shipment_of
from trackwatch.config import Settings
from trackwatch.errors import InputError
from trackwatch.importing.mapping import load_mapping
from trackwatch.importing.presets import PRESETS
from trackwatch.importing.run import ImportOptions, ImportReport, import_csv
from trackwatch.ingest import Accepted, accept
from trackwatch.model import Direction, Status
from trackwatch.stopping import checked_reason, stop_shipment
from trackwatch.store import DuplicateShipment, UnreadableShipment, sqlite_path

# The fields `add` takes, each from the option of the same name.
ADD_FIELDS = ("store", "carrier", "tracking_number", "order_id", "customer_email",
              "customer_name", "customer_phone", "destination_country",
              "destination_postal_code", "destination_city", "shipped_at", "ordered_at",
              "promised_by")  # fmt: skip


def build_shipment(args: argparse.Namespace, settings: Settings) -> Accepted:
    now: datetime = args.now
    given = {name: getattr(args, name) for name in ADD_FIELDS}
    given["shipped_at"] = given["shipped_at"] or now.isoformat()
    given["direction"] = Direction.RETURN if args.is_return else Direction.OUTBOUND
    return accept(given, settings, now)


def add(args: argparse.Namespace) -> int:
    return asyncio.run(_add(args))


async def _add(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    accepted = build_shipment(args, settings)
    shipment = accepted.shipment
    async with opened(settings, create=True) as store:
        try:
            shipment_id = await store.add_shipment(shipment, args.now)
        except DuplicateShipment as exc:
            raise InputError("tracking_number", str(exc)) from None
    if args.json:
        stored = shipment.model_copy(update={"id": shipment_id})
        emit({"id": shipment_id, "shipment": fields(stored), "notes": list(accepted.notes)})
        return 0
    print(f"added shipment {shipment_id}: {shipment.carrier} {shipment.tracking_number}")
    for note in accepted.notes:
        print(f"  {note}")
    return 0


def import_file(args: argparse.Namespace) -> int:
    return asyncio.run(_import(args))


async def _import(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    options = import_options(args)
    document = bool(args.json)
    on_bad = None if document else _print_bad(args.file)
    on_warning = None if document else _print_warning(args.file)
    progress = sys.stderr.isatty()
    path = sqlite_path(settings.daemon.database)
    if options.dry_run and path is not None and not path.exists():
        report = await import_csv(args.file, settings, None, args.now, progress, options,
                                  on_bad, on_warning)  # fmt: skip
    else:
        async with opened(settings, create=not options.dry_run) as store:
            report = await import_csv(args.file, settings, store, args.now, progress, options,
                                      on_bad, on_warning)  # fmt: skip
    if document:
        emit(_import_document(args, report))
    else:
        _print_import(args, report)
    return 1 if report.bad_rows else 0


def import_options(args: argparse.Namespace) -> ImportOptions:
    """--format, --mapping, --store, --date-format and --dry-run, checked."""
    if args.format and args.mapping:
        raise InputError("--mapping", "give --format or --mapping, not both")
    preset = load_mapping(args.mapping) if args.mapping else (
        PRESETS[args.format] if args.format else None)  # fmt: skip
    formats = (args.date_format,) if args.date_format else None
    return ImportOptions(preset, args.store, formats, args.dry_run)


def _print_bad(file: Path) -> Callable[[int, InputError], None]:
    def show(line: int, error: InputError) -> None:
        for problem in error.problems:
            print(f"{file}:{line}: {problem}", file=sys.stderr)

    return show


def _print_warning(file: Path) -> Callable[[int, str], None]:
    def show(line: int, text: str) -> None:
        print(f"{file}:{line}: warning: {text}", file=sys.stderr)

    return show


def ignored_columns(names: tuple[str, ...], shown: int = 12) -> str:
    """The one warning about the columns no field reads: an export may have 170 of them."""
    listed = ", ".join(map(repr, names[:shown]))
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return f"ignored column(s) {listed}{more}"


def _import_document(args: argparse.Namespace, report: ImportReport) -> dict[str, object]:
    bad = [{"line": line, "field": problem.field, "reason": problem.reason}
           for line, error in report.bad for problem in error.problems]  # fmt: skip
    warnings = [{"line": line, "warning": text} for line, text in report.warnings]
    return {"file": str(args.file), "format": report.format, "dry_run": report.dry_run,
            "added": report.added, "unchanged": report.unchanged, "skipped": report.skipped,
            "repeated": report.repeated, "bad": bad, "warnings": warnings,
            "ignored_columns": list(report.ignored), "notes": dict(report.notes)}  # fmt: skip


def _print_import(args: argparse.Namespace, report: ImportReport) -> None:
    if report.ignored:
        print(f"{args.file}: warning: {ignored_columns(report.ignored)}", file=sys.stderr)
    print(f"{args.file}: {report.format} format: {report.summary()}")
    for note in report.note_lines():
        print(f"{args.file}: {note}")


def report_missing(args: argparse.Namespace) -> int:
    return asyncio.run(_report_missing(args))


async def _report_missing(args: argparse.Namespace) -> int:
    settings, shipment_id = settings_for(args), args.id
    async with opened(settings) as store:
        shipment = await shipment_of(store, shipment_id)
        if not shipment.active:
            raise InputError("id", f"shipment {shipment_id} is no longer watched "
                             f"({shipment.stopped}): a report would reach nobody")  # fmt: skip
        if shipment.status is not Status.DELIVERED:
            raise InputError(
                "id", f"shipment {shipment_id} is {shipment.status.value}, not delivered: a "
                "missing report is for parcels the carrier marked delivered",
            )  # fmt: skip
        reported = await store.report_missing(shipment_id, args.by, datetime.now(UTC))
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


def resolve(args: argparse.Namespace) -> int:
    rule = known_name(args.rule, [r.name for r in RULES], "rule")
    return asyncio.run(_resolve(args, rule))


async def _resolve(args: argparse.Namespace, rule: str | None) -> int:
    async with opened(settings_for(args)) as store:
        await shipment_of(store, args.id)
        resolved = await store.resolve_by_hand(args.id, rule, args.note, datetime.now(UTC))
    if not resolved:
        which = f"{rule} alert" if rule else "alert"
        raise InputError("id", f"shipment {args.id} has no open {which}")
    print(f"shipment {args.id}: resolved alert(s) {', '.join(f'#{n}' for n in resolved)}")
    return 0


def stop(args: argparse.Namespace) -> int:
    reason, by = checked_reason(args.reason), checked_reason(args.by, "by")
    return asyncio.run(_stop(args, reason, by))


async def _stop(args: argparse.Namespace, reason: str, by: str) -> int:
    settings = settings_for(args)
    async with opened(settings) as store:
        shipment = await shipment_of(store, args.id)
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


def restart(args: argparse.Namespace) -> int:
    return asyncio.run(_restart(args))


async def _restart(args: argparse.Namespace) -> int:
    async with opened(settings_for(args)) as store:
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
