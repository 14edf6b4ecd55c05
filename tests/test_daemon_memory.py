"""What the daemon keeps resident (issue 21: its RSS at 100,000 shipments under 110 MB). The
memory itself is measured by `trackwatch bench`; these check the behaviour that keeps it
down: what the daemon's modules import, and what loading its settings builds."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from trackwatch import worst_case
from trackwatch.config import load_settings

# Loaded when first used, never by the daemon's modules: the report card's charts (pygal),
# the sandbox's GraphQL schema, the console's CSV import (and its progress bar), PostgreSQL's
# store and driver (open_store loads them for a postgresql:// database), the db commands.
NOT_IN_THE_DAEMON = ("pygal", "graphql", "trackwatch.reportcard", "trackwatch.importing.run",
                     "tqdm", "asyncpg", "trackwatch.store.postgres", "trackwatch.db_")  # fmt: skip


def test_the_daemons_modules_import_neither_page_machinery_nor_postgres() -> None:
    code = ("import sys, trackwatch.app, trackwatch.service, trackwatch.cli.admin, "
            "trackwatch.web.console; print(sorted(sys.modules))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)  # fmt: skip
    modules = ast.literal_eval(done.stdout)
    assert "trackwatch.web.console.uploads" in modules  # the page is there, not its work
    assert [m for m in modules if m.startswith(NOT_IN_THE_DAEMON)] == []


def test_loading_settings_builds_the_calendars_of_the_configured_countries_only(
    tmp_path: Path,
) -> None:
    """A policy's deadlines are checked against the worst case abroad (every country's
    calendar) from a recorded table: building ~250 calendars kept 34 MB in the daemon."""
    path = tmp_path / "trackwatch.toml"
    path.write_text('[stores.shop]\nname = "Shop"\n[stores.shop.policy]\n'
                    'origin_country = "DE"\n')  # fmt: skip
    worst_case._business_days.cache_clear()
    worst_case.worst_calendar_days.cache_clear()
    load_settings(path)
    assert worst_case._business_days.cache_info().currsize == 1  # DE's, for domestic parcels
