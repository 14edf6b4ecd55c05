"""One daemon of a several-daemon simulation (several.py), in a process of its own: the real
daemon (`open_daemon`) on its own FrozenClock, passing when its parent says so.

    python -m trackwatch.sim.worker CONFIG START

The conversation is one line each way, on stdin and stdout:
- the worker, once its daemon is open: `ready <next due>`;
- the parent: `pass <instant> <1|0>` (1: shipments were added or reports filed: judge);
  the worker sets its clock to the instant, takes up what the other daemons left in the
  database, runs the same passes as the one-daemon simulation (Stepper.pass_at) and
  answers `done <next due>`, the earliest instant one of its loops is due (`-`: none);
- the parent: `quit`, or closes stdin: the daemon closes and the worker exits.
Anything else it has to say (logs, a traceback) goes to stderr.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from pathlib import Path

from trackwatch.app import open_daemon
from trackwatch.clock import FrozenClock
from trackwatch.config import load_settings
from trackwatch.sim.run import STEP
from trackwatch.sim.stepping import Stepper


def _say(word: str, due: datetime | None) -> None:
    print(word, due.isoformat() if due is not None else "-", flush=True)


async def serve(config: Path, start: datetime) -> None:
    settings = load_settings(config)
    clock = FrozenClock(start)
    async with open_daemon(settings, clock) as daemon:
        stepper = Stepper(daemon, clock, STEP)
        await stepper.refresh()
        _say("ready", stepper.next_due())
        while line := await asyncio.to_thread(sys.stdin.readline):
            words = line.split()
            if not words or words[0] != "pass":
                break
            now = datetime.fromisoformat(words[1])
            clock.set(now)
            await stepper.refresh()
            await stepper.pass_at(now, words[2] == "1")
            _say("done", stepper.next_due())


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m trackwatch.sim.worker CONFIG START", file=sys.stderr)
        return 2
    asyncio.run(serve(Path(argv[0]), datetime.fromisoformat(argv[1])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
