"""A real, throwaway PostgreSQL for the tests: one cluster per test session (initdb into a
temporary directory, started on a free port of 127.0.0.1, its sockets in that directory,
stopped and removed at the end), a migrated template database, and a fresh database per
test copied from it.

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

TEMPLATE = "tw_template"
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
    _names: Iterator[int] = field(default_factory=itertools.count)

    def url(self, database: str) -> str:
        return self.admin_url.rsplit("/", 1)[0] + f"/{database}"

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
    top = Path(tempfile.mkdtemp(prefix="tw-postgres-"))
    if os.geteuid() == 0:
        shutil.chown(top, "postgres", "postgres")
    port = _free_port()
    _run([str(bindir / "initdb"), "-D", str(top / "data"), "-U", ROLE, "--auth=trust",
          "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"], top)  # fmt: skip
    _run([str(bindir / "pg_ctl"), "-D", str(top / "data"), "-l", str(top / "log"), "-w",
          "-o", f"-p {port} -k {top} -c listen_addresses=127.0.0.1 {FAST}", "start"], top)  # fmt: skip
    return Cluster(f"postgresql://{ROLE}@127.0.0.1:{port}/postgres", top, bindir)


def stop_cluster(cluster: Cluster) -> None:
    if cluster.dir is None or cluster.bindir is None:
        return
    with contextlib.suppress(RuntimeError):
        _run([str(cluster.bindir / "pg_ctl"), "-D", str(cluster.dir / "data"), "-m",
              "immediate", "-w", "stop"], cluster.dir)  # fmt: skip
    shutil.rmtree(cluster.dir, ignore_errors=True)


async def make_template(cluster: Cluster) -> None:
    """A database with the whole schema, copied for each test (copying is much faster than
    migrating); no store ever opens it, so each copy makes its own instance id."""
    admin = await asyncpg.connect(cluster.admin_url)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {TEMPLATE}")
        await admin.execute(f"CREATE DATABASE {TEMPLATE}")
    finally:
        await admin.close()
    conn = await asyncpg.connect(cluster.url(TEMPLATE))
    try:
        await migrate(conn)
    finally:
        await conn.close()


async def create_database(cluster: Cluster, template: str = TEMPLATE) -> str:
    name = cluster.next_name()
    admin = await asyncpg.connect(cluster.admin_url)
    try:
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
