"""The stand-in carriers' subscription APIs, on their real paths (CARRIER-PUSH.md):

- UPS: POST /api/track/v2/subscription/{standard|enhanced}/package, up to 100 numbers, the
  Track token, transId/transactionSrc; each subscription lasts 14 days;
- USPS: POST /subscriptions-tracking/v3r2/subscriptions (one number, a 32-character secret,
  1-3 admin emails; 201 with an ETag), GET /subscriptions/{id} (a new ETag, good for an hour
  or one use), PUT and DELETE with If-Match (412 on a stale or used ETag);
- DHL: POST /tracking/push/v1/subscription (DHL-API-Key; 1-10 shipment ids), then the
  validate message with a secret, POST /subscription/{id} with DHL-API-Hook-Secret to
  activate (then `ready` and the pushes), GET and DELETE /subscription/{id}.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Any

from aiohttp import web

from trackwatch.sandbox.faults import bearer
from trackwatch.sandbox.push import SandboxPush, Sub

UPS_NUMBER = re.compile(r"^1Z[0-9A-Z]{16}$")
ETAG_LIFE = timedelta(hours=1)


def _ups_error(status: int, code: str, message: str, **extra: Any) -> web.Response:
    body = {**extra, "response": {"errors": [{"code": code, "message": message}]}}
    return web.json_response(body, status=status)


def _usps_error(status: int, message: str) -> web.Response:
    body = {"apiVersion": "/subscriptions-tracking/v3r2",
            "error": {"code": str(status), "message": message, "errors": []}}  # fmt: skip
    return web.json_response(body, status=status)


def _dhl_problem(status: int, detail: str) -> web.Response:
    return web.json_response({"title": "Error", "status": status, "detail": detail}, status=status,
                             content_type="application/problem+json")  # fmt: skip


class _Apis:
    """UPS's and USPS's subscription endpoints over the sandbox's push side."""

    def __init__(self, push: SandboxPush) -> None:
        self.push, self.world, self.clock = push, push.world, push.clock

    async def ups_subscribe(self, request: web.Request) -> web.Response:
        self.push.calls["ups"] += 1
        if not self.world.token_valid("ups", bearer(request), self.clock.now()):
            return _ups_error(401, "250002", "Invalid Authentication Information")
        if not request.headers.get("transId") or not request.headers.get("transactionSrc"):
            return _ups_error(400, "VSS001", "transId and transactionSrc are required")
        body = await request.json()
        numbers = body.get("trackingNumberList") if isinstance(body, dict) else None
        if not isinstance(body, dict) or body.get("locale") != "en_US":
            return _ups_error(400, "VSS300", "Locale is required. The Subscription request has "
                              "been rejected.", invalidTrackingNumbers=[])  # fmt: skip
        if not isinstance(numbers, list) or not 1 <= len(numbers) <= 100:
            return _ups_error(400, "VSS100", "1 to 100 tracking numbers", invalidTrackingNumbers=[])
        valid = [n for n in numbers if isinstance(n, str) and UPS_NUMBER.match(n)]
        invalid = [str(n) for n in numbers if n not in valid]
        if not valid:
            return _ups_error(
                400, "VSS210", "No valid tracking number", invalidTrackingNumbers=invalid
            )
        now = self.clock.now()
        for number in valid:
            sub = self.push.sub_of("ups", number) or Sub(
                "ups", f"ups-{next(self.push.serial)}", [number]
            )
            sub.expires, sub.since = now + timedelta(days=14), sub.since or now
            self.push.subs[sub.sid] = sub
            self.push.plan("ups", number, now)
        return web.json_response({"validTrackingNumbers": valid, "invalidTrackingNumbers": invalid})

    async def usps_create(self, request: web.Request) -> web.Response:
        self.push.calls["usps"] += 1
        if not self.world.token_valid("usps", bearer(request), self.clock.now()):
            return _usps_error(401, "Access token expired")
        body = await request.json()
        problem = _usps_problem(body)
        if problem:
            return _usps_error(400, problem)
        number = body["filterProperties"]["trackingNumber"]
        live = self.push.sub_of("usps", number)
        if live is not None and live.url == body["listenerURL"]:
            return _usps_error(400, f"A subscription exists already: subscriptionId {live.sid}")
        sub = Sub("usps", str(next(self.push.serial)), [number], body["listenerURL"], body["secret"],
                  since=self.clock.now())  # fmt: skip
        self.push.subs[sub.sid] = sub
        self.push.plan("usps", number, self.clock.now())
        return self._usps_subscription(sub, 201)

    def _usps_subscription(self, sub: Sub, status: int) -> web.Response:
        sub.etag = secrets.token_hex(20)
        sub.expires = self.clock.now() + ETAG_LIFE  # the ETag's life, for USPS
        body = {"subscriptionId": sub.sid, "listenerURL": sub.url, "status": sub.status,
                "filterProperties": {"trackingNumber": sub.numbers[0],
                                     "trackingEventTypes": ["ALL_UPDATES"]}}  # fmt: skip
        return web.json_response(
            body,
            status=status,
            headers={
                "ETag": sub.etag,
                "Location": f"/subscriptions-tracking/v3r2/subscriptions/{sub.sid}",
            },
        )

    def _usps_found(self, request: web.Request) -> Sub | web.Response:
        self.push.calls["usps"] += 1
        if not self.world.token_valid("usps", bearer(request), self.clock.now()):
            return _usps_error(401, "Access token expired")
        sub = self.push.subs.get(request.match_info["id"])
        if sub is None or sub.carrier != "usps":
            return _usps_error(404, "No Subscriptions were found")
        return sub

    def _usps_matches(self, request: web.Request, sub: Sub) -> bool:
        fresh = sub.expires is not None and self.clock.now() < sub.expires
        ok = bool(sub.etag) and request.headers.get("If-Match") == sub.etag and fresh
        sub.etag = ""  # good for one use
        return ok

    async def usps_get(self, request: web.Request) -> web.Response:
        found = self._usps_found(request)
        return found if isinstance(found, web.Response) else self._usps_subscription(found, 200)

    async def usps_put(self, request: web.Request) -> web.Response:
        found = self._usps_found(request)
        if isinstance(found, web.Response):
            return found
        if not self._usps_matches(request, found):
            return _usps_error(412, "If-Match does not match a current ETag")
        status = (await request.json()).get("status")
        if status in ("ENABLED", "DISABLED"):
            found.status = status
        return self._usps_subscription(found, 200)

    async def usps_delete(self, request: web.Request) -> web.Response:
        found = self._usps_found(request)
        if isinstance(found, web.Response):
            return found
        if not self._usps_matches(request, found):
            return _usps_error(412, "If-Match does not match a current ETag")
        del self.push.subs[found.sid]
        return web.Response(status=204)


def add_routes(app: web.Application, push: SandboxPush) -> None:
    apis = _Apis(push)
    app.router.add_post("/api/track/v2/subscription/{type}/package", apis.ups_subscribe)
    app.router.add_post("/subscriptions-tracking/v3r2/subscriptions", apis.usps_create)
    app.router.add_get("/subscriptions-tracking/v3r2/subscriptions/{id}", apis.usps_get)
    app.router.add_put("/subscriptions-tracking/v3r2/subscriptions/{id}", apis.usps_put)
    app.router.add_delete("/subscriptions-tracking/v3r2/subscriptions/{id}", apis.usps_delete)
    _dhl_routes(app, push)


def _usps_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "the body must be a TrackingSubscription object"
    if not isinstance(body.get("secret"), str) or len(body["secret"]) != 32:
        return "secret: must be exactly 32 characters"
    emails = body.get("adminNotification")
    if not isinstance(emails, list) or not 1 <= len(emails) <= 3:
        return "adminNotification: 1 to 3 e-mail addresses"
    if not isinstance(body.get("listenerURL"), str) or not body["listenerURL"]:
        return "listenerURL: required"
    filters = body.get("filterProperties")
    if not isinstance(filters, dict) or not filters.get("trackingNumber"):
        return "filterProperties: trackingNumber required"
    return None


class _Dhl:
    """DHL's push subscription endpoints over the sandbox's push side."""

    def __init__(self, push: SandboxPush) -> None:
        self.push, self.clock = push, push.clock

    def _key(self, request: web.Request) -> web.Response | None:
        self.push.calls["dhl"] += 1
        return (
            None if request.headers.get("DHL-API-Key") else _dhl_problem(401, "API key is missing.")
        )

    async def create(self, request: web.Request) -> web.Response:
        if (refused := self._key(request)) is not None:
            return refused
        body = await request.json()
        ids = body.get("shipmentIDs") if isinstance(body, dict) else None
        hook = body.get("hook") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not 1 <= len(ids) <= 10 or not isinstance(hook, dict):
            return _dhl_problem(400, "shipmentIDs: 1 to 10 ids, and a hook, are required")
        auth = hook.get("authentication") or {}
        sub = Sub("dhl", f"dhl-{next(self.push.serial)}", [str(i) for i in ids], str(hook.get("uri")),
                  secrets.token_hex(16), (str(auth.get("header", "")), str(auth.get("token", ""))),
                  status="validating", since=self.clock.now())  # fmt: skip
        self.push.subs[sub.sid] = sub
        self.push.control(sub, "validate")
        link = f"{request.url.origin()}/tracking/push/v1/subscription/{sub.sid}"
        return web.json_response({"self": link, "status": "validating"}, status=201)

    def _sub(self, request: web.Request) -> Sub | None:
        sub = self.push.subs.get(request.match_info["id"])
        return sub if sub is not None and sub.carrier == "dhl" else None

    async def activate(self, request: web.Request) -> web.Response:
        if (refused := self._key(request)) is not None:
            return refused
        sub = self._sub(request)
        if sub is None:
            return _dhl_problem(404, "No subscription with this id")
        if request.headers.get("DHL-API-Hook-Secret") != sub.secret:
            return _dhl_problem(403, "DHL-API-Hook-Secret does not match")
        sub.status = "ready"
        self.push.control(sub, "ready")
        for number in sub.numbers:
            self.push.plan("dhl", number, sub.since or self.clock.now())
        return web.json_response({"self": str(request.url), "status": "active"})

    async def get(self, request: web.Request) -> web.Response:
        if (refused := self._key(request)) is not None:
            return refused
        sub = self._sub(request)
        if sub is None:
            return _dhl_problem(404, "No subscription with this id")
        return web.json_response({"self": str(request.url), "status": sub.status,
                                  "shipmentIDs": sub.numbers})  # fmt: skip

    async def delete(self, request: web.Request) -> web.Response:
        if (refused := self._key(request)) is not None:
            return refused
        sub = self._sub(request)
        if sub is None:
            return _dhl_problem(404, "No subscription with this id")
        del self.push.subs[sub.sid]
        return web.json_response({"self": str(request.url), "status": "deleted"})


def _dhl_routes(app: web.Application, push: SandboxPush) -> None:
    dhl = _Dhl(push)
    app.router.add_post("/tracking/push/v1/subscription", dhl.create)
    app.router.add_post("/tracking/push/v1/subscription/{id}", dhl.activate)
    app.router.add_get("/tracking/push/v1/subscription/{id}", dhl.get)
    app.router.add_delete("/tracking/push/v1/subscription/{id}", dhl.delete)
