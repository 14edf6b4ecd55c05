"""`trackwatch import FILE`: the shipments of an export or of trackwatch's own CSV format,
streamed: rows are read, checked and stored in batches of one transaction each, so memory
stays flat whatever the file's size.

Every bad field of a row is reported at once (its line, the field, the reason) and the row
skipped; the good rows are stored. A shipment already watched (same store, carrier and
number) is left as it is, so importing a file twice changes nothing. `dry_run` reports what
would be stored and stores nothing.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from tqdm import tqdm

from trackwatch.config import Settings
from trackwatch.errors import InputError
from trackwatch.importing.convert import Reader, Row
from trackwatch.importing.plan import plan_for
from trackwatch.importing.presets import Preset
from trackwatch.importing.reader import check_readable, header_and_rows, opened
from trackwatch.ingest import Accepted, accept
from trackwatch.model import Shipment
from trackwatch.store.contract import Shipments

BATCH = 1000
Report = Callable[[int, InputError], None]
Warn = Callable[[int, str], None]


@dataclass(frozen=True)
class ImportOptions:
    """--format or --mapping (None: detected from the header), --store, --date-format and
    --dry-run; `stores`: the only stores rows may name (the console's staff: their own;
    None: any configured store)."""

    preset: Preset | None = None
    store: str | None = None
    date_formats: tuple[str, ...] | None = None
    dry_run: bool = False
    stores: frozenset[str] | None = None


@dataclass
class ImportReport:
    format: str = ""
    added: int = 0
    unchanged: int = 0
    skipped: int = 0  # rows that ship nothing here: no tracking number, a cancelled fulfillment
    repeated: int = 0  # a row of the same order and number as the row before it (item rows)
    bad: list[tuple[int, InputError]] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)
    ignored: tuple[str, ...] = ()
    notes: Counter[str] = field(default_factory=Counter)  # how many good rows each concerns
    dry_run: bool = False
    bad_rows: int = 0

    def summary(self) -> str:
        verb = "would be added" if self.dry_run else "added"
        extra = "".join(f", {n} {what}" for n, what in (
            (self.skipped, "skipped (no tracking number, or not shipped)"),
            (self.repeated, "repeated row(s) of the same shipment")) if n)  # fmt: skip
        return (f"{self.added} {verb}, {self.unchanged} already watched, "
                f"{self.bad_rows} bad row(s){extra}")  # fmt: skip

    def note_lines(self) -> list[str]:
        """What the sender should know about some good rows ("no customer email: ...")."""
        return [f"{count} row(s): {note}" for note, count in self.notes.items()]


async def import_csv(
    path: Path, settings: Settings, store: Shipments | None, now: datetime, progress: bool,
    options: ImportOptions | None = None, on_bad: Report | None = None,
    on_warning: Warn | None = None,
) -> ImportReport:  # fmt: skip
    """Import `path`; bad rows and warnings go to `on_bad`/`on_warning` as they are found
    (else into the report's lists). `store` None with dry_run: no database yet."""
    given = options or ImportOptions()
    report = ImportReport(dry_run=given.dry_run)
    lines = check_readable(path)
    with opened(path) as handle:
        header, rows = header_and_rows(handle)
        plan = plan_for(header, given.preset, given.store is not None)
        report.format, report.ignored = plan.preset.name, plan.ignored
        if given.store is None and "store" not in plan.index:
            raise _store_needed(plan.preset.name, settings)
        reader = Reader(plan, settings, given.store, given.date_formats)
        run = _Run(report, settings, store, now, given.dry_run, on_bad, on_warning, given.stores)
        bar = tqdm(total=lines, unit="row", file=sys.stderr, disable=not progress)
        for line, values in rows:
            await run.row(line, values, reader, len(header or ()))
            bar.update(1)
        await run.flush(last=True)
        bar.total = bar.n
        bar.close()
    return report


def _store_needed(name: str, settings: Settings) -> InputError:
    stores = ", ".join(settings.stores) or "none configured"
    return InputError("--store", f"the {name} format names no store: give --store ID "
                      f"({stores})")  # fmt: skip


@dataclass
class _Run:
    report: ImportReport
    settings: Settings
    store: Shipments | None
    now: datetime
    dry_run: bool
    on_bad: Report | None
    on_warning: Warn | None
    stores: frozenset[str] | None = None
    batch: list[Shipment] = field(default_factory=list)
    last: tuple[str, str] | None = None
    writing: asyncio.Task[None] | None = None

    async def row(self, line: int, values: list[str], reader: Reader, width: int) -> None:
        try:
            row = reader.read(values, width)
        except InputError as exc:
            self.bad(line, exc)
            return
        if row is None:
            self.report.skipped += 1
            return
        if self.stores is not None and row.data.get("store") not in self.stores:
            self.bad(line, InputError("store", "not one of the stores you may import into"))
            return
        key = (row.data.get("order_id", ""), row.data.get("tracking_number", ""))
        if not reader.plan.preset.native and key == self.last:
            self.report.repeated += 1
            return
        self.last = key
        accepted = self.checked(line, row)
        if accepted is None:
            return
        for warning in row.warnings:
            self.warn(line, warning)
        self.batch.append(accepted.shipment)
        self.report.notes.update(accepted.notes)
        if len(self.batch) >= BATCH:
            await self.flush()

    def checked(self, line: int, row: Row) -> Accepted | None:
        """The row accepted, or None once every problem of it is reported: the validator's,
        less its "is required" for a field whose value could not be read."""
        try:
            accepted = accept(row.data, self.settings, self.now)
        except InputError as exc:
            unread = {p.field for p in row.problems}
            more = [p for p in exc.problems if p.field not in unread]
            self.bad(line, InputError.several([*row.problems, *more]))
            return None
        if row.problems:
            self.bad(line, InputError.several(row.problems))
            return None
        return accepted

    def bad(self, line: int, error: InputError) -> None:
        self.report.bad_rows += 1
        if self.on_bad is not None:
            self.on_bad(line, error)
        else:
            self.report.bad.append((line, error))

    def warn(self, line: int, text: str) -> None:
        if self.on_warning is not None:
            self.on_warning(line, text)
        else:
            self.report.warnings.append((line, text))

    async def flush(self, last: bool = False) -> None:
        """Hand the batch to the store, and check the next rows while it writes: the store
        works in its own thread (SQLite) or server, so the two overlap. One write at a time,
        in order; `last` waits for it."""
        batch, self.batch = self.batch, []
        if self.writing is not None:
            await self.writing
            self.writing = None
        if batch:
            self.writing = asyncio.create_task(self._write(batch))
        if last and self.writing is not None:
            await self.writing
            self.writing = None

    async def _write(self, batch: list[Shipment]) -> None:
        if self.dry_run:
            found = await self.store.watched(batch) if self.store is not None else []
            unchanged = sum(1 for shipment_id in found if shipment_id is not None)
            self.report.unchanged += unchanged
            self.report.added += len(batch) - unchanged
            return
        assert self.store is not None  # a real import always has a database
        for _, created in await self.store.add_shipments(batch, self.now):
            if created:
                self.report.added += 1
            else:
                self.report.unchanged += 1
