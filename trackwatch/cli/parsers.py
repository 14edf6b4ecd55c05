"""The operator's sub-commands and their options. Nothing here imports more than argparse:
each parser names its handler ("module:function"), imported when the command runs.

Flags are named after the fields they set (`--destination-country` sets
`destination_country`); the older short names stay as hidden aliases.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

SubParsers = Any  # argparse's _SubParsersAction, whose type is private
Register = Callable[[SubParsers], None]

CONFIG_HELP = ("the configuration file (default: $TRACKWATCH_CONFIG, else "
               "/etc/trackwatch/trackwatch.toml); before or after the command")  # fmt: skip
SQLITE_MAX_ID = 2**63 - 1
READS = "trackwatch.cli.reads"
WRITES = "trackwatch.cli.writes"
ADMIN = "trackwatch.cli.admin"
# trackwatch.importing.presets.PRESETS, named here without importing it.
IMPORT_FORMATS = ("shipstation", "woocommerce", "shopify-fulfillments", "trackwatch")


def command(sub: SubParsers, name: str, handler: str, help: str) -> argparse.ArgumentParser:
    """A sub-command taking `--config` (after the command name too: given there, it wins
    over one given before it)."""
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help)
    parser.add_argument("--config", type=Path, default=argparse.SUPPRESS, help=CONFIG_HELP)
    parser.set_defaults(handler=handler)
    return parser


def shipment_id(text: str) -> int:
    """ASCII digits within SQLite's integer range, as trackwatch.fields.whole_number (not
    imported here: it loads the phone and country tables)."""
    if not (0 < len(text) <= 19 and text.isascii() and text.isdigit()) or not (
        1 <= int(text) <= SQLITE_MAX_ID
    ):
        raise argparse.ArgumentTypeError(f"{text!r} is not a shipment id (a whole number)")
    return int(text)


def positive(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number above 0")
    return int(text)


def _json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true",
                        help="one JSON document; fields named as in the model")  # fmt: skip


def _filters(parser: argparse.ArgumentParser, *names: str) -> None:
    helps = {
        "store": "only this store's", "carrier": "only this carrier's (USPS, UPS, FedEx, DHL)",
        "status": "only shipments in this status (in_transit, delivered, exception, ...)",
        "rule": "only this rule's (stalled, late, ...; an unknown name lists the known ones)",
    }  # fmt: skip
    for name in names:
        parser.add_argument(f"--{name}", help=helps[name])
    parser.add_argument("--limit", type=positive, help="at most this many (default: 1000)")


def add_run(sub: SubParsers) -> None:
    command(sub, "run", f"{ADMIN}:run", "run the daemon")


def add_check_config(sub: SubParsers) -> None:
    check = command(sub, "check-config", f"{ADMIN}:check_config",
                    "validate a configuration and print the effective settings")  # fmt: skip
    check.add_argument("file", type=Path, nargs="?", help="the file (the same as --config)")
    _json(check)


def add_migrate_store(sub: SubParsers) -> None:
    move = sub.add_parser("migrate-store", help="copy a whole database into an empty one on "
                          "another backend (SQLite to PostgreSQL, or back); stop the daemons first")  # fmt: skip
    move.add_argument("source", metavar="FROM", help="a path, sqlite:///path or postgresql://…")
    move.add_argument("target", metavar="TO", help="an empty database (made if need be)")
    move.set_defaults(handler=f"{ADMIN}:migrate")


def add_forget(sub: SubParsers) -> None:
    forget = command(sub, "forget", "trackwatch.forget_command:run_forget", "erase one "
                     "customer's shipments, alerts and notices (README: Retention and erasure)")  # fmt: skip
    forget.add_argument("--customer", required=True, metavar="EMAIL", help="any case")
    forget.add_argument("--store", help="only this store's (default: every store's)")
    forget.add_argument("--dry-run", action="store_true", help="count, change nothing")


def add_db(sub: SubParsers) -> None:
    db = command(sub, "db", "trackwatch.db_command:run_db", "the database: schema status, "
                 "backup, upgrade (README: Upgrading and backups)")  # fmt: skip
    actions = db.add_subparsers(dest="db_command", required=True)
    status = actions.add_parser("status", help="backend, schema versions, pending "
                                "migrations, last backup; exit 1 unless up to date")  # fmt: skip
    backup = actions.add_parser("backup", help="SQLite: a consistent copy, safe while the "
                                "daemon runs; PostgreSQL: the pg_dump command to run")  # fmt: skip
    backup.add_argument("--to", type=Path, help="the copy's path (default: beside the "
                        "database, named with its schema version and the time)")  # fmt: skip
    upgrade = actions.add_parser("upgrade", help="migrate a database of an older release, "
                                 "with the daemon stopped (SQLite: a backup first)")  # fmt: skip
    upgrade.add_argument("--backed-up", action="store_true", help="PostgreSQL: you took a "
                         "pg_dump (trackwatch cannot); required to migrate")  # fmt: skip
    for action in (status, backup, upgrade):
        action.add_argument("--config", type=Path, default=argparse.SUPPRESS, help=CONFIG_HELP)


# (flag, hidden older flag, help) of `add`'s optional fields, named as the fields are.
_ADD_FIELDS = (
    ("--customer-email", None, "one address; without one, staff alerts only"),
    ("--carrier", None, "USPS, UPS, FedEx or DHL, as the label names it (default: from the "
     "number)"),
    ("--customer-name", None, None),
    ("--customer-phone", "--phone", "the customer's number (E.164), for texts"),
    ("--destination-country", "--country", "ISO 3166 alpha-2 (default: US)"),
    ("--destination-postal-code", "--postal-code", None),
    ("--destination-city", "--city", None),
    ("--shipped-at", None, "ISO date or date-time with offset (default: now)"),
    ("--ordered-at", None, "when the order was placed (the promise runs from it)"),
    ("--promised-by", None, "the delivery date promised for this order"),
)  # fmt: skip


def add_add(sub: SubParsers) -> None:
    add = command(sub, "add", f"{WRITES}:add", "watch a shipment")
    for flag in ("--store", "--tracking-number", "--order-id"):
        add.add_argument(flag, required=True)
    for flag, older, help in _ADD_FIELDS:
        add.add_argument(flag, help=help)
        if older is not None:
            dest = flag.removeprefix("--").replace("-", "_")
            add.add_argument(older, dest=dest, help=argparse.SUPPRESS)
    add.add_argument("--return", dest="is_return", action="store_true",
                     help="a return on its way back to the store")  # fmt: skip
    _json(add)


def add_import(sub: SubParsers) -> None:
    imports = command(sub, "import", f"{WRITES}:import_file", "watch the shipments of a CSV "
                      "file: trackwatch's own format or an export as it is (README: Bringing in "
                      "the orders you already have); bad rows are reported, good ones stored")  # fmt: skip
    imports.add_argument("file", type=Path)
    imports.add_argument("--format", choices=IMPORT_FORMATS, help="the file's format "
                         "(default: detected from the header)")  # fmt: skip
    imports.add_argument("--mapping", type=Path, metavar="FILE", help="a TOML file naming "
                         "which column is which field, for another export")  # fmt: skip
    imports.add_argument("--store", metavar="ID", help="the store of every row, for files "
                         "that name none (exports do not)")  # fmt: skip
    imports.add_argument("--date-format", metavar="FMT", help="the dates' format in strptime "
                         "codes, e.g. %%d/%%m/%%Y (default: the format's own, and ISO 8601); a "
                         "date or time without a zone is read in the store's time zone (its "
                         "staff's), except trackwatch's own format, which wants ISO 8601")  # fmt: skip
    imports.add_argument("--dry-run", action="store_true", help="report what would be "
                         "stored; store nothing")  # fmt: skip
    _json(imports)


def add_show(sub: SubParsers) -> None:
    show = command(sub, "show", f"{READS}:show", "a shipment's events and alerts, with "
                   "explanations")  # fmt: skip
    show.add_argument("id", type=shipment_id)
    _json(show)


def add_list(sub: SubParsers) -> None:
    found = command(sub, "list", f"{READS}:list_shipments", "shipments, oldest first")
    _filters(found, "store", "carrier", "status")
    _json(found)


def add_alerts(sub: SubParsers) -> None:
    alerts = command(sub, "alerts", f"{READS}:alerts", "open alerts, oldest first")
    _filters(alerts, "store", "rule")
    _json(alerts)


def add_notices(sub: SubParsers) -> None:
    notices = command(sub, "notices", f"{READS}:notices", "notices and their delivery state")
    notices.add_argument("--state", help="pending, sending, sent, dead or cancelled")
    notices.add_argument("--dead", dest="state", action="store_const", const="dead",
                         help="only dead-lettered notices")  # fmt: skip
    _filters(notices, "store")
    _json(notices)


def add_report_missing(sub: SubParsers) -> None:
    report = command(sub, "report-missing", f"{WRITES}:report_missing", "the customer says a "
                     "delivered parcel is not there: starts the delivered-not-received wait")  # fmt: skip
    report.add_argument("id", type=shipment_id)
    report.add_argument("--by", default="staff (cli)", help="who reported it")


def add_resolve(sub: SubParsers) -> None:
    resolve = command(sub, "resolve", f"{WRITES}:resolve", "resolve a shipment's open alerts "
                      "by hand")  # fmt: skip
    resolve.add_argument("id", type=shipment_id)
    resolve.add_argument("--rule", help="only this rule's alert (e.g. returns)")
    resolve.add_argument("--note", default="resolved by hand", help="why, for the record")


def add_restart(sub: SubParsers) -> None:
    restart = command(sub, "restart", f"{WRITES}:restart", "watch a shipment again whose "
                      "polling stopped (delivered, expired, lost, or stopped by hand)")  # fmt: skip
    restart.add_argument("id", type=shipment_id)


def add_stop(sub: SubParsers) -> None:
    stop = command(sub, "stop", f"{WRITES}:stop", "stop watching a shipment (order cancelled, "
                   "label voided): no more polls, alerts or customer notices; its open alerts "
                   "resolve, staff told")  # fmt: skip
    stop.add_argument("id", type=shipment_id)
    stop.add_argument("--reason", required=True, help="why, for the record")
    stop.add_argument("--by", default="staff (cli)", help="who stopped it")


def add_staff(sub: SubParsers) -> None:
    staff = command(sub, "staff", "trackwatch.cli.staff:run_staff", "the staff console's "
                    "accounts: one store's staff, or operators of every store")  # fmt: skip
    actions = staff.add_subparsers(dest="staff_command", required=True)
    add = actions.add_parser("add", help="a new account (password from a prompt or stdin)")
    whose = add.add_mutually_exclusive_group(required=True)
    whose.add_argument("--store", help="the store whose parcels this account sees")
    whose.add_argument("--operator", action="store_true", help="sees every store")
    remove = actions.add_parser("remove", help="delete an account; its sessions end")
    passwd = actions.add_parser("passwd", help="a new password; other sessions end")
    for action in (add, remove, passwd):
        action.add_argument("login")
        action.add_argument("--config", type=Path, default=argparse.SUPPRESS, help=CONFIG_HELP)
    for action in (add, passwd):
        action.add_argument("--password-stdin", action="store_true",
                            help="read the password from the first line of standard input")  # fmt: skip


def add_report(sub: SubParsers) -> None:
    report = command(sub, "report", "trackwatch.reportcard.command:report",
                     "the carriers' report card: on time, transit days, trouble and how fast "
                     "customers were told, per carrier and lane")  # fmt: skip
    report.add_argument("--since", required=True, help="first day shipped, YYYY-MM-DD (UTC)")
    report.add_argument("--until", help="last day shipped, YYYY-MM-DD (default: today)")
    report.add_argument("--store", action="append",
                        help="only this store's (again for more; default: every store's)")  # fmt: skip
    output = report.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true",
                        help="one JSON document; fields named as in the CSV")  # fmt: skip
    output.add_argument("--csv", action="store_true", help="CSV, one row per carrier and lane")


COMMANDS: list[Register] = [
    add_run, add_check_config, add_add, add_import, add_list, add_show, add_alerts,
    add_notices, add_report_missing, add_resolve, add_restart, add_stop, add_migrate_store,
    add_db, add_forget, add_staff, add_report,
]  # fmt: skip
