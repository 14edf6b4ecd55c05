"""The staff console under /console/: server-rendered pages (Jinja2 templates and one
stylesheet, all in the package; no script), signed-cookie sessions, CSRF on every form."""

from __future__ import annotations

from aiohttp import web

from trackwatch.web.console.auth import SignIn
from trackwatch.web.console.desk import HERE, PREFIX, ConsoleDesk
from trackwatch.web.console.errors import console_errors
from trackwatch.web.console.sessions import Sessions, SignInLimit
from trackwatch.web.console.uploads import Uploads


async def stylesheet(request: web.Request) -> web.Response:
    return web.Response(body=(HERE / "static" / "console.css").read_bytes(),
                        content_type="text/css",
                        headers={"Cache-Control": "max-age=3600"})  # fmt: skip


def mount_console(app: web.Application, desk: ConsoleDesk) -> None:
    """The console's pages and actions on `app`, and the report card's (read as `app`
    starts)."""
    sessions, limit = Sessions(desk.key), SignInLimit()
    console = Uploads(desk, sessions, limit)

    async def allowed(request: web.Request) -> frozenset[str] | None:
        """The report card shows the signed-in account's stores (an operator's: all)."""
        return (await console.viewer(request)).account.stores

    # Imported here: the report card's page and charts load only with the console.
    from trackwatch.reportcard.page import mount_report, report_page  # noqa: PLC0415

    report = desk.report
    app.middlewares.append(console_errors)
    app.add_routes([
        *SignIn(desk, sessions, limit).routes(),
        *console.page_routes(),
        *console.action_routes(),
        *console.watch_routes(),
        *console.erasure_routes(),
        *console.upload_routes(),
        web.get(f"{PREFIX}/console.css", stylesheet),
    ])  # fmt: skip
    mount_report(app, report_page(desk.store, report.settings, allowed, report.clock))


__all__ = ["ConsoleDesk", "mount_console"]
