"""`trackwatch import FILE`: shipped orders from a CSV export.

The header names the columns (any order; `ingest.FIELDS`, plus the optional customer_phone,
destination_city and ordered_at). A bad row is reported with its line number, field and
reason and skipped; the good rows are stored, in batches of one transaction each. A row whose
store, carrier and tracking number are already watched is left as it is, so importing the
same file twice changes nothing.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from trackwatch.config import Settings
from trackwatch.errors import InputError
from trackwatch.ingest import FIELDS, REQUIRED, ShipmentInput, read_input, to_shipment
from trackwatch.model import Shipment
from trackwatch.store import SqliteStore

BATCH = 500
KNOWN = frozenset(ShipmentInput.model_fields) - {"direction"}


@dataclass
class ImportReport:
    added: int = 0
    unchanged: int = 0
    bad: list[tuple[int, InputError]] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.added} added, {self.unchanged} already watched, "
                f"{len(self.bad)} bad row(s)")  # fmt: skip


def check_header(columns: list[str] | None) -> None:
    if not columns:
        raise InputError("header", "the file is empty; the first line must name the columns")
    names = [c.strip() for c in columns]
    unknown = [c for c in names if c not in KNOWN]
    if unknown:
        raise InputError("header", f"unknown column(s) {', '.join(map(repr, unknown))}; "
                         f"expected {', '.join(FIELDS)}")  # fmt: skip
    missing = sorted(REQUIRED - set(names))
    if missing:
        raise InputError("header", f"missing column(s) {', '.join(missing)}")


def rows(handle: TextIO) -> Iterator[tuple[int, dict[str, str] | InputError]]:
    """(line number where the row starts, row or what is wrong with its shape) for each
    non-blank row; quoted fields may span lines, so the numbers come from the reader."""
    reader = csv.reader(handle)
    header = next(reader, None)
    check_header(header)
    names = [c.strip() for c in header or []]
    start = reader.line_num + 1
    for values in reader:
        line, start = start, reader.line_num + 1
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(names):
            yield line, InputError("row", "has more fields than the header")
            continue
        yield line, dict(zip(names, values, strict=False))


def _row_shipment(row: dict[str, str] | InputError, settings: Settings, now: datetime) -> Shipment:
    if isinstance(row, InputError):
        raise row
    return to_shipment(read_input(row), settings, now)


async def import_csv(
    path: Path, settings: Settings, store: SqliteStore, now: datetime, progress: bool
) -> ImportReport:
    report = ImportReport()
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            parsed = list(rows(handle))
    except OSError as exc:
        raise InputError("file", f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputError("file", f"{path} is not UTF-8 text") from None
    batch: list[Shipment] = []
    bar = tqdm(total=len(parsed), unit="row", file=sys.stderr, disable=not progress)
    for line, row in parsed:
        try:
            batch.append(_row_shipment(row, settings, now))
        except InputError as exc:
            report.bad.append((line, exc))
        if len(batch) >= BATCH:
            await _store(store, batch, now, report)
            batch = []
        bar.update(1)
    await _store(store, batch, now, report)
    bar.close()
    return report


async def _store(
    store: SqliteStore, batch: list[Shipment], now: datetime, report: ImportReport
) -> None:
    if not batch:
        return
    for _, created in await store.add_shipments(batch, now):
        if created:
            report.added += 1
        else:
            report.unchanged += 1
