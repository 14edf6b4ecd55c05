"""Upgrades and backups (issue 19, item 5): a database of the previous release upgrades in
place with a backup taken first (`trackwatch db upgrade`, or the daemon at start); any other
command refuses it untouched; a database newer than the code is refused on every open."""

from __future__ import annotations

import asyncio
import hashlib
import re
import sqlite3
import threading
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest

from tests.backends import execute
from tests.conftest import SettingsFactory, both_backends
from tests.postgres import Cluster, create_database, drop_database
from trackwatch import db_postgres
from trackwatch.app import open_daemon
from trackwatch.cli import main
from trackwatch.clock import FrozenClock
from trackwatch.store import SchemaAhead, SchemaBehind, open_store, sqlite_path
from trackwatch.store.postgres import base as postgres_base
from trackwatch.store.postgres.schema import MIGRATIONS as POSTGRES_MIGRATIONS
from trackwatch.store.schema import MIGRATIONS
from trackwatch.store.sqlite.base import _daemon_lock

T = TypeVar("T")
PREVIOUS = len(MIGRATIONS) - 1  # the release before this one, as far as its schema goes
OLD_ROW = (
    "INSERT INTO shipments (store, carrier, tracking_number, order_id, customer_email,"
    " destination_country, shipped_at, created_at, next_poll_at)"
    " VALUES ('shop', 'ups', '1Z5R89390357567127', '1', 'c@example.com', 'US', ?, ?, ?)"
)
WHEN = "2026-11-23T12:00:00.000000Z"


def previous_release(path: Path) -> Path:
    """A SQLite database as the previous release left it (WAL, as it ran), with a shipment."""
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("PRAGMA journal_mode=WAL")
        for number, script in enumerate(MIGRATIONS[:PREVIOUS], start=1):
            db.executescript(f"{script}\nPRAGMA user_version = {number};")
        db.execute(OLD_ROW, (WHEN, WHEN, WHEN))
    return path


NEXT_POSTGRES = "ALTER TABLE shipments ADD COLUMN upgrade_probe text NOT NULL DEFAULT 'new'"


@pytest.fixture
def next_postgres_release(monkeypatch: pytest.MonkeyPatch) -> int:
    """PostgreSQL's schema has one migration so far: the code under test gains a second (a
    real one, run on the real server), so that this release's schema is the previous one's.
    Returns the new code's version."""
    migrations = (*POSTGRES_MIGRATIONS, NEXT_POSTGRES)
    for module in (postgres_base, db_postgres):
        monkeypatch.setattr(module, "MIGRATIONS", migrations)
    return len(migrations)


async def previous_postgres(url: str) -> None:
    """A PostgreSQL database as this release leaves it (the previous one, to the code of
    next_postgres_release), with a shipment; made raw, as this release's code would."""
    conn = await asyncpg.connect(url)
    try:
        for step in POSTGRES_MIGRATIONS:
            await postgres_base.run_step(conn, step)
        await conn.execute("CREATE TABLE schema_migrations (version integer PRIMARY KEY,"
                           " applied_at timestamptz NOT NULL DEFAULT now())")  # fmt: skip
        for number in range(1, len(POSTGRES_MIGRATIONS) + 1):
            await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", number)
    finally:
        await conn.close()
    await execute(url, OLD_ROW, datetime.now(UTC), datetime.now(UTC), datetime.now(UTC))


def config(tmp_path: Path, database: str) -> Path:
    path = tmp_path / "trackwatch.toml"
    path.write_text(f'[daemon]\ndatabase = "{database}"\n')
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def backups_of(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.v*.bak"))


def versions_and_rows(path: Path) -> tuple[int, str, list[str]]:
    with closing(sqlite3.connect(path)) as db:
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        check = str(db.execute("PRAGMA integrity_check").fetchone()[0])
        rows = [str(r[0]) for r in db.execute("SELECT tracking_number FROM shipments")]
    return version, check, rows


def with_password(url: str) -> str:
    """The URL with a password in it (the test server trusts local connections: ignored)."""
    return re.sub(r"://([^:@/]+)@", r"://\1:hunter2@", url, count=1)


@pytest.fixture
def pg_url(postgres: Cluster) -> Iterator[str]:
    """An empty PostgreSQL database of its own (the tests here run the CLI, whose commands
    run their own event loops)."""
    name = asyncio.run(create_database(postgres, template="template0"))
    yield postgres.url(name)
    asyncio.run(drop_database(postgres, name))


def pg_version(url: str) -> int:
    rows = asyncio.run(execute(url, "SELECT MAX(version) FROM schema_migrations"))
    return int(rows[0][0])


async def make_newer(database: str) -> None:
    """The database as a newer release leaves it: one migration this code does not know."""
    store = await open_store(database)
    await store.close()
    path = sqlite_path(database)
    if path is not None:
        with closing(sqlite3.connect(path)) as db:
            db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    else:
        await execute(database, "INSERT INTO schema_migrations (version) VALUES (?)",
                      len(POSTGRES_MIGRATIONS) + 1)  # fmt: skip


async def make_current(path: Path) -> None:
    await (await open_store(str(path))).close()


def wanted(database: str) -> int:
    return len(MIGRATIONS) if sqlite_path(database) else len(POSTGRES_MIGRATIONS)


@both_backends
async def test_a_database_newer_than_the_code_is_refused_by_every_open(database: str) -> None:
    await make_newer(database)
    newer, code = wanted(database) + 1, wanted(database)
    message = (f"the database is at version {newer}, newer than this trackwatch's {code}: a "
               "newer trackwatch upgraded it. Upgrade trackwatch")  # fmt: skip
    try:
        for daemon, upgrade in ((False, False), (True, True)):
            with pytest.raises(SchemaAhead, match=re.escape(message)) as refused:
                await open_store(database, daemon=daemon, upgrade=upgrade)
            assert (refused.value.found, refused.value.wanted) == (newer, code)
        assert await version_of(database) == newer
    finally:
        if sqlite_path(database) is None:  # the database goes back to the pool for reuse
            await execute(database, "DELETE FROM schema_migrations WHERE version > ?", code)


async def version_of(database: str) -> int:
    path = sqlite_path(database)
    if path is not None:
        return versions_and_rows(path)[0]
    rows = await execute(database, "SELECT MAX(version) FROM schema_migrations")
    return int(rows[0][0])


def test_a_newer_sqlite_database_is_refused_untouched_by_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "tw.db"
    asyncio.run(make_newer(str(path)))
    before = digest(path)
    for argv in (["list"], ["db", "upgrade"]):
        assert main([*argv, "--config", str(config(tmp_path, str(path)))]) == 2
        assert f"the database is at version {len(MIGRATIONS) + 1}, newer" in capsys.readouterr().err
    assert digest(path) == before and backups_of(path) == []


def test_db_upgrade_takes_a_backup_then_upgrades_the_previous_release_in_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = previous_release(tmp_path / "tw.db")
    assert main(["db", "upgrade", "--config", str(config(tmp_path, str(path)))]) == 0
    (backup,) = backups_of(path)
    assert re.fullmatch(rf"tw\.db\.v{PREVIOUS}-\d{{8}}T\d{{6}}Z\.bak", backup.name)
    out = capsys.readouterr().out
    assert out == (f"database upgraded from version {PREVIOUS} to {len(MIGRATIONS)}; backup "
                   f"of version {PREVIOUS} at {backup}\n")  # fmt: skip
    assert versions_and_rows(backup) == (PREVIOUS, "ok", ["1Z5R89390357567127"])
    assert versions_and_rows(path) == (len(MIGRATIONS), "ok", ["1Z5R89390357567127"])
    assert not Path(f"{backup}-wal").exists()  # one self-contained file
    assert main(["list", "--config", str(tmp_path / "trackwatch.toml")]) == 0
    assert "1Z5R89390357567127" in capsys.readouterr().out  # open to every command again
    assert main(["db", "upgrade", "--config", str(tmp_path / "trackwatch.toml")]) == 0
    assert capsys.readouterr().out == f"already at version {len(MIGRATIONS)}: nothing to do\n"
    assert backups_of(path) == [backup]


async def test_the_daemon_upgrades_at_start_after_a_backup(
    tmp_path: Path, make_settings: SettingsFactory, clock: FrozenClock, database: str
) -> None:
    path = previous_release(Path(database))
    async with open_daemon(make_settings(), clock) as daemon:
        assert len((await daemon.store.list_shipments()).shipments) == 1
    (backup,) = backups_of(path)
    assert versions_and_rows(backup) == (PREVIOUS, "ok", ["1Z5R89390357567127"])
    assert versions_and_rows(path)[:2] == (len(MIGRATIONS), "ok")


async def test_a_daemon_told_upgrade_manual_refuses_the_previous_release(
    make_settings: SettingsFactory, clock: FrozenClock, database: str
) -> None:
    path = previous_release(Path(database))
    before = digest(path)
    with pytest.raises(SchemaBehind, match="run `trackwatch db upgrade`"):
        async with open_daemon(make_settings(upgrade="manual"), clock):
            pass
    assert digest(path) == before and backups_of(path) == []


def test_a_command_on_the_previous_release_refuses_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A newer CLI beside an older daemon must not migrate the database under it."""
    path = previous_release(tmp_path / "tw.db")
    before = digest(path)
    cfg = str(config(tmp_path, str(path)))
    add = ["add", "--store", "shop", "--tracking-number", "1Z5R89390357567127", "--order-id", "2"]
    for argv in (["list"], ["show", "1"], add):
        assert main([*argv, "--config", cfg]) == 2, argv
        assert capsys.readouterr().err == (
            f"error: the database is at version {PREVIOUS}, this trackwatch needs "
            f"{len(MIGRATIONS)}: run `trackwatch db upgrade` (it backs the database up "
            "first); nothing was changed\n")  # fmt: skip
    assert digest(path) == before and backups_of(path) == []
    assert versions_and_rows(path) == (PREVIOUS, "ok", ["1Z5R89390357567127"])


@contextmanager
def in_background(
    work: Callable[[threading.Event, threading.Event], Coroutine[Any, Any, T]],
) -> Iterator[None]:
    """Run `work(ready, stop)` on an event loop of its own in a thread (another process, in
    effect) from when it says it is ready until the block ends."""
    ready, stop = threading.Event(), threading.Event()
    with ThreadPoolExecutor(1) as pool:
        done = pool.submit(asyncio.run, work(ready, stop))
        while not ready.wait(0.05):
            if done.done():
                done.result()  # it failed before it was ready: raise that
        try:
            yield
        finally:
            stop.set()
            done.result()


async def an_old_daemon(path: Path, ready: threading.Event, stop: threading.Event) -> None:
    """A daemon of the previous release: it holds the file's daemon lock, as every release
    since one daemon per SQLite file has."""
    with _daemon_lock(path):
        ready.set()
        await asyncio.to_thread(stop.wait)


async def a_writing_daemon(path: Path, ready: threading.Event, stop: threading.Event) -> None:
    """A daemon on the file, and transactions each adding a row and counting it: in a
    consistent copy the count and the rows agree."""
    store = await open_store(str(path), daemon=True)
    written = 0
    with closing(sqlite3.connect(path, timeout=10)) as db:
        while not stop.is_set():
            written += 1
            with db:
                db.execute("INSERT INTO meta (key, value) VALUES (?, 'x')", (f"row:{written}",))
                db.execute("INSERT INTO meta (key, value) VALUES ('rows', ?) ON CONFLICT (key)"
                           " DO UPDATE SET value=excluded.value", (str(written),))  # fmt: skip
            if written == 20:
                ready.set()
    await store.close()


def test_db_upgrade_refuses_while_a_daemon_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = previous_release(tmp_path / "tw.db")
    with in_background(lambda ready, stop: an_old_daemon(path, ready, stop)):
        assert main(["db", "upgrade", "--config", str(config(tmp_path, str(path)))]) == 2
    assert capsys.readouterr().err == (
        f"error: a trackwatch daemon is running on {path}: stop it, run `trackwatch db "
        "upgrade`, then start the new release\n")  # fmt: skip
    assert versions_and_rows(path)[0] == PREVIOUS and backups_of(path) == []


def test_db_backup_while_the_daemon_writes_is_a_consistent_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "tw.db"
    asyncio.run(make_current(path))
    cfg = str(config(tmp_path, str(path)))
    counts = []
    with in_background(lambda ready, stop: a_writing_daemon(path, ready, stop)):
        for n in range(5):
            to = tmp_path / f"copy{n}.db"
            assert main(["db", "backup", "--config", cfg, "--to", str(to)]) == 0
            with closing(sqlite3.connect(to)) as copy:
                assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
                assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
                rows = copy.execute("SELECT count(*) FROM meta WHERE key LIKE 'row:%'")
                counted = copy.execute("SELECT value FROM meta WHERE key='rows'").fetchone()
                counts.append(int(counted[0]))
                assert rows.fetchone()[0] == counts[-1]
    assert counts[0] >= 20 and counts == sorted(counts)
    assert f"to {tmp_path / 'copy4.db'}: " in capsys.readouterr().out


def test_db_status_names_versions_pending_migrations_and_the_last_backup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = previous_release(tmp_path / "tw.db")
    cfg = str(config(tmp_path, str(path)))
    assert main(["db", "status", "--config", cfg]) == 1
    assert capsys.readouterr().out == (
        f"backend: sqlite\ndatabase: {path}\n"
        f"schema version: {PREVIOUS} (this trackwatch: {len(MIGRATIONS)})\n"
        f"pending migrations: {len(MIGRATIONS)}\n"
        "last backup: none recorded (`trackwatch db backup`)\n")  # fmt: skip
    assert main(["db", "upgrade", "--config", cfg]) == 0
    (backup,) = backups_of(path)
    capsys.readouterr()
    assert main(["db", "status", "--config", cfg]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[2:4] == [f"schema version: {len(MIGRATIONS)} (this trackwatch: "
                        f"{len(MIGRATIONS)})", "pending migrations: none"]  # fmt: skip
    assert re.fullmatch(rf"last backup: {re.escape(str(backup))} \(version {PREVIOUS}, "
                        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00\)", out[4])  # fmt: skip


def test_db_reads_only_the_database_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Secrets the command cannot read (no credentials directory) do not matter to it."""
    path = previous_release(tmp_path / "tw.db")
    cfg = config(tmp_path, str(path))
    cfg.write_text(cfg.read_text() + "[carriers.ups]\nclient_secret_file = "
                   '"$CREDENTIALS_DIRECTORY/ups"\n')  # fmt: skip
    assert main(["db", "status", "--config", str(cfg)]) == 1
    assert f"schema version: {PREVIOUS}" in capsys.readouterr().out


# PostgreSQL: trackwatch cannot back it up, so it migrates only on the operator's word.


async def old_postgres_daemon(url: str, ready: threading.Event, stop: threading.Event) -> None:
    conn = await asyncpg.connect(url)  # the previous release names no application
    ready.set()
    await asyncio.to_thread(stop.wait)
    await conn.close()


def test_postgres_previous_release_is_refused_until_backed_up_then_upgrades(
    next_postgres_release: int, pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(previous_postgres(pg_url))
    code, old = next_postgres_release, len(POSTGRES_MIGRATIONS)
    with pytest.raises(SchemaBehind, match=rf"at version {old}, this trackwatch needs {code}: "
                       r"back it up with pg_dump"):  # fmt: skip
        asyncio.run(open_store(pg_url, daemon=True))  # a command, or the daemon under "backup"
    secret_url = with_password(pg_url)
    cfg = str(config(tmp_path, secret_url))
    assert main(["db", "upgrade", "--config", cfg]) == 2
    err = capsys.readouterr().err
    assert "pg_dump --format=custom --file=trackwatch-v" in err and "hunter2" not in err
    assert "`trackwatch db upgrade --backed-up`" in err
    assert pg_version(pg_url) == old
    assert main(["db", "upgrade", "--backed-up", "--config", cfg]) == 0
    assert capsys.readouterr().out == (f"database upgraded from version {old} to {code}; no "
                                       "backup taken by trackwatch (PostgreSQL: pg_dump)\n")  # fmt: skip
    assert main(["list", "--config", cfg]) == 0
    assert "1Z5R89390357567127" in capsys.readouterr().out


def test_postgres_upgrade_refuses_while_a_daemon_is_connected(
    next_postgres_release: int, pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(previous_postgres(pg_url))
    cfg = str(config(tmp_path, pg_url))
    with in_background(lambda ready, stop: old_postgres_daemon(pg_url, ready, stop)):
        assert main(["db", "upgrade", "--backed-up", "--config", cfg]) == 2
    assert "1 other trackwatch connection(s)" in capsys.readouterr().err
    assert pg_version(pg_url) == len(POSTGRES_MIGRATIONS)


@pytest.mark.parametrize("backend", ["postgres"])
async def test_a_postgres_daemon_migrates_at_start_only_when_told_auto(
    next_postgres_release: int, database: str, make_settings: SettingsFactory, clock: FrozenClock
) -> None:
    await execute(database, OLD_ROW, datetime.now(UTC), datetime.now(UTC), datetime.now(UTC))
    with pytest.raises(SchemaBehind, match="back it up with pg_dump"):
        async with open_daemon(make_settings(), clock):  # upgrade = "backup", the default
            pass
    try:
        async with open_daemon(make_settings(upgrade="auto"), clock) as daemon:
            assert len((await daemon.store.list_shipments()).shipments) == 1
        assert await version_of(database) == next_postgres_release
    finally:  # the database goes back to the pool as this release's schema
        await execute(database, "ALTER TABLE shipments DROP COLUMN IF EXISTS upgrade_probe")
        await execute(database, "DELETE FROM schema_migrations WHERE version > ?",
                      len(POSTGRES_MIGRATIONS))  # fmt: skip


def test_postgres_backup_and_status_print_what_to_run(
    next_postgres_release: int, pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(previous_postgres(pg_url))
    secret_url = with_password(pg_url)
    cfg = str(config(tmp_path, secret_url))
    assert main(["db", "backup", "--config", cfg]) == 1
    out = capsys.readouterr().out
    assert "trackwatch cannot copy a PostgreSQL database itself" in out
    assert re.search(r"pg_dump --format=custom --file=trackwatch-v\d+-\d{8}T\d{6}Z\.dump "
                     r"--dbname=postgresql://tw@", out)  # fmt: skip
    assert "hunter2" not in out
    assert main(["db", "status", "--config", cfg]) == 1
    out = capsys.readouterr().out
    assert "hunter2" not in out and "backend: postgresql" in out
    old = len(POSTGRES_MIGRATIONS)
    assert f"schema version: {old} (this trackwatch: {old + 1})\n" in out
    assert f"pending migrations: {old + 1}\n" in out
