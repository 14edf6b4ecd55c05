"""`trackwatch chaos`: run the chosen phases with one seed and report every target.

The seed decides the kill moments, the worlds and the fuzzed inputs; without --seed one is
drawn and printed, so that a failing run can be played again. Exit status 0 when every
target is met, 1 otherwise (2, as everywhere, for bad arguments).
"""

from __future__ import annotations

import asyncio
import logging
import random
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from trackwatch.chaos.faults import run_faults
from trackwatch.chaos.fuzz import require_hypothesis, run_fuzz
from trackwatch.chaos.kills import run_kills
from trackwatch.chaos.report import PhaseResult, render
from trackwatch.errors import InputError

PHASES = ("kills", "faults", "fuzz")
FAULT_PARCELS = 48


def phase_list(text: str | None) -> tuple[str, ...]:
    if not text:
        return PHASES
    names = tuple(dict.fromkeys(n.strip().lower() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in PHASES]
    if unknown or not names:
        raise InputError("phases", f"{', '.join(unknown) or repr(text)}: not one of "
                         f"{', '.join(PHASES)}")  # fmt: skip
    return names


@contextmanager
def _quiet_daemon() -> Iterator[None]:
    """The in-process daemon of the fault phase logs every outage it meets; the report
    says what matters."""
    logger = logging.getLogger("trackwatch")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


async def _phase(name: str, kills: int, seed: int, examples: int, workdir: Path) -> PhaseResult:
    if name == "kills":
        return await run_kills(kills, seed, workdir)
    if name == "faults":
        with _quiet_daemon():
            return await run_faults(FAULT_PARCELS, seed)
    return await run_fuzz(examples, seed, workdir)


def run_chaos(kills: int, seed: int | None, phases: str | None, as_json: bool,
              examples: int = 50, workdir: Path | None = None) -> tuple[str, int]:  # fmt: skip
    """(the report, the exit status)."""
    names = phase_list(phases)
    if kills < 0 or examples < 1:
        raise InputError("kills" if kills < 0 else "examples", "must be positive")
    if "fuzz" in names:
        require_hypothesis()
    seed = random.SystemRandom().randrange(1, 1_000_000) if seed is None else seed
    results = []
    with tempfile.TemporaryDirectory(prefix="tw-chaos-") as tmp:
        base = workdir or Path(tmp)
        for name in names:
            print(f"chaos: {name} phase (seed {seed}) ...", file=sys.stderr, flush=True)
            (base / name).mkdir(parents=True, exist_ok=True)
            results.append(asyncio.run(_phase(name, kills, seed, examples, base / name)))
    passed = all(r.passed for r in results)
    return render(seed, results, as_json), 0 if passed else 1
