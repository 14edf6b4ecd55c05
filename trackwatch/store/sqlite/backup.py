"""Backups of a SQLite database while it is in use. `cp` of a WAL database is not one: the
newest commits live in the -wal file, and a copy taken during a write is torn. SQLite's
online backup API copies a consistent snapshot in one step (a reader in WAL mode: the
daemon keeps writing meanwhile), and the copy is checked before it takes its name."""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

LAST_BACKUP = "backup:last"  # the meta key of the last backup taken (for `db status`)


class BackupFailed(Exception):
    """No backup was made (the reason says why); the database is untouched."""


@dataclass(frozen=True)
class Backup:
    path: Path
    version: int  # the schema version the copy holds
    size: int
    at: datetime


def connect_existing(path: Path) -> sqlite3.Connection:
    """A connection to the database at `path`, which must exist (sqlite3.connect would make
    an empty one of a mistyped path)."""
    if not path.is_file():
        raise BackupFailed(f"no database at {path}")
    db = sqlite3.connect(f"file:{quote(str(path.absolute()))}?mode=rw", uri=True)
    db.execute("PRAGMA busy_timeout=5000")
    return db


def user_version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def backup_path(database: Path, version: int, at: datetime) -> Path:
    """Beside the database, named with the schema version it holds and when it was taken."""
    return database.with_name(f"{database.name}.v{version}-{at.astimezone(UTC):%Y%m%dT%H%M%SZ}.bak")


def take_backup(database: Path, to: Path | None = None) -> Backup:
    """Copy `database` to `to` (default: backup_path) as one self-contained file, verified
    by integrity_check, and record it in the database's meta table."""
    at = datetime.now(UTC)
    with closing(connect_existing(database)) as source:
        target = to or backup_path(database, user_version(source), at)
        if target.exists():
            raise BackupFailed(f"{target} already exists (nothing was written)")
        partial = target.with_name(f"{target.name}.partial")
        partial.unlink(missing_ok=True)
        try:
            version = _copy(source, partial)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        os.replace(partial, target)
        _sync_directory(target.parent)
        done = Backup(target, version, target.stat().st_size, at)
        _record(source, done)
    return done


def _copy(source: sqlite3.Connection, partial: Path) -> int:
    with closing(sqlite3.connect(partial)) as copy:
        source.backup(copy)  # every page in one step: one consistent snapshot
        # Out of WAL mode: the backup is the one file, with no -wal beside it to lose.
        copy.execute("PRAGMA journal_mode=DELETE")
        found = [str(row[0]) for row in copy.execute("PRAGMA integrity_check")]
        if found != ["ok"]:
            raise BackupFailed(f"the copy fails integrity_check: {'; '.join(found[:5])}")
        version = user_version(copy)
    with partial.open("rb") as handle:
        os.fsync(handle.fileno())
    return version


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _record(db: sqlite3.Connection, done: Backup) -> None:
    """Note the backup in the database (a new, empty one has no meta table yet)."""
    value = json.dumps({"path": str(done.path.absolute()), "version": done.version,
                        "at": done.at.isoformat(timespec="seconds")})  # fmt: skip
    try:
        with db:
            db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key)"
                       " DO UPDATE SET value=excluded.value", (LAST_BACKUP, value))  # fmt: skip
    except sqlite3.OperationalError:
        pass  # no meta table (version 0), or read-only: the backup itself is made


def last_backup(db: sqlite3.Connection) -> dict[str, str | int] | None:
    """The last backup recorded by take_backup, if any."""
    try:
        row = db.execute("SELECT value FROM meta WHERE key=?", (LAST_BACKUP,)).fetchone()
    except sqlite3.OperationalError:
        return None  # no meta table: a new, empty database
    found: dict[str, str | int] = json.loads(row[0]) if row else {}
    return found or None
