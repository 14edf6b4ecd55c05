"""`trackwatch simulate`: generate a world, run the daemon through it, and score it; beside
it (`--baseline fixed:4h`, the default; `none` for no baseline) the same world again with
fixed-interval polling and no quota awareness, in a second process at the same time, which
the issue's targets are measured against. With `--database postgresql://… --daemons N`, N daemon
processes share that database (several.py): the same seed gives the same world, but their
race for claims may differ from run to run, so what must hold is the scorecard, not the
same figures to the byte."""

from __future__ import annotations

import asyncio
import multiprocessing
import re
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

from trackwatch import collector
from trackwatch.errors import InputError
from trackwatch.sim.report import figures, versus
from trackwatch.sim.run import START, simulate
from trackwatch.sim.scenarios import CARRIER_SHARE, generate
from trackwatch.sim.several import simulate_several
from trackwatch.store import POSTGRES_SCHEMES, sqlite_path

_BASELINE = re.compile(r"^fixed:(\d+(?:\.\d+)?)h$")


DEFAULT_BASELINE = "fixed:4h"  # the targets are relative to it


def baseline_hours(text: str | None) -> float | None:
    """`fixed:<hours>h`, or None for "none" (no baseline run)."""
    if text is None or text.strip().lower() == "none":
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
            hours: float, ship_days: float | None = None, database: Path | None = None,
            push: bool = False) -> dict[str, Any]:  # fmt: skip
    """Generate the world from its seed and run it once (in this process); `push`: with
    every carrier pushing its scans (sim/pushing.py)."""
    if ship_days is None:
        ship_days = max(days / 2, days - 5)  # the last parcels have time to arrive
    parcels = generate(shipments, START, ship_days, seed, tuple(carriers))
    started = time.perf_counter()
    outcome = asyncio.run(simulate(parcels, days, mode, hours, database, push))
    wall = time.perf_counter() - started
    return figures(outcome, days, START + timedelta(days=days), wall)


def run_simulation(shipments: int, days: float, seed: int, baseline: str | None = None,
                   carriers: str | None = None, ship_days: float | None = None,
                   database: str | None = None, daemons: int = 1, kill_seed: int | None = None,
                   push: bool = False) -> dict[str, Any]:  # fmt: skip
    """`ship_days`: labels are printed over this many days from the start (default: all but
    the last five days, so the last parcels can arrive). A PostgreSQL `database` runs
    `daemons` daemon processes on it (several.py), one of them killed when `kill_seed` is
    given; without one, the one daemon runs in this process on a SQLite file."""
    if shipments < 1 or days <= 0:
        raise InputError("shipments" if shipments < 1 else "days", "must be positive")
    if ship_days is not None and not 0 < ship_days <= days:
        raise InputError("ship_days", f"must be more than 0 and at most --days ({days:g})")
    names = carrier_list(carriers)
    file = one_file(database, daemons, kill_seed)
    several = (database is not None and file is None) or daemons != 1 or kill_seed is not None
    # By default the one in-process daemon is run beside the fixed 4 h baseline.
    hours = baseline_hours(baseline if baseline or several else DEFAULT_BASELINE)
    if several:
        if push:
            raise InputError("push", "only with the one in-process daemon (no --database)")
        several_arguments(database, daemons, kill_seed, hours)
        assert database is not None
        return several_run(shipments, days, seed, names, database, daemons, kill_seed, ship_days)
    pool: ProcessPoolExecutor | None = None
    later: Future[dict[str, Any]] | None = None
    if hours is not None:
        pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=collector.tune)  # fmt: skip
        later = pool.submit(one_run, shipments, days, seed, names, "fixed", hours, ship_days)
    try:
        result = one_run(shipments, days, seed, names, "smart", 4.0, ship_days, file, push)
        if later is not None:
            result["baseline"] = later.result()
            result["versus_baseline"] = versus(result, result["baseline"])
    finally:
        if pool is not None:
            pool.shutdown()
    return result


def one_file(database: str | None, daemons: int, kill_seed: int | None) -> Path | None:
    """The new SQLite file the one in-process daemon runs in, when `database` names one."""
    file = sqlite_path(database) if database else None
    if file is None or daemons != 1 or kill_seed is not None:
        return None
    if file.exists():
        raise InputError("database", f"{file} exists: the simulation needs a new file")
    return file


def several_arguments(database: str | None, daemons: int, kill_seed: int | None,
                      hours: float | None) -> None:  # fmt: skip
    if not database or not database.startswith(POSTGRES_SCHEMES):
        raise InputError("database", "several daemons (--daemons, --kill-seed) share a "
                         "PostgreSQL database: give --database postgresql://…")  # fmt: skip
    if not 1 <= daemons <= 16:
        raise InputError("daemons", "must be from 1 to 16")
    if kill_seed is not None and daemons < 2:
        raise InputError("kill_seed", "needs --daemons 2 or more (one is killed)")
    if hours is not None:
        raise InputError("baseline", "only with the one in-process daemon (no --database)")


def several_run(shipments: int, days: float, seed: int, carriers: Sequence[str], database: str,
                daemons: int, kill_seed: int | None, ship_days: float | None = None
                ) -> dict[str, Any]:  # fmt: skip
    """The world of `seed` through `daemons` daemon processes on `database`."""
    if ship_days is None:
        ship_days = max(days / 2, days - 5)
    parcels = generate(shipments, START, ship_days, seed, tuple(carriers))
    started = time.perf_counter()
    outcome, extra = asyncio.run(simulate_several(parcels, days, database, daemons, kill_seed))
    wall = time.perf_counter() - started
    return {**figures(outcome, days, START + timedelta(days=days), wall), **extra}
