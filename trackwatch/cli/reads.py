"""The commands that only read: list, show, alerts, notices. They need the database and
nothing secret, and never create a database."""

from __future__ import annotations

import argparse
import asyncio
import sys

from rules import RULES
from trackwatch.carrier_alarms import CARRIER_DOWN, NOT_ENABLED
from trackwatch.cli.common import (
    EVERY,
    carrier_filter,
    emit,
    fields,
    known_name,
    limit_of,
    one_of,
    opened,
    settings_for,
)
from trackwatch.errors import InputError
from trackwatch.ingest import notes_for
from trackwatch.model import NoticeState, Shipment, Status
from trackwatch.quarantine import SET_ASIDE
from trackwatch.store import Store, UnreadableShipment
from trackwatch.views import print_alerts, print_notices, print_shipment, print_shipments

CHANNEL_FAILING = "channel_failing"  # trackwatch.notify.outbox's (which imports Apprise)
# Every name an alert's rule can have: the rules', and the staff alerts about the service.
ALERT_NAMES = (*(rule.name for rule in RULES), CARRIER_DOWN, NOT_ENABLED, CHANNEL_FAILING,
               SET_ASIDE)  # fmt: skip


def _more(shown: int, limit: int, total: int) -> None:
    if total > shown == limit:
        print(f"(the first {limit} shown: --limit N for more)", file=sys.stderr)


def list_shipments(args: argparse.Namespace) -> int:
    carrier, status = carrier_filter(args.carrier), one_of(Status, args.status, "status")
    return asyncio.run(_list(args, carrier, status))


async def _list(args: argparse.Namespace, carrier: str | None, status: Status | None) -> int:
    limit = limit_of(args)
    filtered = carrier is not None or status is not None
    async with opened(settings_for(args)) as store:
        # Filtered here, not in SQL: read them all, or the limit would cut before the filter.
        found = await store.list_shipments(args.store, EVERY if filtered else limit + 1)
    shipments = [s for s in found.shipments if (carrier is None or s.carrier == carrier)
                 and (status is None or s.status is status)]  # fmt: skip
    unreadable = [] if filtered else found.unreadable
    _more(len(shipments[:limit]), limit, len(shipments))
    shipments = shipments[:limit]
    if args.json:
        emit({"shipments": [fields(s) for s in shipments],
              "unreadable": [{"id": r.shipment_id, "store": r.store, "reason": r.reason}
                             for r in unreadable]})  # fmt: skip
        return 0
    print_shipments(shipments)
    for row in unreadable:
        print(f"{row.shipment_id:>5}  {row.store:<10} set aside: {row.reason}")
    return 0


async def shipment_of(store: Store, shipment_id: int) -> Shipment:
    try:
        shipment = await store.get_shipment(shipment_id)
    except UnreadableShipment as exc:
        raise InputError("id", str(exc)) from None
    if shipment is None:
        raise InputError("id", f"no shipment {shipment_id}")
    return shipment


def show(args: argparse.Namespace) -> int:
    return asyncio.run(_show(args))


async def _show(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    async with opened(settings) as store:
        shipment = await shipment_of(store, args.id)
        events = (await store.events_for([args.id]))[args.id]
        alerts = await store.alerts_for(args.id)
    notes = notes_for(shipment, settings)
    if args.json:
        emit({"shipment": fields(shipment), "notes": list(notes),
              "events": [fields(e) for e in events], "alerts": [fields(a) for a in alerts]})  # fmt: skip
    else:
        print_shipment(shipment, events, alerts, notes)
    return 0


def alerts(args: argparse.Namespace) -> int:
    rule = known_name(args.rule, ALERT_NAMES, "rule")
    return asyncio.run(_alerts(args, rule))


async def _alerts(args: argparse.Namespace, rule: str | None) -> int:
    async with opened(settings_for(args)) as store:
        found = await store.open_alerts_of_store(args.store)
    chosen = [(a, order) for a, order in found if rule is None or a.rule == rule]
    limit = limit_of(args)
    _more(len(chosen[:limit]), limit, len(chosen))
    chosen = chosen[:limit]
    if args.json:
        emit({"alerts": [{**fields(a), "order_id": order} for a, order in chosen]})
    else:
        print_alerts(chosen)
    return 0


def notices(args: argparse.Namespace) -> int:
    state = one_of(NoticeState, args.state, "state")
    return asyncio.run(_notices(args, state))


async def _notices(args: argparse.Namespace, state: NoticeState | None) -> int:
    async with opened(settings_for(args)) as store:
        found = await store.notices(state)
    chosen = [n for n in found if args.store is None or n.store == args.store]
    limit = limit_of(args)
    _more(len(chosen[:limit]), limit, len(chosen))
    chosen = chosen[:limit]
    if args.json:  # without recipients and bodies, as the text: those are customers' data
        emit({"notices": [fields(n, "body") for n in chosen]})
    else:
        print_notices(chosen)
    return 0
