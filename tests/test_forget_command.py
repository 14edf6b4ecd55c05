"""`trackwatch forget` as an operator runs it: only the database setting read (no secret),
a dry run first, the address printed back but never logged, and no database created."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path

import pytest

from tests.backends import execute
from tests.conftest import both_backends
from tests.test_retention import NOW, watch
from trackwatch.cli import main
from trackwatch.clock import FrozenClock
from trackwatch.store import open_store


@pytest.fixture
def config(tmp_path: Path, database: str) -> Path:
    """The deployed file: carrier secrets in a credentials directory this shell lacks."""
    path = tmp_path / "trackwatch.toml"
    path.write_text(f'[daemon]\ndatabase = "{database}"\n[carriers.ups]\n'
                    'client_secret_file = "/nonexistent/credentials/ups"\n')  # fmt: skip
    return path


async def shipments(database: str, *emails: str) -> list[int]:
    store = await open_store(database)
    try:
        return [await watch(store, str(n), email) for n, email in enumerate(emails)]
    finally:
        await store.close()


def forget(config: Path, *more: str) -> int:
    return main(["forget", "--config", str(config), *more], clock=FrozenClock(NOW))


@both_backends
def test_forget_erases_after_a_dry_run_and_logs_no_address(
    config: Path, database: str, capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    asyncio.run(shipments(database, "ann@example.com", "Ann@Example.com", "bob@example.com"))
    caplog.set_level(logging.DEBUG, logger="trackwatch")
    assert forget(config, "--customer", "ANN@example.com", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "would erase ANN@example.com: 2 shipments, 2 scans, 2 alerts, 4 notices" in out
    assert "2 were still watched" in out
    assert asyncio.run(execute(database, "SELECT COUNT(*) FROM shipments")) == [(3,)]
    assert forget(config, "--customer", "ANN@example.com") == 0
    assert "erased ANN@example.com: 2 shipments" in capsys.readouterr().out
    left = asyncio.run(execute(database, "SELECT customer_email FROM shipments"))
    assert left == [("bob@example.com",)]
    assert not [r for r in caplog.records
                if r.name.startswith("trackwatch") and "ann@" in r.getMessage().lower()]  # fmt: skip


@both_backends
def test_forget_asks_for_a_second_run_while_a_daemon_holds_a_row(
    config: Path, database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (sid, _) = asyncio.run(shipments(database, "ann@example.com", "bob@example.com"))
    asyncio.run(execute(database, "UPDATE shipments SET judge_lease=? WHERE id=?",
                  NOW + timedelta(minutes=5), sid))  # fmt: skip
    assert forget(config, "--customer", "ann@example.com") == 1
    assert "run this again in 5 minutes" in capsys.readouterr().out


def test_forget_creates_no_database_and_names_what_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.db"
    path = tmp_path / "trackwatch.toml"
    path.write_text(f'[daemon]\ndatabase = "{missing}"\n')
    assert forget(path, "--customer", "ann@example.com") == 2
    assert "daemon.database: no database at" in capsys.readouterr().err
    assert not missing.exists()
    assert forget(tmp_path / "nowhere.toml", "--customer", "ann@example.com") == 2
    assert "no such file" in capsys.readouterr().err
    assert forget(path, "--customer", "not an address") == 2
    assert "--customer: not an email address" in capsys.readouterr().err
