"""The real daemon as a subprocess (`python -m trackwatch.cli run --config ...`), its TOML
configuration, and waiting for it in real time (it has its own clock)."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + " }"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def to_toml(data: Mapping[str, Any], prefix: str = "") -> str:
    """A configuration file: nested mappings become [tables], the rest `key = value`."""
    plain = [f"{k} = {_value(v)}" for k, v in data.items() if not isinstance(v, Mapping)]
    lines = [f"[{prefix}]", *plain] if prefix and plain else plain
    for key, value in data.items():
        if isinstance(value, Mapping):
            lines.append(to_toml(value, f"{prefix}.{key}" if prefix else key))
    return "\n".join(lines) + "\n"


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "trackwatch.cli", *args]


class DaemonProcess:
    """One `trackwatch run` at a time; each start appends its stderr to `log`."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config = config
        self.log = log
        self.process: asyncio.subprocess.Process | None = None
        self.started_at = 0.0  # time.time() of the latest start

    async def start(self) -> None:
        self.started_at = time.time()
        with self.log.open("ab") as err:
            self.process = await asyncio.create_subprocess_exec(
                *command("run", "--config", str(self.config)),
                stdout=asyncio.subprocess.DEVNULL, stderr=err,
            )  # fmt: skip

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed."""
        if self.process is not None and self.alive:
            self.process.send_signal(signal.SIGKILL)
        if self.process is not None:
            await self.process.wait()

    async def stop(self, seconds: float = 30) -> int | None:
        """SIGTERM and wait; SIGKILL after `seconds`. Returns the exit status."""
        if self.process is None:
            return None
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), seconds)
            except TimeoutError:
                await self.kill()
        return self.process.returncode


async def until(condition: Callable[[], Awaitable[bool]], seconds: float,
                every: float = 0.1) -> bool:  # fmt: skip
    """Poll `condition` until it holds (True) or `seconds` pass (False)."""
    deadline = time.monotonic() + seconds
    while not await condition():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(every)
    return True
