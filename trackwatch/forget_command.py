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

from trackwatch.cli.common import config_path
from trackwatch.clock import SystemClock
from trackwatch.errors import InputError
from trackwatch.store import open_store, redacted, sqlite_path
from trackwatch.store.records import Purged

AGAIN = 1


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
    # The console's erasure page imports `report` from here: the database commands (and
    # asyncpg) load only when the command runs (issue 21: the daemon's RSS).
    from trackwatch.db_command import database_setting  # noqa: PLC0415

    return asyncio.run(_forget(args, database_setting(config_path(args))))
