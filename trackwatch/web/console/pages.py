"""The console's pages: open alerts, a shipment, search, carrier health. Every read is the
viewer's stores' alone; another store's shipment is answered 404, as if it did not exist."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from trackwatch.accounts import store_of
from trackwatch.fields import whole_number
from trackwatch.model import Severity, Shipment
from trackwatch.store import UnreadableShipment
from trackwatch.store.records import AlertQuery
from trackwatch.views import local_time, polling_lines
from trackwatch.web.console.desk import PREFIX, Base, Viewer

FILTERS = ("store", "rule", "severity", "carrier")
PAGE = 100  # open alerts a page shows: ten thousand would take seconds to send and read


def _page_link(request: web.Request, number: int) -> str:
    """This page's URL (its filters kept) at page `number`."""
    query = {k: v for k, v in request.query.items() if k != "page"}
    return str(request.rel_url.with_query({**query, "page": str(number)}))


class Pages(Base):
    def page_routes(self) -> list[web.RouteDef]:
        return [
            web.get(PREFIX, self.home), web.get(f"{PREFIX}/", self.home),
            web.get(f"{PREFIX}/alerts", self.alerts),
            web.get(f"{PREFIX}/shipments/{{id}}", self.shipment),
            web.get(f"{PREFIX}/search", self.search), web.get(f"{PREFIX}/health", self.health),
        ]  # fmt: skip

    async def home(self, request: web.Request) -> web.Response:
        raise web.HTTPSeeOther(f"{PREFIX}/alerts")

    async def alerts(self, request: web.Request) -> web.Response:
        """A page of PAGE open alerts (`page`, from 1), the count of all, and links to the
        pages either side that keep the filters."""
        viewer = await self.viewer(request)
        chosen = {k: request.query.get(k) or None for k in FILTERS}
        snoozed = "snoozed" in request.query
        number = whole_number(request.query.get("page", ""), high=10**9) or 1
        query = AlertQuery(viewer.account.stores, chosen["store"], chosen["rule"],
                           chosen["severity"], chosen["carrier"], snoozed, PAGE,
                           (number - 1) * PAGE)  # fmt: skip
        store, now = self.desk.store, self.now()
        rows, total = (
            await store.console_alerts(query, now),
            await store.count_console_alerts(query, now),
        )
        stores = sorted(self.desk.report.settings.stores)
        if viewer.account.stores is not None:
            stores = [s for s in stores if s in viewer.account.stores]
        return self.render("alerts.j2", viewer.session, viewer=viewer.account, rows=rows,
                           chosen=chosen, stores=stores, severities=[s.value for s in Severity],
                           snoozed=snoozed, total=total, first=query.offset + 1, page_size=PAGE,
                           previous=_page_link(request, number - 1) if number > 1 else None,
                           next=_page_link(request, number + 1)
                           if query.offset + len(rows) < total else None)  # fmt: skip

    async def own_shipment(self, viewer: Viewer, text: str) -> Shipment:
        """The viewer's shipment of that id, else 404 (another store's included)."""
        shipment_id = whole_number(text)
        try:
            found = await self.desk.store.get_shipment(shipment_id) if shipment_id else None
        except UnreadableShipment:
            found = None
        if found is None or not viewer.may_see(found.store):
            raise web.HTTPNotFound(text="No such shipment.")
        return found

    async def shipment(self, request: web.Request) -> web.Response:
        viewer = await self.viewer(request)
        s = await self.own_shipment(viewer, request.match_info["id"])
        sid, store = s.id or 0, self.desk.store
        events = (await store.events_for([sid])).get(sid, [])
        return self.render(
            "shipment.j2", viewer.session, viewer=viewer.account, s=s, events=events,
            alerts=await store.alerts_for(sid), triage=await store.alert_triage(sid),
            notices=await store.notices_of_shipment(sid), actions=await store.staff_actions(sid),
            polling=[line.strip() for line in polling_lines(s)], carrier=self._carrier_now(s),
            when=lambda value: local_time(value, s), now=self.now(),
        )  # fmt: skip

    def _carrier_now(self, s: Shipment) -> list[str]:
        """What holds the next poll back on the carrier's side: failing, or parked."""
        vitals, now = self.desk.vitals, self.now()
        if vitals is None:
            return []
        lines = []
        for key in (f"{s.carrier}@{s.store}", s.carrier):
            if until := vitals.health.blocked_until(key, now):
                lines.append(f"carrier account {key} is left alone until "
                             f"{local_time(until, s)}: no poll before then")  # fmt: skip
        return lines

    async def search(self, request: web.Request) -> web.Response:
        viewer = await self.viewer(request)
        text = request.query.get("q", "").strip()[:254]
        found = await self.desk.store.find_shipments(viewer.account.stores, text) if text else []
        return self.render("search.j2", viewer.session, viewer=viewer.account, q=text,
                           found=found)  # fmt: skip

    async def health(self, request: web.Request) -> web.Response:
        viewer = await self.viewer(request)
        rows = await self._accounts(viewer) if self.desk.vitals is not None else []
        return self.render("health.j2", viewer.session, viewer=viewer.account, rows=rows)

    async def _accounts(self, viewer: Viewer) -> list[dict[str, Any]]:
        """Each carrier account the viewer may see: the shared ones and their store's own."""
        vitals, now = self.desk.vitals, self.now()
        assert vitals is not None
        rows = []
        for key in sorted(vitals.accounts):
            owner = store_of(key)
            if owner is not None and not viewer.may_see(owner):
                continue
            quota = vitals.quotas.get(key)
            spent = await quota.spent(now) if quota is not None else None
            rows.append({
                "key": key, "limit": quota.limit if quota else None,
                "window": ("day" if quota.daily else "hour") if quota else "",
                "used": spent.count if spent else None,
                "left": spent.remaining if spent else None,
                "last_success": vitals.health.last_success.get(key),
                "failing": vitals.health.failing.get(key),
                "parked": vitals.health.parked(now).get(key),
                "blocked_until": vitals.health.blocked_until(key, now),
            })  # fmt: skip
        return rows
