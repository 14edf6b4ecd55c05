"""The daemon's resident memory with many active shipments: a real `trackwatch run` on a
SQLite file holding them, started as after an upgrade or a policy change (every shipment to
be judged again: its largest working set), polls not yet due. Read from /proc while it
judges them all and once it is done: peak (VmHWM) and settled (VmRSS)."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from trackwatch.benchmark.passes import CHUNK, _shipment
from trackwatch.chaos.process import DaemonProcess, to_toml
from trackwatch.sim.bench import settings_data
from trackwatch.store import open_store
from trackwatch.store.records import ts


@dataclass(frozen=True)
class Memory:
    shipments: int
    settled_mb: float
    peak_mb: float
    judged: bool  # every shipment judged within the time allowed
    seconds: float


def _status_mb(pid: int) -> dict[str, float]:
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found


async def _fill(path: Path, count: int, now: datetime) -> None:
    store = await open_store(str(path))
    try:
        for start in range(0, count, CHUNK):
            await store.add_shipments(
                [_shipment(i, now) for i in range(start, min(count, start + CHUNK))], now
            )
    finally:
        await store.close()
    with closing(sqlite3.connect(path)) as db, db:  # polls tomorrow: memory, not HTTP
        db.execute("UPDATE shipments SET next_poll_at=?", (ts(now + timedelta(days=1)),))


def _waiting(path: Path) -> int:
    with closing(sqlite3.connect(path, timeout=30)) as db:
        return int(db.execute("SELECT COUNT(*) FROM shipments WHERE dirty=1").fetchone()[0])


async def daemon_memory(count: int, carriers_url: str, limit: float) -> Memory:
    """Start the daemon on `count` shipments and wait (at most `limit` seconds) until it has
    judged them all; its memory then, and its peak."""
    with tempfile.TemporaryDirectory(prefix="tw-bench-rss-") as tmp:
        base = Path(tmp)
        now = datetime.now(UTC)
        await _fill(base / "rss.db", count, now)
        data = settings_data(str(base / "rss.db"), carriers_url, 1)
        data["daemon"]["log_level"] = "WARNING"
        (base / "rss.toml").write_text(to_toml(data))
        daemon = DaemonProcess(base / "rss.toml", base / "rss.log")
        loop = asyncio.get_running_loop()
        started = loop.time()
        await daemon.start()
        try:
            judged = await _judged(base / "rss.db", daemon, started + limit)
            assert daemon.process is not None
            memory = _status_mb(daemon.process.pid)
        finally:
            await daemon.stop()
        return Memory(count, memory.get("VmRSS", 0.0), memory.get("VmHWM", 0.0), judged,
                      loop.time() - started)  # fmt: skip


async def _judged(path: Path, daemon: DaemonProcess, deadline: float) -> bool:
    loop = asyncio.get_running_loop()
    await asyncio.sleep(2)  # it marks every shipment to be judged as it starts
    while loop.time() < deadline:
        if not daemon.alive:
            raise RuntimeError("the daemon stopped: see its log")
        if await asyncio.to_thread(_waiting, path) == 0:
            await asyncio.sleep(1)  # a settled moment after the last batch
            return True
        await asyncio.sleep(0.5)
    return False
