"""The console's refusals as pages (a shipment not found, a form refused, an action too
late), not aiohttp's plain text: what happened, in the words the handler gave, and a way
back. Redirects (sign-in, after an action) pass through."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import jinja2
from aiohttp import web
from markupsafe import escape

from trackwatch.web.console.desk import PREFIX

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PAGE = jinja2.Template(
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{{ title }} · '
    'trackwatch console</title><link rel="stylesheet" href="{{ prefix }}/console.css"></head>'
    '<body><main><h1>{{ title }}</h1><p>{{ text }}</p><p><a href="{{ prefix }}/alerts">Back '
    "to the open alerts</a></p></main></body></html>",
    autoescape=True,
)


@web.middleware
async def console_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith(f"{PREFIX}/") and request.path != PREFIX:
        return await handler(request)
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "text/html":
            raise
        text = exc.text if exc.text and exc.text != f"{exc.status}: {exc.reason}" else exc.reason
        body = PAGE.render(title=f"{exc.status} {exc.reason}", text=escape(text), prefix=PREFIX)
        return web.Response(text=body, status=exc.status, content_type="text/html",
                            headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY",
                                     "Content-Security-Policy": "default-src 'self'"})  # fmt: skip
