"""Erasing one customer from the console, as `trackwatch forget` does (the same store
method, the same report): first what would go (a dry run), then, confirmed, the erasure.
A store's staff erase their own store's parcels of the address; an operator every store's
or one chosen. The audit trail records who erased how many parcels, never the address:
the record would otherwise keep the very data erased."""

from __future__ import annotations

from aiohttp import web

from trackwatch.forget_command import report
from trackwatch.store.records import StaffAction
from trackwatch.web.console.desk import PREFIX, Viewer
from trackwatch.web.console.watching import Watching

FORGET = f"{PREFIX}/forget"
EVERY = "*"  # the audit trail's store for an operator's erasure across stores


def _address(text: str) -> str | None:
    email = text.strip()
    ok = "@" in email and len(email) <= 254 and not any(c.isspace() for c in email)
    return email if ok else None


class Erasure(Watching):
    def erasure_routes(self) -> list[web.RouteDef]:
        return [web.get(FORGET, self.forget_form), web.post(FORGET, self.forget)]

    def _scope(self, viewer: Viewer, chosen: str) -> str | None:
        """The store erased in: staff's own, an operator's choice (None: every store)."""
        if viewer.account.stores is None:
            return chosen or None
        if chosen and not viewer.may_see(chosen):
            raise web.HTTPForbidden(text="store: not one of the stores you may see")
        return viewer.account.store

    async def forget_form(self, request: web.Request) -> web.Response:
        """The address asked about, and what erasing it would remove (nothing yet)."""
        viewer = await self.viewer(request)
        typed, chosen = request.query.get("email", ""), request.query.get("store", "")
        email, preview = _address(typed), None
        if email is not None:
            store = self._scope(viewer, chosen)
            done = await self.desk.store.forget_customer(email, store, self.now(), dry_run=True)
            preview = report(email, store, done, dry_run=True)
        return self.render("forget.j2", viewer.session, 400 if typed and email is None else 200,
                           viewer=viewer.account, typed=typed, email=email, chosen=chosen,
                           stores=self._stores(viewer), preview=preview, done=None)  # fmt: skip

    async def forget(self, request: web.Request) -> web.Response:
        viewer, form = await self.posted(request)
        email = _address(form.get("email", ""))
        if email is None or form.get("confirm") != "yes":
            raise web.HTTPBadRequest(text="email: give the address and tick the confirmation")
        store = self._scope(viewer, form.get("store", ""))
        now = self.now()
        done = await self.desk.store.forget_customer(email, store, now)
        erased = done.shipments + done.kept_empty
        await self.desk.store.record_action(StaffAction(
            now, viewer.account.login, store or EVERY, "forget customer",
            detail=f"{erased} shipments erased, {done.held} held for a second run"))  # fmt: skip
        return self.render("forget.j2", viewer.session, viewer=viewer.account, typed="",
                           email=None, chosen="", stores=self._stores(viewer), preview=None,
                           done=report(email, store, done, dry_run=False))  # fmt: skip
