"""The report card as a page of the staff console: `/console/report` (the charts inline as
SVG, then the table) and `/console/report.csv`, over the stores the console lets the person
see. Sign-in is the console's: it mounts these routes behind it, e.g.

    app.add_routes(report_routes(store, settings, lambda request: stores_of(request)))

where the callable gives the signed-in person's stores (None: an operator, every store), or
`mount_report` to have the default period read as the app starts (trackwatch.reportcard.
cache: the page serves figures read at most a few minutes ago, and says when).
Query: `since` and `until` (YYYY-MM-DD, shipped, UTC; default the last 30 days) and
`store` (one of those allowed). A store not allowed is shown nothing, as no store at all."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import cache

import jinja2
from aiohttp import web
from markupsafe import Markup

from trackwatch.clock import Clock, SystemClock
from trackwatch.config import Settings
from trackwatch.errors import InputError
from trackwatch.reportcard.cache import CardCache, Shown
from trackwatch.reportcard.export import to_csv
from trackwatch.reportcard.figures import Rate
from trackwatch.reportcard.period import period_of
from trackwatch.reportcard.promised import origins, policy_promise
from trackwatch.store.contract import ReportSource
from trackwatch.store.lanes import Period

DRAWN = 64  # sets of charts kept: a period for each store's staff and the operator
AllowedStores = Callable[[web.Request], Awaitable[frozenset[str] | None]]
PATH = "/console/report"
# The charts' SVG carries pygal's inline style and a settings script the page never runs.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'"


@cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("trackwatch.reportcard", "templates"), autoescape=True
    )


def _rate(rate: Rate) -> str:
    return "–" if rate.value is None else f"{100 * rate.value:.0f}% ({rate.count}/{rate.of})"


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def _last_day(period: Period) -> str:
    return (period.until - timedelta(days=1)).date().isoformat()


class ReportPage:
    def __init__(self, source: ReportSource, settings: Settings, allowed: AllowedStores,
                 clock: Clock) -> None:  # fmt: skip
        self._settings, self._allowed, self._clock = settings, allowed, clock
        self._drawn: dict[tuple[Period, datetime], dict[str, Markup]] = {}
        self.cache = CardCache(source, clock, lambda: origins(settings),
                               lambda: policy_promise(settings))  # fmt: skip

    def _period(self, request: web.Request, allowed: frozenset[str] | None) -> Period:
        """The query's period over the stores asked for, within those `allowed`."""
        query = request.query
        chosen = query.get("store") or None
        stores = allowed
        if chosen is not None:  # an empty set allows nothing: never `allowed or ...`
            stores = frozenset({chosen}) if allowed is None else frozenset({chosen}) & allowed
        try:
            return period_of(query.get("since") or None, query.get("until") or None, stores,
                             self._clock.now())  # fmt: skip
        except InputError as exc:
            raise web.HTTPBadRequest(text=f"{exc.field}: {exc.reason}") from None

    async def _card(self, period: Period) -> Shown:
        return await self.cache.card(period)

    def _charts(self, shown: Shown) -> dict[str, Markup]:
        """The card's charts, drawn once per reading and choice of stores (pygal takes
        about 45 ms for a month of ten stores: half the page's time)."""
        from trackwatch.reportcard.charts import charts  # noqa: PLC0415 (pygal when drawn)

        card = shown.card
        key = (card.period, shown.read_at)
        drawn = self._drawn.pop(key, None)
        if drawn is None:
            drawn = {k: Markup(v) for k, v in charts(card).items()} if card.carriers else {}
        self._drawn[key] = drawn  # the latest shown last: the oldest goes first
        while len(self._drawn) > DRAWN:
            del self._drawn[next(iter(self._drawn))]
        return drawn

    async def warm(self, app: web.Application) -> None:
        """Read the default period as the app starts (not awaited: the app starts now)."""
        self.cache.warm(period_of(None, None, None, self._clock.now()))

    async def close(self, app: web.Application) -> None:
        await self.cache.close()

    async def page(self, request: web.Request) -> web.Response:
        allowed = await self._allowed(request)
        period = self._period(request, allowed)
        shown = await self._card(period)
        card = shown.card
        stores = [(sid, s.name) for sid, s in sorted(self._settings.stores.items())
                  if allowed is None or sid in allowed]  # fmt: skip
        html = _templates().get_template("report.html.j2").render(
            card=card, rows=[*card.carriers, *card.lanes], rate=_rate, number=_number,
            charts=self._charts(shown),
            stores=stores, every=allowed is None, chosen=request.query.get("store", ""),
            since=period.since.date().isoformat(), until=_last_day(period),
            read_at=f"{shown.read_at:%Y-%m-%d %H:%M} UTC",
            path=PATH, csv_link=request.rel_url.with_path(f"{PATH}.csv").human_repr(),
        )  # fmt: skip
        return web.Response(text=html, content_type="text/html",
                            headers={"Content-Security-Policy": _CSP})  # fmt: skip

    def routes(self) -> list[web.RouteDef]:
        return [web.get(PATH, self.page), web.get(f"{PATH}.csv", self.csv)]

    async def csv(self, request: web.Request) -> web.Response:
        period = self._period(request, await self._allowed(request))
        card = (await self._card(period)).card
        name = f"report-{period.since.date().isoformat()}-{_last_day(period)}.csv"
        return web.Response(text=to_csv(card), content_type="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


def report_page(
    source: ReportSource, settings: Settings, allowed_stores: AllowedStores,
    clock: Clock | None = None,
) -> ReportPage:  # fmt: skip
    """The report card's page, over the stores `allowed_stores` gives for each request
    (None: every store)."""
    return ReportPage(source, settings, allowed_stores, clock or SystemClock())


def report_routes(
    source: ReportSource, settings: Settings, allowed_stores: AllowedStores,
    clock: Clock | None = None,
) -> list[web.RouteDef]:  # fmt: skip
    """The report card's routes (see `report_page`), read when first asked for."""
    return report_page(source, settings, allowed_stores, clock).routes()


def mount_report(app: web.Application, page: ReportPage) -> None:
    """The page's routes on `app`, its default period read as `app` starts."""
    app.add_routes(page.routes())
    app.on_startup.append(page.warm)
    app.on_cleanup.append(page.close)
