"""The PostgreSQL tests never pass by being skipped: without PostgreSQL they fail, unless the
machine says skipping is fine there (TRACKWATCH_ALLOW_NO_POSTGRES=1), and never in CI."""

from __future__ import annotations

import pytest

from tests import postgres

MISSING = "PostgreSQL is not installed"


@pytest.fixture
def no_postgres(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setattr(postgres, "_bindir", lambda: None)
    for name in ("TRACKWATCH_TEST_POSTGRES", "TRACKWATCH_ALLOW_NO_POSTGRES", "CI"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_no_postgresql_fails_by_default(no_postgres: pytest.MonkeyPatch) -> None:
    with pytest.raises(pytest.fail.Exception, match=f"{MISSING}.*apt-get install postgresql"):
        postgres.start_cluster()


def test_no_postgresql_skips_where_allowed(no_postgres: pytest.MonkeyPatch) -> None:
    no_postgres.setenv("TRACKWATCH_ALLOW_NO_POSTGRES", "1")
    with pytest.raises(pytest.skip.Exception, match=MISSING):
        postgres.start_cluster()


def test_no_postgresql_fails_in_ci_even_where_allowed(no_postgres: pytest.MonkeyPatch) -> None:
    no_postgres.setenv("TRACKWATCH_ALLOW_NO_POSTGRES", "1")
    no_postgres.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=MISSING):
        postgres.start_cluster()


def test_a_given_server_is_used_as_it_is(no_postgres: pytest.MonkeyPatch) -> None:
    no_postgres.setenv("TRACKWATCH_TEST_POSTGRES", "postgresql://ci@db.internal:5433/postgres")
    cluster = postgres.start_cluster()
    assert cluster.dir is None  # nothing started, nothing to stop
    assert cluster.url("tw_test_1") == "postgresql://ci@db.internal:5433/tw_test_1"
