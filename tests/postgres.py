"""A real, throwaway PostgreSQL for the tests: one cluster per test session (initdb into a
temporary directory, started on a free port of 127.0.0.1, its sockets in that directory,
stopped and removed at the end), a migrated template database, and a database of its own for
each test: a copy of the template, emptied when the test ends and handed to the next one
(emptying takes a tenth of the time of a copy).

TRACKWATCH_TEST_POSTGRES=postgresql://… uses a server already running instead (its role must
be allowed to create databases). Without either, the PostgreSQL tests fail, unless
TRACKWATCH_ALLOW_NO_POSTGRES=1 says that skipping them is fine on this machine (never in CI).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest

from trackwatch.store.postgres.base import migrate

ROLE = "tw"
# Durability is not what the tests are about: without fsync a database is made in a few ms.
FAST = ("-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        " -c max_connections=200")  # fmt: skip


def _bindir() -> Path | None:
    """The newest installed PostgreSQL's programs (Debian keeps them off PATH)."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                      key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)  # fmt: skip
    if versions:
        return versions[-1].parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    """A cluster this session started (`dir` set) or was given (a URL in the environment)."""

    admin_url: str
    dir: Path | None = None
    bindir: Path | None = None
    # This session's names: two sessions may share a server given in the environment.
    template: str = f"tw_template_{os.getpid()}"
    _names: Iterator[int] = field(default_factory=itertools.count)
    _emptied: list[str] = field(default_factory=list)  # databases as good as new

    def url(self, database: str) -> str:
        base, _, query = self.admin_url.partition("?")
        return base.rsplit("/", 1)[0] + f"/{database}" + (f"?{query}" if query else "")

    def next_name(self) -> str:
        return f"tw_test_{os.getpid()}_{next(self._names)}"


def _as_postgres(command: Sequence[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, its programs run as the postgres user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


def _run(command: Sequence[str], cwd: Path) -> None:
    done = subprocess.run(_as_postgres(command), cwd=cwd, capture_output=True, text=True,
                          check=False, timeout=120)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({done.returncode}):\n{done.stdout}{done.stderr}")


def start_cluster() -> Cluster:
    """initdb and start a cluster, or fail (or skip, where allowed) saying why."""
    given = os.environ.get("TRACKWATCH_TEST_POSTGRES")
    if given:
        return Cluster(given)
    bindir = _bindir()
    if bindir is None:
        allowed = os.environ.get("TRACKWATCH_ALLOW_NO_POSTGRES") == "1" and not os.environ.get("CI")
        message = ("PostgreSQL is not installed (no initdb): install it (Debian: apt-get install"
                   " postgresql), or set TRACKWATCH_TEST_POSTGRES=postgresql://…, or"
                   " TRACKWATCH_ALLOW_NO_POSTGRES=1 to skip the PostgreSQL tests here")  # fmt: skip
        if allowed:
            pytest.skip(message)
        pytest.fail(message, pytrace=False)
    root = os.geteuid() == 0
    # As root, in /tmp: root's own temporary directory may be closed to the postgres user.
    top = Path(tempfile.mkdtemp(prefix="tw-postgres-", dir="/tmp" if root else None))
    if root:
        shutil.chown(top, "postgres", "postgres")
    try:
        _run([str(bindir / "initdb"), "-D", str(top / "data"), "-U", ROLE, "--auth=trust",
              "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"], top)  # fmt: skip
        return Cluster(f"postgresql://{ROLE}@127.0.0.1:{_start(bindir, top)}/postgres", top, bindir)
    except BaseException:
        shutil.rmtree(top, ignore_errors=True)
        raise


def _start(bindir: Path, top: Path, tries: int = 3) -> int:
    """Start the server on a free port (another program may take the port first: then on
    another one); returns the port."""
    for attempt in range(1, tries + 1):
        port = _free_port()
        try:
            _run([str(bindir / "pg_ctl"), "-D", str(top / "data"), "-l", str(top / "log"),
                  "-w", "-o", f"-p {port} -k {top} -c listen_addresses=127.0.0.1 {FAST}",
                  "start"], top)  # fmt: skip
        except RuntimeError:
            if attempt == tries:
                raise
        else:
            return port
    raise AssertionError("unreachable")


def stop_cluster(cluster: Cluster) -> None:
    """Stop and remove the cluster this session started; on a server given in the
    environment, drop this session's databases."""
    if cluster.dir is None or cluster.bindir is None:
        asyncio.run(_drop_all(cluster))
        return
    with contextlib.suppress(RuntimeError):
        _run([str(cluster.bindir / "pg_ctl"), "-D", str(cluster.dir / "data"), "-m",
              "immediate", "-w", "stop"], cluster.dir)  # fmt: skip
    shutil.rmtree(cluster.dir, ignore_errors=True)


async def _drop_all(cluster: Cluster) -> None:
    for name in [*cluster._emptied, cluster.template]:
        await drop_database(cluster, name)


async def make_template(cluster: Cluster) -> None:
    """A database with the whole schema, copied for each test (copying is much faster than
    migrating); no store ever opens it, so each copy makes its own instance id."""
    admin = await asyncpg.connect(cluster.admin_url)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {cluster.template}")
        await admin.execute(f"CREATE DATABASE {cluster.template}")
    finally:
        await admin.close()
    conn = await asyncpg.connect(cluster.url(cluster.template))
    try:
        await migrate(conn)
    finally:
        await conn.close()


async def create_database(cluster: Cluster, template: str | None = None) -> str:
    """A new database copied from `template` (this session's migrated one by default). FILE_COPY copies the files at once (five times
    faster than PostgreSQL 15's default, block by block through the WAL, without fsync);
    a server older than 15 has only that way, and no STRATEGY."""
    name, template = cluster.next_name(), template or cluster.template
    admin = await asyncpg.connect(cluster.admin_url)
    try:
        try:
            await admin.execute(f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY")
        except asyncpg.PostgresSyntaxError:
            await admin.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    finally:
        await admin.close()
    return name


async def drop_database(cluster: Cluster, name: str) -> None:
    admin = await asyncpg.connect(cluster.admin_url)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


def prepare(cluster: Cluster) -> None:
    asyncio.run(make_template(cluster))


async def take_database(cluster: Cluster) -> str:
    """A database as good as new for one test: one a test before emptied, or a new copy."""
    return cluster._emptied.pop() if cluster._emptied else await create_database(cluster)


async def give_back(cluster: Cluster, name: str) -> None:
    """Empty a test's database for the next one (or drop it, when it cannot be emptied)."""
    try:
        await _empty(cluster.url(name))
    except (asyncpg.PostgresError, OSError):
        await drop_database(cluster, name)
    else:
        cluster._emptied.append(name)


async def _empty(url: str) -> None:
    """Every row gone and every id counting from 1 again, as in a new copy. A store the test
    left open is disconnected first. The deletes are one statement, so that foreign keys are
    checked once all are done."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE"
                           " datname = current_database() AND pid <> pg_backend_pid()")  # fmt: skip
        tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                                  " AND tablename <> 'schema_migrations'")  # fmt: skip
        deletes = ", ".join(f"d{i} AS (DELETE FROM {t})" for i, (t,) in enumerate(tables))
        await conn.execute(f"WITH {deletes} SELECT 1")
        for table, column in await conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND is_identity = 'YES'"
        ):
            await conn.execute(f"ALTER TABLE {table} ALTER COLUMN {column} RESTART")
    finally:
        await conn.close()
