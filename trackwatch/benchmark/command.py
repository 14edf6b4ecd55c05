"""`trackwatch bench`: every section in one run, each figure beside its reference, and the
issue's targets with whether this run met them. `--quick` is the same run, small (the tests
run it to check that every section prints; no figure is asserted anywhere)."""

from __future__ import annotations

import asyncio
import importlib
import os
import platform
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from trackwatch.benchmark import endtoend, parsers, passes, rss
from trackwatch.benchmark.karrio import karrio_parsers
from trackwatch.benchmark.server import serve_world

# The targets (issue 21).
E2E_TARGET, E2E_SHARE, PARSER_RATIO, RSS_TARGET_MB = 2000.0, 0.45, 3.0, 110.0
IMPORT_HOOK = ("trackwatch.importing.bench", "measure_import")  # the import engineer's


@dataclass(frozen=True)
class Sizes:
    parcels: int  # parsed payloads: parcels of the four carriers
    parse_seconds: float  # CPU seconds per parser and carrier
    e2e: int  # parcels polled end to end
    passes: tuple[int, ...]
    repeats: int
    rss: int
    rss_seconds: float
    imports: int


FULL = Sizes(400, 1.5, 4000, (1000, 10_000, 100_000), 5, 100_000, 900, 100_000)
QUICK = Sizes(40, 0.1, 200, (1000,), 1, 500, 120, 500)


def run_bench(quick: bool, out: Callable[[str], None] = print, e2e_only: bool = False) -> int:
    """Every section, or (`e2e_only`) the end-to-end one alone."""
    sizes = QUICK if quick else FULL
    flags = f"{' --quick' if quick else ''}{' --e2e-only' if e2e_only else ''}"
    out(f"trackwatch bench{flags}: {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}; CPU time, not wall time")  # fmt: skip
    out("")
    if e2e_only:
        for line in asyncio.run(e2e_section(sizes.e2e)):
            out(line)
        return 0
    for line in parser_section(sizes):
        out(line)
    for line in asyncio.run(_served_sections(sizes)):
        out(line)
    for line in import_section(sizes.imports):
        out(line)
    return 0


async def _served_sections(sizes: Sizes) -> list[str]:
    lines = await e2e_section(sizes.e2e)
    lines += await pass_section(sizes.passes, sizes.repeats)
    lines += await rss_section(sizes.rss, sizes.rss_seconds)
    return lines


def parser_section(sizes: Sizes) -> list[str]:
    bodies = asyncio.run(parsers.payloads(sizes.parcels))
    rows = parsers.measure(bodies, sizes.parse_seconds)
    lines = ["parsers: answers per CPU-second on the same payloads (the sandbox's, in each "
             "carrier's published shapes)",
             f"  {'carrier':<8}{'answers':>8}{'numbers':>8}{'ours':>10}{'karrio':>10}"
             f"{'ours/karrio':>13}{'json+walk':>11}{'floor/ours':>12}"]  # fmt: skip
    if not karrio_parsers():
        lines.append("  karrio: not installed, its column is skipped "
                     "(pip install -e '.[bench]')")  # fmt: skip
    for r in rows:
        theirs = f"{r.karrio:10.0f}{r.ours / r.karrio:12.2f}x" if r.karrio else (
            f"{'-':>10}{'-':>13}")  # fmt: skip
        lines.append(f"  {r.carrier:<8}{r.answers:8d}{r.numbers:8d}{r.ours:10.0f}{theirs}"
                     f"{r.floor:11.0f}{r.floor / r.ours:11.1f}x")  # fmt: skip
        if r.karrio_error:
            lines.append(f"    karrio could not parse these answers: {r.karrio_error}")
    compared = [r for r in rows if r.karrio]
    met = all(r.ours >= PARSER_RATIO * (r.karrio or 0) for r in compared)
    lines.append(f"  target: every parser >= {PARSER_RATIO:g}x karrio's: "
                 f"{'met' if met and compared else 'missed' if compared else 'not measured'}")  # fmt: skip
    return [*lines, ""]


async def e2e_section(count: int) -> list[str]:
    rates = await endtoend.measure(count)
    raw = rates[0].per_cpu_second
    lines = ["end to end: responses per CPU-second of the client's process, against the same "
             "sandbox server (another process)"]  # fmt: skip
    for rate in rates:
        share = (
            f"  ({rate.per_cpu_second / raw:.0%} of raw)" if raw and rate is not rates[0] else ""
        )
        lines.append(f"  {rate.name:<36}{rate.per_cpu_second:8.0f}/s  "
                     f"({rate.responses} in {rate.cpu_seconds:.2f} CPU s){share}")  # fmt: skip
    best = min(r.per_cpu_second for r in rates[1:])
    met = best >= E2E_TARGET and raw and best / raw >= E2E_SHARE
    lines.append(f"  target: >= {E2E_TARGET:,.0f}/s and >= {E2E_SHARE:.0%} of raw aiohttp: "
                 f"{'met' if met else 'missed'} (slowest daemon figure)")  # fmt: skip
    return [*lines, ""]


async def pass_section(sizes: Sequence[int], repeats: int) -> list[str]:
    costs = await passes.pass_costs(tuple(sizes), repeats)
    names = list(costs[0].ms) if costs else []
    lines = ["pass cost: ms of one scheduler pass's queries (median of "
             f"{repeats}), SQLite", f"  {'shipments':>10}{'due':>6}{'total':>9}  "
             + "  ".join(names)]  # fmt: skip
    for c in costs:
        parts = "  ".join(f"{c.ms[n]:>{len(n)}.2f}" for n in names)
        lines.append(f"  {c.shipments:>10,}{c.due:>6,}{c.total:9.2f}  {parts}")
    return [*lines, ""]


async def rss_section(count: int, limit: float) -> list[str]:
    served = await asyncio.to_thread(serve_world, 40, 1, datetime.now(UTC))
    try:
        memory = await rss.daemon_memory(count, served.base_url, limit)
    finally:
        await asyncio.to_thread(served.stop)
    done = "judged them all" if memory.judged else f"NOT all judged within {limit:g} s"
    lines = [f"daemon RSS: `trackwatch run` with {count:,} active shipments, every one "
             "judged again at start",
             f"  settled {memory.settled_mb:.1f} MB, peak {memory.peak_mb:.1f} MB "
             f"({done}, {memory.seconds:.0f} s after start)"]  # fmt: skip
    if count >= 100_000:
        met = memory.peak_mb < RSS_TARGET_MB
        lines.append(f"  target: under {RSS_TARGET_MB:g} MB: {'met' if met else 'missed'} (peak)")
    return [*lines, ""]


def import_section(rows: int) -> list[str]:
    module, name = IMPORT_HOOK
    try:
        measure: Any = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return ["import: see bench-import"]
    figures = measure(rows)
    if isinstance(figures, Mapping):
        text = ", ".join(f"{k} {v}" for k, v in figures.items())
    else:
        text = str(figures)
    return [f"import: {rows:,} rows: {text}"]
