"""Watching a parcel from the console, as `trackwatch add` and the API's POST /shipments do:
the same checks (trackwatch.ingest.accept), the same store method, recorded with who and
when. A store's staff add to their own store only; an operator names any store."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from trackwatch.errors import InputError
from trackwatch.ingest import accept
from trackwatch.model import Shipment
from trackwatch.web.console.actions import Actions
from trackwatch.web.console.desk import PREFIX, Viewer

# The form's fields, named as the CLI's flags and the API's body (trackwatch.ingest).
FIELDS = ("store", "carrier", "tracking_number", "order_id", "customer_email", "customer_name",
          "customer_phone", "destination_country", "destination_postal_code",
          "destination_city", "shipped_at", "ordered_at", "promised_by")  # fmt: skip
WATCH = f"{PREFIX}/watch"


class Watching(Actions):
    def watch_routes(self) -> list[web.RouteDef]:
        return [web.get(WATCH, self.watch_form), web.post(WATCH, self.watch)]

    def _stores(self, viewer: Viewer) -> list[str]:
        stores = sorted(self.desk.report.settings.stores)
        return [s for s in stores if viewer.may_see(s)]

    def _form(self, viewer: Viewer, given: Mapping[str, str], problems: list[tuple[str, str]],
              status: int = 200) -> web.Response:  # fmt: skip
        return self.render("watch.j2", viewer.session, status, viewer=viewer.account,
                           stores=self._stores(viewer), given=given, problems=problems)  # fmt: skip

    async def watch_form(self, request: web.Request) -> web.Response:
        viewer = await self.viewer(request)
        return self._form(viewer, {"destination_country": "US"}, [])

    async def watch(self, request: web.Request) -> web.Response:
        viewer, form = await self.posted(request)
        given = {name: form[name] for name in FIELDS if form.get(name)}
        if not viewer.may_see(given.get("store", "")):
            problem = ("store", "not one of the stores you may add to")
            return self._form(viewer, given, [problem], status=403)
        now = self.now()
        try:
            shipment = accept(dict(given), self.desk.report.settings, now).shipment
        except InputError as exc:
            found = [(p.field, p.reason) for p in exc.problems]
            return self._form(viewer, given, found, status=400)
        [(shipment_id, created)] = await self.desk.store.add_shipments([shipment], now)
        stored = shipment.model_copy(update={"id": shipment_id})
        return await self._added(viewer, stored, created)

    async def _added(self, viewer: Viewer, s: Shipment, created: bool) -> web.Response:
        detail = f"{s.carrier} {s.tracking_number}, order {s.order_id}"
        return await self._done(viewer, s, "add" if created else "add (already watched)", detail)
