"""What staff do in the console, each through the store methods the CLI and the API use,
each recorded with who and when (staff_actions): resolve, snooze, assign, stop watching,
poll again now (or restart a stopped one), report not received, resend a dead notice."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from aiohttp import web

from trackwatch.errors import InputError
from trackwatch.fields import whole_number
from trackwatch.model import Alert, Shipment, Status
from trackwatch.stopping import checked_reason, stop_shipment
from trackwatch.store.records import StaffAction
from trackwatch.web.console.desk import PREFIX, Viewer
from trackwatch.web.console.pages import Pages

SNOOZE_MAX = timedelta(days=30)


class Actions(Pages):
    def action_routes(self) -> list[web.RouteDef]:
        base = f"{PREFIX}/shipments/{{id}}"
        return [web.post(f"{base}/{name}", handler) for name, handler in (
            ("resolve", self.resolve), ("snooze", self.snooze), ("assign", self.assign),
            ("stop", self.stop), ("poll", self.poll), ("report-missing", self.report_missing),
            ("resend", self.resend))]  # fmt: skip

    async def _start(self, request: web.Request) -> tuple[Viewer, Shipment, Mapping[str, str]]:
        viewer, form = await self.posted(request)
        return viewer, await self.own_shipment(viewer, request.match_info["id"]), form

    async def _done(self, viewer: Viewer, s: Shipment, action: str, detail: str = "",
                    alert_id: int | None = None, notice_id: int | None = None) -> web.Response:  # fmt: skip
        await self.desk.store.record_action(StaffAction(
            self.now(), viewer.account.login, s.store, action, s.id, alert_id, notice_id,
            detail[:500]))  # fmt: skip
        self.desk.report.wake()
        raise web.HTTPSeeOther(f"{PREFIX}/shipments/{s.id}")

    async def _alert(self, s: Shipment, form: Mapping[str, str]) -> Alert:
        alert_id = whole_number(form.get("alert", ""))
        alert = await self.desk.store.get_alert(alert_id) if alert_id else None
        if alert is None or alert.shipment_id != s.id:
            raise web.HTTPBadRequest(text="alert: not one of this shipment's")
        return alert

    async def resolve(self, request: web.Request) -> web.Response:
        viewer, s, form = await self._start(request)
        alert = await self._alert(s, form)
        note = _checked(form.get("note", ""), "note")
        resolved = await self.desk.store.resolve_by_hand(
            s.id or 0, alert.rule, f"{note} (by {viewer.account.login})", self.now()
        )
        if alert.id not in resolved:
            raise web.HTTPConflict(text="That alert is no longer open.")
        return await self._done(viewer, s, "resolve", note, alert.id)

    async def snooze(self, request: web.Request) -> web.Response:
        viewer, s, form = await self._start(request)
        alert = await self._alert(s, form)
        until = _until(form.get("until", ""), self.now())
        if not await self.desk.store.snooze_alert(alert.id, until):
            raise web.HTTPConflict(text="That alert is no longer open.")
        return await self._done(viewer, s, "snooze", f"until {until.isoformat()}", alert.id)

    async def assign(self, request: web.Request) -> web.Response:
        viewer, s, form = await self._start(request)
        alert = await self._alert(s, form)
        person = _checked(form.get("assignee", ""), "assignee") if form.get("assignee") else None
        if not await self.desk.store.assign_alert(alert.id, person):
            raise web.HTTPConflict(text="That alert is no longer open.")
        return await self._done(viewer, s, "assign", person or "nobody", alert.id)

    async def stop(self, request: web.Request) -> web.Response:
        viewer, s, form = await self._start(request)
        reason = _checked(form.get("reason", ""), "reason")
        by = f"{viewer.account.login} (console)"
        await stop_shipment(self.desk.store, self.desk.report.settings, s, reason, by, self.now())
        return await self._done(viewer, s, "stop", reason)

    async def poll(self, request: web.Request) -> web.Response:
        """Poll now: a stopped or set-aside shipment is restarted (`trackwatch restart`), a
        watched one has its next poll brought forward to now."""
        viewer, s, _ = await self._start(request)
        store, now = self.desk.store, self.now()
        if s.stopped or s.set_aside:
            await store.restart_polling(s.id or 0, now)
            return await self._done(viewer, s, "restart", s.stopped or s.set_aside or "")
        await store.reschedule_polls([s.id or 0], now)
        return await self._done(viewer, s, "poll now")

    async def report_missing(self, request: web.Request) -> web.Response:
        viewer, s, _ = await self._start(request)
        if not s.active or s.status is not Status.DELIVERED:
            raise web.HTTPConflict(text="Only a watched parcel marked delivered can be "
                                   "reported as not received.")  # fmt: skip
        by = f"{viewer.account.login} (console)"
        await self.desk.store.report_missing(s.id or 0, by, self.now())
        return await self._done(viewer, s, "report missing")

    async def resend(self, request: web.Request) -> web.Response:
        viewer, s, form = await self._start(request)
        notice_id = whole_number(form.get("notice", ""))
        notice = await self.desk.store.get_notice(notice_id) if notice_id else None
        if notice is None or notice.shipment_id != s.id:
            raise web.HTTPBadRequest(text="notice: not one of this shipment's")
        if not await self.desk.store.resend_notice(notice.id, self.now()):
            raise web.HTTPConflict(text="Only a dead-lettered notice can be sent again.")
        return await self._done(viewer, s, "resend", notice.channel, notice.alert_id, notice.id)


def _checked(value: str, field: str) -> str:
    try:
        return checked_reason(value, field)
    except InputError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None


def _until(value: str, now: datetime) -> datetime:
    """A snooze's end: an ISO date-time (a datetime-local field's, read as UTC without an
    offset), after now and within 30 days."""
    try:
        until = datetime.fromisoformat(value)
    except ValueError:
        raise web.HTTPBadRequest(text="until: not a date and time") from None
    until = until if until.tzinfo else until.replace(tzinfo=UTC)
    if not now < until <= now + SNOOZE_MAX:
        raise web.HTTPBadRequest(text="until: must be after now and within 30 days")
    return until
