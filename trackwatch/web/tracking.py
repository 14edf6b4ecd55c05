"""The store's own tracking page: `/track/<store>` (when the store enables it).

The customer gives the order number and the email address of the order, or opens the signed
link of a notice (`/track/<store>/link/<token>`, signed for this purpose only: a "didn't
receive it?" link does not open it, nor this one that). Nothing is shown without both, or the
link: a wrong email and an unknown order get the same page, byte for byte, and lookups are
limited per client address and per order number, so that the page is no way to learn which
orders exist or whose they are. Nothing is logged: the inputs are customers' data.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from trackwatch.config import StoreSettings, TrackingPageSettings
from trackwatch.model import Shipment
from trackwatch.store import UnreadableShipment
from trackwatch.web.report_page import ReportDesk
from trackwatch.web.signing import TRACK_PATH, TRACK_PURPOSE, ExpiredLink, LinkError
from trackwatch.web.throttle import Window
from trackwatch.web.tracking_view import parcel_view

MAX_ORDER, MAX_EMAIL = 100, 320
NOT_FOUND = ("We could not find an order with that number and email address. Please check "
             "both and try again.")  # fmt: skip
_ENV = Environment(
    loader=PackageLoader("trackwatch", "web/templates"),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _on(colour: str) -> str:
    """Black or white, whichever reads better on `colour` (#rgb or #rrggbb)."""
    hexes = colour.lstrip("#")
    if len(hexes) == 3:
        hexes = "".join(c * 2 for c in hexes)
    red, green, blue = (int(hexes[i : i + 2], 16) for i in (0, 2, 4))
    return "#000000" if 0.299 * red + 0.587 * green + 0.114 * blue > 150 else "#ffffff"


def _headers(look: TrackingPageSettings) -> dict[str, str]:
    # Nothing loads from elsewhere but the store's own logo; no script runs at all.
    images = look.logo_url if look.logo_url else "'none'"
    policy = (f"default-src 'none'; style-src 'unsafe-inline'; img-src {images}; "
              "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")  # fmt: skip
    return {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
            "X-Robots-Tag": "noindex", "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": policy}  # fmt: skip


def client_of(request: web.Request, proxies: Sequence[str]) -> str:
    """The client's address: the connection's, or, from one of our reverse proxies, the
    nearest address in X-Forwarded-For that is not one of them (the ones before it are
    whatever the client chose to send)."""
    peer = request.remote or ""
    if peer not in proxies:
        return peer
    hops = [h.strip() for line in request.headers.getall("X-Forwarded-For", [])
            for h in line.split(",") if h.strip()]  # fmt: skip
    return next((hop for hop in reversed(hops) if hop not in proxies), peer)


def _same_email(shipment: Shipment, email: str) -> bool:
    """Email addresses compared without regard to case (as people type them)."""
    stored = shipment.customer_email.strip().casefold()
    return bool(stored) and hmac.compare_digest(stored.encode(), email.strip().casefold().encode())


def render(
    store_id: str, store: StoreSettings | None, title: str, *lines: str,
    parcels: Sequence[object] = (), form: bool = True, status: int = 200,
    extra: dict[str, str] | None = None,
) -> web.Response:  # fmt: skip
    """A page in the store's colours (neutral ones for a store without a page)."""
    look = store.tracking_page if store is not None else TrackingPageSettings()
    values: dict[str, Any] = {
        "title": title, "lines": lines, "parcels": parcels, "look": look,
        "on_brand": _on(look.brand_colour), "name": store.name if store else "",
        "email": (look.contact_email or store.contact_email) if store else "",
        "phone": look.contact_phone, "form": f"{TRACK_PATH}{store_id}" if form else "",
    }  # fmt: skip
    text = _ENV.get_template("tracking.html.j2").render(values)
    headers = {**_headers(look), **(extra or {})}
    return web.Response(text=text, status=status, content_type="text/html", headers=headers)


class TrackingPage:
    def __init__(self, desk: ReportDesk) -> None:
        self._desk = desk
        self._limits = Window(timedelta(hours=1))

    def routes(self) -> list[web.RouteDef]:
        store = TRACK_PATH + "{store}"
        return [
            web.get(store, self.form),
            web.post(store, self.lookup),
            web.get(store + r"/link/{token:[\s\S]*}", self.link),
        ]

    def _store(self, request: web.Request) -> tuple[str, StoreSettings | None]:
        """The store of the path, None unless it is configured with its page on."""
        store_id = request.match_info["store"]
        store = self._desk.settings.stores.get(store_id)
        return store_id, store if store is not None and store.tracking_page.enabled else None

    async def form(self, request: web.Request) -> web.Response:
        store_id, store = self._store(request)
        if store is None:
            return render(store_id, None, "There is no tracking page here", form=False,
                          status=404)  # fmt: skip
        return render(store_id, store, "Track your order",
                      "Enter your order number and the email address you ordered with.")  # fmt: skip

    async def lookup(self, request: web.Request) -> web.Response:
        store_id, store = self._store(request)
        if store is None:
            return render(store_id, None, "There is no tracking page here", form=False,
                          status=404)  # fmt: skip
        data = await request.post()
        order, email = str(data.get("order", "")).strip(), str(data.get("email", "")).strip()
        if not order or not email or len(order) > MAX_ORDER or len(email) > MAX_EMAIL:
            return render(store_id, store, "Track your order", "Please enter both your order "
                          "number and the email address you ordered with.", status=400)  # fmt: skip
        client = client_of(request, self._desk.settings.daemon.forwarded_by)
        refused = self._limited(store_id, store, client, order)
        if refused is not None:
            return refused
        readout = await self._desk.store.shipments_of_order(store_id, order)
        found = [s for s in readout.shipments if _same_email(s, email)]
        if not found:
            return render(store_id, store, "Track your order", NOT_FOUND, status=404)
        return await self._show(store_id, store, found)

    def _limited(
        self, store_id: str, store: StoreSettings, client: str, order: str
    ) -> web.Response | None:
        """A 429 when this client or this order number has had its lookups for the hour;
        else the lookup is counted against both. An unknown order counts as a known one."""
        now, look = self._desk.clock.now(), store.tracking_page
        keys = [(("client", store_id, client), look.lookups_per_client_per_hour),
                (("order", store_id, order.removeprefix("#").strip().casefold()),
                 look.lookups_per_order_per_hour)]  # fmt: skip
        waits = [w for key, limit in keys if (w := self._limits.retry_after(key, limit, now))]
        if waits:
            wait = max(waits)
            return render(store_id, store, "Too many lookups", "Please wait a little and try "
                          f"again in {max(1, round(wait / 60))} minutes.", form=False,
                          status=429, extra={"Retry-After": str(wait)})  # fmt: skip
        for key, _ in keys:
            self._limits.hit(key, now)
        return None

    async def link(self, request: web.Request) -> web.Response:
        store_id, store = self._store(request)
        if store is None:
            return render(store_id, None, "There is no tracking page here", form=False,
                          status=404)  # fmt: skip
        try:
            shipment_id = self._desk.links.verify(request.match_info["token"],
                                                  self._desk.clock.now(), TRACK_PURPOSE)  # fmt: skip
            shipment = await self._desk.store.get_shipment(shipment_id)
        except ExpiredLink:
            return render(store_id, store, "This link has expired", "Enter your order number "
                          "and email address to see your order.", status=410)  # fmt: skip
        except (LinkError, UnreadableShipment):
            shipment = None
        if shipment is None or shipment.store != store_id:  # another store's parcel: no
            return render(store_id, store, "This link is not valid", "Enter your order "
                          "number and email address to see your order.", status=400)  # fmt: skip
        readout = await self._desk.store.shipments_of_order(store_id, shipment.order_id)
        siblings = [s for s in readout.shipments if s.id == shipment.id
                    or _same_email(s, shipment.customer_email)]  # fmt: skip
        return await self._show(store_id, store, siblings or [shipment])

    async def _show(
        self, store_id: str, store: StoreSettings, shipments: Sequence[Shipment]
    ) -> web.Response:
        ids = [s.id for s in shipments if s.id is not None]
        events = await self._desk.store.events_for(ids)
        now = self._desk.clock.now()
        parcels = [parcel_view(s, events.get(s.id or 0, []), store, now) for s in shipments]
        order = shipments[0].order_id
        many = f"{len(parcels)} parcels" if len(parcels) > 1 else "1 parcel"
        return render(store_id, store, f"Order {order}", f"This order has {many}.",
                      parcels=parcels, form=False)  # fmt: skip
