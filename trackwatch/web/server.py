"""Serving the daemon's HTTP app: 127.0.0.1 unless configured, any free port when the port
is 0 (tests, the demo). Links in emails use `public_url`, or the address it listens on."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from trackwatch.config import DaemonSettings
from trackwatch.web.api import Api
from trackwatch.web.console import ConsoleDesk, mount_console
from trackwatch.web.errors import json_errors
from trackwatch.web.ops import Ops, Vitals
from trackwatch.web.push import PushDesk, PushReceivers
from trackwatch.web.report_page import ReportDesk, ReportPage
from trackwatch.web.shopify import ShopifyWebhook
from trackwatch.web.tracking import TrackingPage


def build_app(
    desk: ReportDesk, vitals: Vitals | None = None, console: ConsoleDesk | None = None,
    push: PushDesk | None = None,
) -> web.Application:  # fmt: skip
    limit = desk.settings.daemon.http_max_body_kib * 1024
    app = web.Application(client_max_size=limit, middlewares=[json_errors])
    app.add_routes(ReportPage(desk).routes())
    app.add_routes(Api(desk).routes())
    app.add_routes(ShopifyWebhook(desk).routes())
    app.add_routes(TrackingPage(desk).routes())
    if vitals is not None:
        app.add_routes(Ops(vitals).routes())
    if console is not None:
        mount_console(app, console)
    if push is not None:
        app.add_routes(PushReceivers(push).routes())
    return app


@dataclass
class Served:
    runner: web.AppRunner
    base_url: str

    async def stop(self) -> None:
        await self.runner.cleanup()


async def serve(app: web.Application, settings: DaemonSettings) -> Served:
    runner = web.AppRunner(app, access_log=None)  # access logs would carry customers' links
    await runner.setup()
    await web.TCPSite(runner, settings.http_host, settings.http_port).start()
    host, port = runner.addresses[0][:2]
    base = settings.public_url or f"http://{host}:{port}"
    return Served(runner, base)
