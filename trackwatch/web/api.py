"""The HTTP API under /api/v1: a store's systems add shipments, read them and their alerts,
and pass on a customer's "not received". Each store has its own bearer token and sees only
its own shipments: another store's shipment is answered 404, as if it did not exist.

Adding a shipment already watched answers 200 with its id (201 when new), so a client may
retry a POST whose answer it never got. DELETE on a shipment stops watching it (the order
was cancelled, the label voided): no more polls, alerts or customer notices, its pending
customer notices cancelled; a DELETE repeated answers the same shipment and changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from aiohttp import web

from trackwatch.config import Settings
from trackwatch.errors import InputError
from trackwatch.fields import plain_text_problem, whole_number
from trackwatch.ingest import accept, notes_for
from trackwatch.model import Alert, AlertState, Shipment, Status, TrackingEvent
from trackwatch.stopping import checked_reason, stop_shipment
from trackwatch.store import UnreadableShipment
from trackwatch.store.records import Stopped
from trackwatch.web.errors import ApiError, json_body, store_of_token
from trackwatch.web.report_page import ReportDesk

API = "/api/v1"
STOPPED_BY = "store (api)"
DEFAULT_STOP_REASON = "cancelled by the store (api)"
STATES = {"open": AlertState.OPEN, "resolved": AlertState.RESOLVED, "all": None}


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def event_json(event: TrackingEvent) -> dict[str, Any]:
    return {"occurred_at": _when(event.occurred_at), "status": event.status.value,
            "code": event.code, "description": event.description, "place": event.place.label(),
            "exception": event.exception.value if event.exception else None}  # fmt: skip


def alert_json(alert: Alert, order_id: str | None = None) -> dict[str, Any]:
    return {
        "id": alert.id, "shipment_id": alert.shipment_id, "order_id": order_id,
        "subject": alert.subject or None, "rule": alert.rule, "state": alert.state.value,
        "severity": alert.severity.value, "summary": alert.summary, "action": alert.action,
        "explanation": alert.explanation, "opened_at": _when(alert.opened_at),
        "escalated_at": _when(alert.escalated_at), "resolved_at": _when(alert.resolved_at),
        "resolution": alert.resolution,
    }  # fmt: skip


def shipment_json(
    s: Shipment, settings: Settings, events: Sequence[TrackingEvent] = (),
    alerts: Sequence[Alert] = (),
) -> dict[str, Any]:  # fmt: skip
    """A shipment as the API shows it; `notes` say how it is watched (a label another
    carrier delivers, no customer email)."""
    return {
        "id": s.id, "store": s.store, "order_id": s.order_id, "carrier": s.carrier,
        "sender_carrier": s.sender_carrier, "notes": list(notes_for(s, settings)),
        "tracking_number": s.tracking_number, "direction": s.direction.value,
        "status": s.status.value, "shipped_at": _when(s.shipped_at),
        "ordered_at": _when(s.ordered_at), "promised_by": _when(s.promised_by),
        "eta": _when(s.eta), "last_event_at": _when(s.last_event_at),
        "last_polled_at": _when(s.last_polled_at), "next_poll_at": _when(s.next_poll_at),
        "watching": s.active, "polling_stopped": s.stopped, "stopped_at": _when(s.stopped_at),
        "missing_reported_at": _when(s.missing_reported_at),
        "customer": {"name": s.customer_name, "email": s.customer_email or None,
                     "phone": s.customer_phone or None},
        "destination": {"country": s.destination_country,
                        "postal_code": s.destination_postal_code or None,
                        "city": s.destination_city or None},
        "events": [event_json(e) for e in events],
        "alerts": [alert_json(a, s.order_id) for a in alerts],
    }  # fmt: skip


def _stop_json(stopped: Stopped) -> dict[str, Any]:
    return {"already_stopped": stopped.already, "alerts_resolved": list(stopped.resolved),
            "customer_notices_cancelled": stopped.cancelled}  # fmt: skip


class Api:
    def __init__(self, desk: ReportDesk) -> None:
        self._desk = desk

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post(f"{API}/shipments", self.add),
            web.get(f"{API}/shipments/{{id}}", self.get),
            web.delete(f"{API}/shipments/{{id}}", self.stop),
            web.post(f"{API}/shipments/{{id}}/report-missing", self.report_missing),
            web.get(f"{API}/alerts", self.alerts),
        ]

    def _store(self, request: web.Request) -> str:
        return store_of_token(self._desk.settings, request.headers.get("Authorization", ""))

    async def _own(self, request: web.Request, store: str) -> Shipment:
        text = request.match_info["id"]
        number = whole_number(text)
        try:
            shipment = await self._desk.store.get_shipment(number) if number else None
        except UnreadableShipment as exc:
            if exc.row.store != store:
                raise ApiError(404, "id", f"no shipment {text} in store {store!r}") from None
            # Its stored data is the problem, not the request; nothing of it is echoed.
            raise ApiError(409, "id", f"shipment {text} is set aside: its stored data cannot "
                           "be read (staff are told)") from None  # fmt: skip
        if shipment is None or shipment.store != store:
            raise ApiError(404, "id", f"no shipment {text} in store {store!r}")
        return shipment

    async def add(self, request: web.Request) -> web.Response:
        store = self._store(request)
        body = await json_body(request)
        if body.setdefault("store", store) != store:
            raise ApiError(403, "store", f"this token belongs to store {store!r}")
        now = self._desk.clock.now()
        accepted = accept(body, self._desk.settings, now)
        [(shipment_id, created)] = await self._desk.store.add_shipments([accepted.shipment], now)
        stored = await self._desk.store.get_shipment(shipment_id)
        view = shipment_json(stored or accepted.shipment, self._desk.settings)
        return web.json_response({"id": shipment_id, "created": created, "shipment": view,
                                  "notes": view["notes"]},
                                 status=201 if created else 200)  # fmt: skip

    async def get(self, request: web.Request) -> web.Response:
        shipment = await self._own(request, self._store(request))
        return web.json_response(await self._view(shipment))

    async def _view(self, shipment: Shipment) -> dict[str, Any]:
        sid = shipment.id or 0
        events = (await self._desk.store.events_for([sid]))[sid]
        alerts = await self._desk.store.alerts_for(sid)
        return shipment_json(shipment, self._desk.settings, events, alerts)

    async def stop(self, request: web.Request) -> web.Response:
        """Stop watching: 200 with the shipment as it is now, and what the stop did."""
        shipment = await self._own(request, self._store(request))
        body = await json_body(request, required=False)
        reason = checked_reason(body.get("reason", DEFAULT_STOP_REASON))
        now = self._desk.clock.now()
        stopped = await stop_shipment(self._desk.store, self._desk.settings, shipment, reason,
                                      STOPPED_BY, now)  # fmt: skip
        self._desk.wake()
        current = await self._desk.store.get_shipment(stopped.shipment_id) or shipment
        return web.json_response({**await self._view(current), "stop": _stop_json(stopped)})

    async def alerts(self, request: web.Request) -> web.Response:
        store = self._store(request)
        state = request.query.get("state", "open")
        if state not in STATES:
            raise ApiError(400, "state", f"must be one of {', '.join(STATES)}")
        limit = whole_number(request.query.get("limit", "100"), 1, 1000)
        if limit is None:
            raise ApiError(400, "limit", "must be a whole number from 1 to 1000")
        found = await self._desk.store.alerts_of_store(store, STATES[state], limit)
        return web.json_response({"alerts": [alert_json(a, order) for a, order in found]})

    async def report_missing(self, request: web.Request) -> web.Response:
        store = self._store(request)
        shipment = await self._own(request, store)
        body = await json_body(request, required=False)
        by = body.get("reported_by", "store (api)")
        if not isinstance(by, str) or not 0 < len(by) <= 100:
            raise InputError("reported_by", "must be a text of 1 to 100 characters")
        if problem := plain_text_problem(by):
            raise InputError("reported_by", problem)
        if not shipment.active:
            raise ApiError(409, "id", f"shipment {shipment.id} is no longer watched "
                           f"({shipment.stopped}): nobody would act on a missing report")  # fmt: skip
        if shipment.status is not Status.DELIVERED:
            raise ApiError(409, "id", f"shipment {shipment.id} is {shipment.status.value}, not "
                           "delivered: a missing report is for parcels the carrier marked "
                           "delivered")  # fmt: skip
        first = shipment.missing_reported_at is None
        reported = await self._desk.store.report_missing(shipment.id or 0, by,
                                                         self._desk.clock.now())  # fmt: skip
        self._desk.wake()
        wait = self._desk.settings.store(store).policy.delivered.wait_hours
        return web.json_response({"id": shipment.id, "reported_at": _when(reported),
                                  "first_report": first, "claim_after_hours": wait})  # fmt: skip
