"""`trackwatch simulate`: generate a world, run the daemon through it, and score it; with
`--baseline fixed:4h`, the same world again with fixed-interval polling and no quota
awareness, in a second process at the same time (the machine has cores to spare, and the
baseline makes many more calls)."""

from __future__ import annotations

import asyncio
import multiprocessing
import re
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import timedelta
from typing import Any

from trackwatch.errors import InputError
from trackwatch.sim.report import figures
from trackwatch.sim.run import START, simulate
from trackwatch.sim.scenarios import CARRIER_SHARE, generate

_BASELINE = re.compile(r"^fixed:(\d+(?:\.\d+)?)h$")


def baseline_hours(text: str | None) -> float | None:
    if text is None:
        return None
    match = _BASELINE.match(text)
    if match is None or float(match.group(1)) <= 0:
        raise InputError("baseline", f"{text!r} is not fixed:<hours>h (e.g. fixed:4h)")
    return float(match.group(1))


def carrier_list(text: str | None) -> tuple[str, ...]:
    if not text:
        return tuple(CARRIER_SHARE)
    names = tuple(n.strip().lower() for n in text.split(",") if n.strip())
    unknown = sorted(set(names) - set(CARRIER_SHARE))
    if unknown or not names:
        raise InputError("carriers", f"{', '.join(unknown) or text!r}: not one of "
                         f"{', '.join(CARRIER_SHARE)}")  # fmt: skip
    return names


def one_run(shipments: int, days: float, seed: int, carriers: Sequence[str], mode: str,
            hours: float, ship_days: float | None = None) -> dict[str, Any]:  # fmt: skip
    """Generate the world from its seed and run it once (in this process)."""
    if ship_days is None:
        ship_days = max(days / 2, days - 5)  # the last parcels have time to arrive
    parcels = generate(shipments, START, ship_days, seed, tuple(carriers))
    started = time.perf_counter()
    outcome = asyncio.run(simulate(parcels, days, mode, hours))
    wall = time.perf_counter() - started
    return figures(outcome, days, START + timedelta(days=days), wall)


def run_simulation(shipments: int, days: float, seed: int, baseline: str | None = None,
                   carriers: str | None = None, ship_days: float | None = None
                   ) -> dict[str, Any]:  # fmt: skip
    """`ship_days`: labels are printed over this many days from the start (default: all but
    the last five days, so the last parcels can arrive)."""
    if shipments < 1 or days <= 0:
        raise InputError("shipments" if shipments < 1 else "days", "must be positive")
    if ship_days is not None and not 0 < ship_days <= days:
        raise InputError("ship_days", f"must be more than 0 and at most --days ({days:g})")
    hours = baseline_hours(baseline)
    names = carrier_list(carriers)
    pool: ProcessPoolExecutor | None = None
    later: Future[dict[str, Any]] | None = None
    if hours is not None:
        pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        later = pool.submit(one_run, shipments, days, seed, names, "fixed", hours, ship_days)
    try:
        result = one_run(shipments, days, seed, names, "smart", 4.0, ship_days)
        if later is not None:
            result["baseline"] = later.result()
    finally:
        if pool is not None:
            pool.shutdown()
    return result
