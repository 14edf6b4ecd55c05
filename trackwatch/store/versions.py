"""Schema versions on open. A database newer than the code is refused by every open; an older
one is migrated only when the opener asks (`upgrade`: the daemon at start, `trackwatch db
upgrade`), never by a command that reads or adds: a newer CLI beside a running older daemon
would otherwise migrate the database under it. A new, empty database is simply created."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

UPGRADE = "run `trackwatch db upgrade` (it backs the database up first)"
UPGRADE_POSTGRES = (
    "back it up with pg_dump (`trackwatch db backup` prints the command), then run "
    "`trackwatch db upgrade --backed-up` with every daemon stopped"
)


class SchemaMismatch(Exception):
    """The database's schema version is not the code's; nothing was changed."""

    def __init__(self, found: int, wanted: int, message: str) -> None:
        super().__init__(message)
        self.found = found
        self.wanted = wanted


class SchemaAhead(SchemaMismatch):
    """A newer trackwatch upgraded this database: this one cannot know its tables."""

    def __init__(self, found: int, wanted: int) -> None:
        super().__init__(found, wanted, (
            f"the database is at version {found}, newer than this trackwatch's {wanted}: a "
            "newer trackwatch upgraded it. Upgrade trackwatch to that release (or stop the "
            "daemon and restore the backup taken before the upgrade); nothing was changed"))  # fmt: skip


class SchemaBehind(SchemaMismatch):
    """An older database, opened by something that does not migrate."""

    def __init__(self, found: int, wanted: int, advice: str = UPGRADE) -> None:
        super().__init__(found, wanted, f"the database is at version {found}, this trackwatch "
                         f"needs {wanted}: {advice}; nothing was changed")  # fmt: skip


@dataclass(frozen=True)
class Upgraded:
    """What an open with `upgrade` did: the schema version before and after, and the backup
    taken first (None on PostgreSQL, whose backup is the operator's pg_dump)."""

    found: int
    now: int
    backup: Path | None


def check_version(found: int, wanted: int, upgrade: bool, advice: str = UPGRADE) -> bool:
    """Whether the migrations must run on a database at `found` (0: new and empty), for code
    at `wanted`; SchemaAhead or SchemaBehind when it must not be touched."""
    if found > wanted:
        raise SchemaAhead(found, wanted)
    if 0 < found < wanted and not upgrade:
        raise SchemaBehind(found, wanted, advice)
    return found < wanted


def upgrades_at_start(policy: str, database: str) -> bool:
    """Whether the daemon migrates an older database at start, under `[daemon] upgrade`:
    "backup" (the default) where trackwatch takes the backup first, SQLite; "auto" always
    (PostgreSQL: the operator's own backups, e.g. point-in-time recovery, are the way
    back); "manual" never (`trackwatch db upgrade`)."""
    if policy == "auto":
        return True
    sqlite = "://" not in database or database.startswith("sqlite://")
    return policy == "backup" and sqlite


def upgrade_line(done: Upgraded) -> str:
    """What an upgrade did, for the log and the command line."""
    kept = f"backup of version {done.found} at {done.backup}" if done.backup else (
        "no backup taken by trackwatch (PostgreSQL: pg_dump)")  # fmt: skip
    return f"database upgraded from version {done.found} to {done.now}; {kept}"
