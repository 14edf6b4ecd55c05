"""The carriers' sandbox in a process of its own, so that the CPU a benchmark reads of its
own process is the client's alone (a server in the same process would be counted too).

`python -m trackwatch.benchmark.server COUNT SEED NOW` builds the same world as the parent
from the same arguments (the chaos suite's past parcels: deterministic for a count, a seed
and an instant), prints its port, then answers one line per line read on standard input:
the tracking calls served so far; it stops at end of input."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime

from trackwatch.chaos.world import past_parcels, world_of
from trackwatch.clock import SystemClock
from trackwatch.config import CARRIER_DEFAULTS
from trackwatch.sandbox.server import SandboxServer
from trackwatch.sandbox.world import World


def _calls(world: World) -> int:
    return sum(world.calls[f"{name}:track"] for name in CARRIER_DEFAULTS)


async def _serve(count: int, seed: int, now: datetime) -> None:
    world = World(token_lifetime=24 * 3600)  # no quotas: nothing is refused
    for parcel in world_of(past_parcels(count, seed, now)).parcels.values():
        world.add(parcel[-1])
    server = await SandboxServer(world, SystemClock()).start()
    print(server.port, flush=True)
    loop = asyncio.get_running_loop()
    try:
        while await loop.run_in_executor(None, sys.stdin.readline):
            print(_calls(world), flush=True)
    finally:
        await server.stop()


@dataclass
class ServedWorld:
    """The sandbox child: its base URL, and the tracking calls it served so far."""

    process: subprocess.Popen[str]
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _ask(self) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("calls\n")
        self.process.stdin.flush()
        return self.process.stdout.readline()

    def calls(self) -> int:
        return int(self._ask())

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def serve_world(count: int, seed: int, now: datetime) -> ServedWorld:
    """Start the child and wait until it listens (blocking: call before the timed part)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "trackwatch.benchmark.server", str(count), str(seed),
         now.isoformat()],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.strip().isdigit():
        process.kill()
        raise RuntimeError("the sandbox process did not start")
    return ServedWorld(process, int(line))


if __name__ == "__main__":
    asyncio.run(_serve(int(sys.argv[1]), int(sys.argv[2]), datetime.fromisoformat(sys.argv[3])))
