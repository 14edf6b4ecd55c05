"""`trackwatch db status|backup|upgrade`: the database's schema version, a backup, and the
upgrade of a database of an older release (README: Upgrading and backups). It reads only the
`[daemon] database` setting, so it runs where the carrier and channel secrets cannot be
read (no credentials directory outside the service)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
import tomllib
from contextlib import closing
from pathlib import Path

import asyncpg
from pydantic import ValidationError

from trackwatch.cli.common import config_path
from trackwatch.config import ConfigError, DaemonSettings
from trackwatch.db_postgres import POSTGRES
from trackwatch.store import open_store, sqlite_path
from trackwatch.store.schema import MIGRATIONS
from trackwatch.store.sqlite.backup import (
    BackupFailed,
    connect_existing,
    last_backup,
    take_backup,
    user_version,
)
from trackwatch.store.sqlite.base import StoreInUse
from trackwatch.store.versions import SchemaMismatch, upgrade_line

REFUSED = 2  # as the other commands' usage errors: nothing was done


def run_db(args: argparse.Namespace) -> int:
    """Run one `db` action; problems are printed on stderr (status 2: nothing was done)."""
    try:
        database = database_setting(config_path(args))
        if sqlite_path(database) is None:
            return asyncio.run(POSTGRES[args.db_command](args, database))
        return _SQLITE[args.db_command](args, database)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"config error: {problem}", file=sys.stderr)
    except (SchemaMismatch, BackupFailed, StoreInUse, OSError, sqlite3.Error,
            asyncpg.PostgresError) as exc:  # fmt: skip
        print(f"error: {exc}", file=sys.stderr)
    return REFUSED


def database_setting(path: Path) -> str:
    """`[daemon] database` of the file at `path` (or `database_file`), under the environment's
    TRACKWATCH_DAEMON__DATABASE, as load_settings reads it, and nothing else of the file."""
    try:
        with path.open("rb") as handle:
            daemon = tomllib.load(handle).get("daemon", {})
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    keys = ("database", "database_file")
    picked = {k: daemon[k] for k in keys if isinstance(daemon, dict) and k in daemon}
    if os.environ.get("TRACKWATCH_DAEMON__DATABASE"):
        picked = {"database": os.environ["TRACKWATCH_DAEMON__DATABASE"]}
    try:
        return DaemonSettings.model_validate(picked).database
    except ValidationError as exc:
        raise ConfigError([f"daemon.{'.'.join(map(str, e['loc'])) or 'database'}: {e['msg']}"
                           for e in exc.errors(include_input=False)]) from None  # fmt: skip


def _pending(found: int, wanted: int) -> str:
    if found > wanted:
        return "none: the database is newer than this trackwatch (upgrade trackwatch)"
    if found == wanted:
        return "none"
    return ", ".join(str(n) for n in range(found + 1, wanted + 1))


def _sqlite_status(args: argparse.Namespace, database: str) -> int:
    path = sqlite_path(database) or Path(database)
    print(f"backend: sqlite\ndatabase: {path}")
    if not path.is_file():
        print(f"schema version: no database yet (this trackwatch: {len(MIGRATIONS)}; the "
              "daemon creates it at start)")  # fmt: skip
        return 1
    with closing(connect_existing(path)) as db:
        found, last = user_version(db), last_backup(db)
    print(f"schema version: {found} (this trackwatch: {len(MIGRATIONS)})")
    print(f"pending migrations: {_pending(found, len(MIGRATIONS))}")
    if last is None:
        print("last backup: none recorded (`trackwatch db backup`)")
    else:
        print(f"last backup: {last['path']} (version {last['version']}, {last['at']})")
    return 0 if found == len(MIGRATIONS) else 1


def _sqlite_backup(args: argparse.Namespace, database: str) -> int:
    path = sqlite_path(database) or Path(database)
    done = take_backup(path, args.to)
    print(f"backed up {path} (schema version {done.version}) to {done.path}: "
          f"{done.size} bytes, integrity_check ok")  # fmt: skip
    return 0


def _sqlite_upgrade(args: argparse.Namespace, database: str) -> int:
    path = sqlite_path(database) or Path(database)
    if not path.is_file():
        raise BackupFailed(f"no database at {path} (the daemon creates one at start)")
    try:
        return asyncio.run(_upgrade(database))
    except StoreInUse:
        raise StoreInUse(f"a trackwatch daemon is running on {path}: stop it, run "
                         "`trackwatch db upgrade`, then start the new release") from None  # fmt: skip


async def _upgrade(database: str) -> int:
    # As the daemon: its lock keeps a running daemon (of any release) out while migrating.
    store = await open_store(database, daemon=True, upgrade=True)
    done = store.upgraded
    await store.close()
    print(upgrade_line(done) if done else f"already at version {len(MIGRATIONS)}: nothing to do")
    return 0


_SQLITE = {"status": _sqlite_status, "backup": _sqlite_backup, "upgrade": _sqlite_upgrade}
