"""`trackwatch migrate-store FROM TO`: a whole database copied to another backend (a SQLite
file to PostgreSQL when one daemon is no longer enough, or back), ids, keys and history
kept, into an empty database, in one transaction: all of it lands, or nothing does."""

from __future__ import annotations

from pathlib import Path

from trackwatch.errors import InputError
from trackwatch.store import open_store, redacted
from trackwatch.store.contract import Store
from trackwatch.store.tables import RELEASED, TABLES

BATCH = 1000  # rows held at once: memory stays flat in the database's size


async def migrate_store(source: str | Path, target: str | Path) -> dict[str, int]:
    """Copy every table of `source` into the empty `target`; returns the rows copied per
    table. Both are opened as a daemon would (a SQLite file a daemon runs on is refused:
    stop the daemons first, on PostgreSQL too)."""
    if str(source) == str(target):
        raise InputError("to", "is the database it copies from")
    src = await open_store(source, daemon=True)
    try:
        dst = await open_store(target, daemon=True)
        try:
            await _refuse_unless_empty(dst, target)
            copied = await _copy(src, dst)
            found = await dst.row_counts()
        finally:
            await dst.close()
    finally:
        await src.close()
    short = [t for t in TABLES if t != "meta" and found[t] != copied[t]]
    if short:  # pragma: no cover - a backend that drops rows is a bug to hear of loudly
        raise RuntimeError(f"copied rows missing from {', '.join(short)}")
    return copied


async def _refuse_unless_empty(dst: Store, target: str | Path) -> None:
    held = {t: n for t, n in (await dst.row_counts()).items() if n and t != "meta"}
    if held:
        listed = ", ".join(f"{n} {t}" for t, n in held.items())
        raise InputError("to", f"{redacted(target)} already holds {listed}: migrate into an "
                         "empty database (nothing was copied)")  # fmt: skip


async def _copy(src: Store, dst: Store) -> dict[str, int]:
    copied = dict.fromkeys(TABLES, 0)
    async with dst.loading() as load:
        for table in TABLES:
            released = RELEASED.get(table, {})
            async for rows in src.table_rows(table, BATCH):
                for row in rows:
                    row.update(released)
                await load(table, rows)
                copied[table] += len(rows)
    return copied
