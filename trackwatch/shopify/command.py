"""`trackwatch shopify backfill --store ID [--since DATE]` (README: From Shopify)."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime, timedelta

import aiohttp

from trackwatch.cli.common import opened, settings_for
from trackwatch.clock import Clock, SystemClock
from trackwatch.config import Settings
from trackwatch.errors import InputError
from trackwatch.shopify.admin_api import AdminApi, AdminApiError
from trackwatch.shopify.backfill import Backfill

DEFAULT_SINCE = timedelta(days=60)


def since_of(text: str | None, now: datetime) -> datetime:
    """`--since`: a date (midnight UTC) or an ISO date-time with its offset; default 60 days
    ago. At most 365 days back: ingest refuses older shipments."""
    if text is None:
        return now - DEFAULT_SINCE
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError("since", f"{text!r} is not a date such as 2026-11-01") from None
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    if not now - timedelta(days=365) <= value <= now:
        raise InputError("since", f"{text} must be within the last 365 days")
    return value


def _store(settings: Settings, store: str) -> None:
    shop = settings.stores.get(store)
    if shop is None:
        raise InputError("store", f"{store!r} is not configured ({', '.join(settings.stores)})")
    if not shop.shopify.configured:
        raise InputError("store", f"{store!r} has no [stores.{store}.shopify] shop_domain and "
                         "access_token (or access_token_file)")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """`trackwatch shopify <action>` (backfill is the one there is)."""
    return backfill(args)


def backfill(args: argparse.Namespace) -> int:
    return asyncio.run(_backfill(args, getattr(args, "clock", None) or SystemClock()))


async def _backfill(args: argparse.Namespace, clock: Clock) -> int:
    settings = settings_for(args, secrets="read")
    _store(settings, args.store)
    since = since_of(args.since, clock.now())
    say = (lambda _line: None) if args.json else (lambda line: print(line, flush=True))
    async with opened(settings, create=True) as store, aiohttp.ClientSession() as http:
        api = AdminApi(settings.stores[args.store].shopify, http, clock)
        run = Backfill(store, settings, args.store, clock.now, say)
        try:
            counts = await run.run(api, since)
        except AdminApiError as exc:
            raise InputError("shopify", str(exc)) from None
    if args.json:
        print(json.dumps({"store": args.store, "since": since.isoformat(), **counts,
                          "calls": api.calls, "waited_seconds": round(api.waited, 1)}))  # fmt: skip
    else:
        print(f"done: {run.summary() or 'no fulfillments'} ({api.calls} calls, waited "
              f"{api.waited:.1f} s for Shopify's rate limit)")  # fmt: skip
    return 0
