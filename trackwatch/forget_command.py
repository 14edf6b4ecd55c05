"""`trackwatch forget --customer EMAIL [--store ID] [--dry-run]`: erase one person's data.

Every shipment of the address (any case; one store's with --store) goes with its scans,
alerts and notices. A shipment still in transit is stopped and erased too, rather than kept
with its customer fields blanked: its tracking number, order and destination still point at
the person, and a watch nobody can be told about serves no one. One a running daemon is
polling or judging at this moment is stopped (no loop takes it again) but left for a second
run: the daemon's write would otherwise fail. Webhook receipts and Shopify fulfillment
versions stay: they hold no personal data, and they keep a late retry from Shopify from
adding the order again.

The command needs only the `[daemon] database` setting and never creates a database. Exit
status: 0 when everything was erased, 1 when something must wait for a second run, 2 for bad
input. The address is printed back to the operator, never logged.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tomllib
from pathlib import Path
from typing import Any

from trackwatch.clock import SystemClock
from trackwatch.config import ConfigError, DaemonSettings
from trackwatch.errors import InputError
from trackwatch.store import open_store, redacted, sqlite_path
from trackwatch.store.records import Purged

DEFAULT_CONFIG = Path("/etc/trackwatch/trackwatch.toml")
AGAIN = 1


def add_forget_parser(sub: Any) -> None:
    """`trackwatch forget` and its options, on the command's subparsers."""
    forget = sub.add_parser("forget", help="erase one customer's shipments, alerts and "
                            "notices (README: Retention and erasure)")  # fmt: skip
    forget.add_argument("--customer", required=True, metavar="EMAIL", help="any case")
    forget.add_argument("--store", help="only this store's (default: every store's)")
    forget.add_argument("--dry-run", action="store_true", help="count, change nothing")
    forget.add_argument("--config", type=Path, default=None,
                        help=f"default: $TRACKWATCH_CONFIG, then {DEFAULT_CONFIG}")  # fmt: skip


def database_setting(config: Path | None) -> str:
    """`[daemon] database` alone (TRACKWATCH_DAEMON__DATABASE over the file): the command
    reads no secret, so it works where the daemon's credentials are not there."""
    path = config or Path(os.environ.get("TRACKWATCH_CONFIG") or DEFAULT_CONFIG)
    try:
        with path.open("rb") as handle:
            daemon = tomllib.load(handle).get("daemon", {})
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such file (give --config)"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    value = os.environ.get("TRACKWATCH_DAEMON__DATABASE") or daemon.get("database")
    try:
        return DaemonSettings.model_validate({"database": value or "trackwatch.db"}).database
    except ValueError as exc:
        raise ConfigError([f"daemon.database: {exc}"]) from None


def _email(text: str) -> str:
    email = text.strip()
    if "@" not in email or any(c.isspace() for c in email):
        raise InputError("--customer", "not an email address")
    return email


def report(email: str, store: str | None, done: Purged, dry_run: bool) -> str:
    """What was erased, for the operator (the address included: they typed it)."""
    verb = "would erase" if dry_run else "erased"
    where = f" in store {store}" if store else ""
    lines = [f"{verb} {email}{where}: {done.shipments + done.kept_empty} shipments, "
             f"{done.events} scans, {done.alerts} alerts, {done.notices} notices"]  # fmt: skip
    if done.watched:
        lines.append(f"{done.watched} were still watched: watching stopped")
    if done.kept_empty:
        lines.append(f"{done.kept_empty} emptied of personal data and kept for its id alone")
    if done.held:
        lines.append(f"{done.held} being polled or judged by a running daemon right now: "
                     "stopped watching; run this again in 5 minutes to erase them")  # fmt: skip
    if not done.shipments + done.kept_empty + done.held:
        lines = [f"no shipments of {email}{where}"]
    return "\n".join(lines)


async def _forget(args: argparse.Namespace, database: str) -> int:
    email = _email(args.customer)
    path = sqlite_path(database)
    if path is not None and not path.exists():
        raise InputError("daemon.database", f"no database at {redacted(database)}")
    store = await open_store(database)
    try:
        now = getattr(args, "now", None) or SystemClock().now()  # main's clock, in tests
        done = await store.forget_customer(email, args.store, now, args.dry_run)
    finally:
        await store.close()
    print(report(email, args.store, done, args.dry_run))
    return AGAIN if done.held else 0


def run_forget(args: argparse.Namespace) -> int:
    return asyncio.run(_forget(args, database_setting(args.config)))
