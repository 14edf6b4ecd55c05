"""`trackwatch report`: the carriers' report card in a terminal, as JSON or as CSV."""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta

from trackwatch.cli.common import emit, known_name, opened, settings_for
from trackwatch.clock import SystemClock
from trackwatch.reportcard.export import to_csv, to_json
from trackwatch.reportcard.figures import Card, Figures, Rate, read_card
from trackwatch.reportcard.period import period_of
from trackwatch.reportcard.promised import origins, policy_promise

_HEAD = (f"{'carrier':<8} {'lane':<12} {'shipped':>7} {'deliv.':>6} {'ETA met':>12} "
         f"{'promise met':>12} {'days med/p90':>12} {'stall':>6} {'exc.':>6} {'lost':>6} "
         f"{'told min med/p90':>16}")  # fmt: skip


def report(args: argparse.Namespace) -> int:
    return asyncio.run(_report(args))


async def _report(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    for store in args.store or ():
        known_name(store, settings.stores, "store")
    period = period_of(args.since, args.until, args.store, SystemClock().now())
    async with opened(settings) as store:
        card = await read_card(store, period, origins(settings), policy_promise(settings))
    if args.json:
        emit(to_json(card))
    elif args.csv:
        print(to_csv(card), end="")
    else:
        print(text_of(card))
    return 0


def _rate(rate: Rate) -> str:
    return "-" if rate.value is None else f"{100 * rate.value:.0f}% {rate.count}/{rate.of}"


def _share(rate: Rate) -> str:
    return "-" if rate.value is None else f"{100 * rate.value:.0f}%"


def _pair(median: float | None, p90: float | None) -> str:
    return "-" if median is None or p90 is None else f"{median:g}/{p90:g}"


def _line(f: Figures) -> str:
    lane = f"{f.origin}→{f.destination}" if f.origin else "all"
    return (f"{f.carrier.upper():<8} {lane:<12} {f.shipped:>7} {f.delivered:>6} "
            f"{_rate(f.on_time_eta):>12} {_rate(f.on_time_promise):>12} "
            f"{_pair(f.transit_median, f.transit_p90):>12} {_share(f.stalled):>6} "
            f"{_share(f.exceptions):>6} {_share(f.lost):>6} "
            f"{_pair(f.told_median, f.told_p90):>16}")  # fmt: skip


def text_of(card: Card) -> str:
    """The card as a table: each carrier over all its lanes, then lane by lane."""
    period = card.period
    stores = ", ".join(sorted(period.stores)) if period.stores is not None else "every store"
    last = (period.until - timedelta(days=1)).date()
    title = (f"Carriers' report card: shipped {period.since.date().isoformat()} to "
             f"{last.isoformat()}, {stores}")  # fmt: skip
    if not card.carriers:
        return f"{title}\nno parcels shipped in this period"
    lines = [title, _HEAD, *(_line(f) for f in card.carriers), *(_line(f) for f in card.lanes)]
    return "\n".join(lines)
