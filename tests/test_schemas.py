"""The two backends' final schemas agree: the same tables, the same columns (each type the
other's counterpart, the same NOT NULLs), the same unique keys and the same indexes, by
columns. Read from SQLite's own catalogue (sqlite_master, PRAGMAs) and PostgreSQL's
(information_schema, pg_indexes), each after all its migrations."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path

from tests.backends import execute
from tests.postgres import Cluster, create_database, drop_database
from trackwatch.store import SqliteStore
from trackwatch.store.tables import FLAGS, TABLES, TIMES

# SQLite's declared type -> what PostgreSQL may say for it. SQLite keeps times as TEXT and
# flags and ids as INTEGER; PostgreSQL says what each is.
COUNTERPARTS = {
    "TEXT": {"text", "timestamp with time zone"},
    "INTEGER": {"integer", "bigint", "boolean"},
}
BOOKKEEPING = {"schema_migrations"}  # PostgreSQL's record of its migrations

Column = tuple[str, str, bool]  # name, type, NOT NULL
Index = tuple[str, tuple[str, ...], bool, bool]  # table, columns, unique, partial


def sqlite_schema(path: Path) -> tuple[dict[str, set[Column]], set[Index]]:
    tables: dict[str, set[Column]] = {}
    indexes: set[Index] = set()
    with closing(sqlite3.connect(path)) as db:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in names:
            info = db.execute(f"PRAGMA table_info({table})").fetchall()
            # A primary key is NOT NULL however it is declared (an INTEGER one is the rowid).
            tables[table] = {(r[1], r[2], bool(r[3] or r[5])) for r in info}
            if keys := tuple(r[1] for r in sorted(info, key=lambda r: r[5]) if r[5]):
                indexes.add((table, keys, True, False))
            for _, name, unique, _origin, partial in db.execute(f"PRAGMA index_list({table})"):
                columns = tuple(r[2] for r in db.execute(f"PRAGMA index_info({name})"))
                indexes.add((table, columns, bool(unique), bool(partial)))
    return tables, indexes


def _column(term: str) -> str:
    """An indexed term's column: lower(x), an index that folds case, counts as SQLite's x
    COLLATE NOCASE, which PRAGMA index_info names x."""
    term = term.strip()
    folded = re.fullmatch(r"lower\((\w+)\)", term)
    return folded.group(1) if folded else term


async def postgres_schema(url: str) -> tuple[dict[str, set[Column]], set[Index]]:
    tables: dict[str, set[Column]] = {}
    for table, column, kind, nullable in await execute(
        url, "SELECT table_name, column_name, data_type, is_nullable FROM"
        " information_schema.columns WHERE table_schema='public'",
    ):  # fmt: skip
        tables.setdefault(table, set()).add((column, kind, nullable == "NO"))
    indexes: set[Index] = set()
    for table, definition in await execute(
        url, "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname='public'"
    ):
        found = re.search(r"USING btree \((.*?)\)(?: WHERE |$)", definition)
        assert found, definition
        columns = tuple(_column(c) for c in found.group(1).split(","))
        indexes.add((table, columns, "UNIQUE" in definition, " WHERE " in definition))
    return tables, indexes


async def test_both_backends_end_with_the_same_schema(tmp_path: Path, postgres: Cluster) -> None:
    await (await SqliteStore.open(tmp_path / "tw.db")).close()
    lite_tables, lite_indexes = sqlite_schema(tmp_path / "tw.db")
    name = await create_database(postgres)  # a copy of the migrated template
    try:
        pg_tables, pg_indexes = await postgres_schema(postgres.url(name))
    finally:
        await drop_database(postgres, name)
    pg_tables = {t: c for t, c in pg_tables.items() if t not in BOOKKEEPING}
    assert sorted(pg_tables) == sorted(lite_tables)
    for table, columns in lite_tables.items():
        lite = {name: (kind, required) for name, kind, required in columns}
        pg = {name: (kind, required) for name, kind, required in pg_tables[table]}
        assert sorted(pg) == sorted(lite), table
        for column, (kind, required) in lite.items():
            pg_kind, pg_required = pg[column]
            assert pg_kind in COUNTERPARTS[kind], (table, column, kind, pg_kind)
            assert pg_required == required, (table, column)
            # The columns migrate-store converts as times and as flags (store/tables.py).
            assert (pg_kind == "timestamp with time zone") == (column in TIMES[table]), column
            assert (pg_kind == "boolean") == (column in FLAGS.get(table, ())), column
    assert {i for i in pg_indexes if i[0] not in BOOKKEEPING} == lite_indexes
    assert sorted(TABLES) == sorted(pg_tables)  # migrate-store copies every table
