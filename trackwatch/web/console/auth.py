"""Signing in and out of the console."""

from __future__ import annotations

from aiohttp import web

from trackwatch.staff import verify_password
from trackwatch.web.console.desk import PREFIX, Base
from trackwatch.web.console.sessions import COOKIE, Session, csrf_ok, fresh


class SignIn(Base):
    def routes(self) -> list[web.RouteDef]:
        return [web.get(f"{PREFIX}/login", self.form), web.post(f"{PREFIX}/login", self.sign_in),
                web.post(f"{PREFIX}/logout", self.sign_out)]  # fmt: skip

    def _anonymous(self, request: web.Request) -> Session:
        found = self.sessions.open(request.cookies.get(COOKIE), self.now())
        return found if found is not None else fresh(self.now())

    async def form(self, request: web.Request) -> web.Response:
        return self.render("login.j2", self._anonymous(request), error="")

    async def sign_in(self, request: web.Request) -> web.Response:
        session = self.sessions.open(request.cookies.get(COOKIE), self.now())
        form = await request.post()
        if not csrf_ok(session, form.get("csrf")):
            raise web.HTTPForbidden(text="This form has expired; reload the page.")
        login, password = str(form.get("login", "")), str(form.get("password", ""))
        address, now = request.remote or "", self.now()
        if not self.limit.allowed(login, address, now):
            return self.render("login.j2", fresh(now), status=429,
                               error="Too many failed sign-ins: wait 15 minutes.")  # fmt: skip
        account = await self.desk.store.staff_account(login) if login else None
        if not verify_password(account.password_hash if account else None, password):
            self.limit.failed(login, address, now)
            return self.render("login.j2", fresh(now), status=401,
                               error="Wrong login or password.")  # fmt: skip
        assert account is not None
        response = web.HTTPSeeOther(f"{PREFIX}/alerts")
        self.keep(response, fresh(now, account.login, account.generation))
        raise response

    async def sign_out(self, request: web.Request) -> web.Response:
        await self.posted(request)
        response = web.HTTPSeeOther(f"{PREFIX}/login")
        response.del_cookie(COOKIE, path=PREFIX)
        raise response
