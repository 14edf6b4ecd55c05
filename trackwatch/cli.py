"""The `trackwatch` command. Bad input exits with status 2 and a line naming the field."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from pydantic import ValidationError

from carriers import CARRIERS, InvalidTrackingNumber, validate
from trackwatch.app import run_forever
from trackwatch.clock import SystemClock
from trackwatch.config import ConfigError, Settings, load_settings
from trackwatch.model import Shipment
from trackwatch.sandbox.demo import run_demo
from trackwatch.store import DuplicateShipment, SqliteStore
from trackwatch.views import print_shipment, print_shipments

USAGE_ERROR = 2


class InputError(Exception):
    """Bad input from the command line: `field: reason`."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")


def parse_shipped_at(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InputError("shipped_at", f"{text!r} is not an ISO date or date-time") from None
    if value.tzinfo is None:
        raise InputError("shipped_at", "give a UTC offset, e.g. 2026-11-23T09:00-05:00")
    return value.astimezone(UTC)


def build_shipment(args: argparse.Namespace, settings: Settings) -> Shipment:
    if args.carrier not in CARRIERS:
        raise InputError("carrier", f"{args.carrier!r} is not one of {', '.join(sorted(CARRIERS))}")
    if settings.stores and args.store not in settings.stores:
        raise InputError(
            "store", f"{args.store!r} is not configured ({', '.join(settings.stores)})"
        )
    try:
        number = validate(args.carrier, args.tracking_number)
    except InvalidTrackingNumber as exc:
        raise InputError("tracking_number", str(exc)) from None
    if "@" not in args.customer_email or args.customer_email.startswith("@"):
        raise InputError("customer_email", "is not an email address")
    try:
        return Shipment(
            store=args.store, carrier=args.carrier, tracking_number=number,
            order_id=args.order_id, customer_email=args.customer_email,
            customer_name=args.customer_name, destination_country=args.country,
            destination_postal_code=args.postal_code, shipped_at=parse_shipped_at(args.shipped_at),
        )  # fmt: skip
    except ValidationError as exc:
        err = exc.errors(include_input=False)[0]
        raise InputError(str(err["loc"][0]), err["msg"]) from None


async def _add(args: argparse.Namespace, settings: Settings) -> int:
    shipment = build_shipment(args, settings)
    store = await SqliteStore.open(settings.daemon.database)
    try:
        shipment_id = await store.add_shipment(shipment, datetime.now(UTC))
    except DuplicateShipment as exc:
        raise InputError("tracking_number", str(exc)) from None
    finally:
        await store.close()
    print(f"added shipment {shipment_id}: {shipment.carrier} {shipment.tracking_number}")
    return 0


async def _list(settings: Settings) -> int:
    store = await SqliteStore.open(settings.daemon.database)
    try:
        print_shipments(await store.list_shipments())
    finally:
        await store.close()
    return 0


async def _show(shipment_id: int, settings: Settings) -> int:
    store = await SqliteStore.open(settings.daemon.database)
    try:
        shipment = await store.get_shipment(shipment_id)
        if shipment is None:
            raise InputError("id", f"no shipment {shipment_id}")
        sid = shipment.id or 0
        events = (await store.events_for([sid]))[sid]
        print_shipment(shipment, events, await store.alerts_for(sid))
    finally:
        await store.close()
    return 0


def _check_config(settings: Settings, path: Path) -> int:
    print(f"{path}: OK")
    print(f"database: {settings.daemon.database}")
    for name in CARRIERS:
        carrier = settings.carriers.get(name)
        state = "enabled" if carrier.enabled else "disabled"
        print(f"carrier {name}: {state}, {carrier.base_url}")
    for store_id, store in settings.stores.items():
        channels = {k: len(v) for k, v in store.channels.model_dump().items()}
        print(f"store {store_id} ({store.name}): policy {store.policy.model_dump()}, "
              f"channels {channels}")  # fmt: skip
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trackwatch", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the daemon")
    run.add_argument("--config", type=Path, required=True)
    sub.add_parser("demo", help="play the built-in scenario against the sandbox")
    add = sub.add_parser("add", help="watch a shipment")
    for flag in ("--store", "--carrier", "--tracking-number", "--order-id", "--customer-email"):
        add.add_argument(flag, required=True)
    add.add_argument("--customer-name", default="")
    add.add_argument("--country", default="US", help="destination country (ISO 3166 alpha-2)")
    add.add_argument("--postal-code", default="", help="destination postal code")
    add.add_argument("--shipped-at", help="ISO date or date-time with offset (default: now)")
    show = sub.add_parser("show", help="a shipment's events and alerts")
    show.add_argument("id", type=int)
    sub.add_parser("list", help="every shipment")
    check = sub.add_parser("check-config", help="validate a configuration file")
    check.add_argument("file", type=Path)
    for command in (add, show, sub.choices["list"]):
        command.add_argument("--config", type=Path, default=None)
    return parser


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "demo":
        return asyncio.run(run_demo())
    if args.command == "check-config":
        return _check_config(load_settings(args.file), args.file)
    settings = load_settings(args.config)
    if args.command == "run":
        logging.basicConfig(level=settings.daemon.log_level, stream=sys.stderr,
                            format="%(levelname)s %(name)s: %(message)s")  # fmt: skip
        asyncio.run(run_forever(settings, SystemClock()))
        return 0
    if args.command == "add":
        return asyncio.run(_add(args, settings))
    if args.command == "show":
        return asyncio.run(_show(args.id, settings))
    return asyncio.run(_list(settings))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"config error: {problem}", file=sys.stderr)
        return USAGE_ERROR
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR


if __name__ == "__main__":
    sys.exit(main())
