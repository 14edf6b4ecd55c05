"""What every console page and action shares: the store, the clock, the settings (the report
desk's, which a reload replaces), the signed sessions, the templates, and the viewer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web
from multidict import MultiDictProxy

from trackwatch.store.contract import Store
from trackwatch.store.records import StaffAccount
from trackwatch.web.console.sessions import COOKIE, IDLE, Session, Sessions, SignInLimit, csrf_ok
from trackwatch.web.ops import Vitals
from trackwatch.web.report_page import ReportDesk

PREFIX = "/console"
HERE = Path(__file__).parent


@dataclass
class ConsoleDesk:
    """`key` signs sessions (the database's secret "console" unless configured)."""

    report: ReportDesk
    store: Store
    key: bytes
    vitals: Vitals | None = None


@dataclass(frozen=True)
class Viewer:
    session: Session
    account: StaffAccount

    def may_see(self, store: str) -> bool:
        stores = self.account.stores
        return stores is None or store in stores


class Base:
    def __init__(self, desk: ConsoleDesk, sessions: Sessions, limit: SignInLimit) -> None:
        self.desk = desk
        self.sessions = sessions
        self.limit = limit
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
            undefined=jinja2.StrictUndefined,
        )  # fmt: skip

    def now(self) -> Any:
        return self.desk.report.clock.now()

    def secure(self) -> bool:
        return self.desk.report.settings.daemon.public_url.startswith("https://")

    def render(
        self, name: str, session: Session, status: int = 200, **context: Any
    ) -> web.Response:
        text = self.env.get_template(name).render(csrf=session.csrf, prefix=PREFIX, **context)
        response = web.Response(text=text, status=status, content_type="text/html")
        self.keep(response, session)
        return response

    def keep(self, response: web.StreamResponse, session: Session) -> None:
        """Send the session back (signed anew: its idle time starts over), with the headers
        every console page has."""
        response.set_cookie(COOKIE, self.sessions.seal(session.touched(self.now())),
                            max_age=int(IDLE.total_seconds()), path=PREFIX, httponly=True,
                            samesite="Strict", secure=self.secure())  # fmt: skip
        response.headers.update({"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
                                 "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
                                 "Content-Security-Policy": "default-src 'self'; "
                                 "form-action 'self'; frame-ancestors 'none'"})  # fmt: skip

    async def viewer(self, request: web.Request) -> Viewer:
        """The signed-in account, or a redirect to the sign-in page."""
        session = self.sessions.open(request.cookies.get(COOKIE), self.now())
        if session is not None and session.login is not None:
            account = await self.desk.store.staff_account(session.login)
            if account is not None and account.generation == session.generation:
                return Viewer(session, account)
        raise web.HTTPSeeOther(f"{PREFIX}/login")

    async def posted(self, request: web.Request) -> tuple[Viewer, Mapping[str, str]]:
        """A signed-in POST's form, refused (403) without the session's CSRF token."""
        viewer = await self.viewer(request)
        form = await request.post()
        if not csrf_ok(viewer.session, form.get("csrf")):
            raise web.HTTPForbidden(text="This form has expired or was not sent from the "
                                    "console; reload the page and try again.")  # fmt: skip
        return viewer, _texts(form)


def _texts(form: MultiDictProxy[Any]) -> dict[str, str]:
    return {key: value.strip() for key, value in form.items() if isinstance(value, str)}
