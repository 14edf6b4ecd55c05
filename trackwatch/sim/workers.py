"""The several-daemon simulation's daemons (worker processes, as this process sees them)
and the plan of the kill (several.py)."""

from __future__ import annotations

import asyncio
import random
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from trackwatch.sim.run import START

KILL_WITHIN = (0.2, 0.6)  # the kill is planned in this share of the run
RESTART_STEPS = (2, 6)  # the killed daemon starts again this many instants later
KILL_BY_NOW = timedelta(days=1)  # no call of the victim's by then: killed between passes


@dataclass
class Kill:
    """The plan (which daemon, from when, restarted how many instants later) and what
    happened: when it was killed, whether inside a pass (after a carrier answered one of
    its calls, which carrier), when it was started again."""

    daemon: int
    planned: datetime
    restart_steps: int
    killed_at: datetime | None = None
    mid_pass: bool = False
    carrier: str = ""
    restarted_at: datetime | None = None
    steps_since: int = 0

    def figures(self) -> dict[str, Any]:
        return {"daemon": self.daemon + 1, "planned": self.planned.isoformat(),
                "killed_at": self.killed_at.isoformat() if self.killed_at else None,
                "mid_pass": self.mid_pass, "while_calling": self.carrier or None,
                "restarted_at": self.restarted_at.isoformat() if self.restarted_at else None}  # fmt: skip


def plan_kill(seed: int, daemons: int, end: datetime) -> Kill:
    rnd = random.Random(seed)
    share = rnd.uniform(*KILL_WITHIN)
    return Kill(rnd.randrange(daemons), START + (end - START) * share, rnd.randint(*RESTART_STEPS))


class Worker:
    """One daemon process (worker.py) and its side of the conversation."""

    def __init__(self, index: int, config: Path, log: Path) -> None:
        self.index = index
        self.config = config
        self.log = log
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self, now: datetime) -> datetime | None:
        self.starts += 1
        with self.log.open("ab") as err:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "trackwatch.sim.worker", str(self.config), now.isoformat(),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=err,
            )  # fmt: skip
        return await self._answer("ready")

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def pass_at(self, now: datetime, judge: bool) -> datetime | None:
        """Its pass at `now`; the next instant it is due. A worker killed meanwhile: None."""
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(f"pass {now.isoformat()} {int(judge)}\n".encode())
        try:
            await self.process.stdin.drain()
        except ConnectionError:
            return None
        return await self._answer("done")

    async def _answer(self, word: str) -> datetime | None:
        assert self.process is not None and self.process.stdout is not None
        line = (await self.process.stdout.readline()).decode().split()
        if not line:  # stdout closed: killed (the caller knows whether it meant to)
            await self.process.wait()
            return None
        if line[0] != word:
            raise RuntimeError(f"daemon {self.index + 1} said {' '.join(line)!r}")
        return None if line[1] == "-" else datetime.fromisoformat(line[1])

    async def kill(self) -> None:
        if self.process is not None and self.alive:
            self.process.kill()
            await self.process.wait()

    async def quit(self) -> None:
        if self.process is None or not self.alive or self.process.stdin is None:
            return
        self.process.stdin.write(b"quit\n")
        self.process.stdin.close()
        if await self.process.wait():
            raise RuntimeError(f"daemon {self.index + 1} exited {self.process.returncode}: "
                               f"see {self.log}")  # fmt: skip
