"""`trackwatch import FILE`: shipped orders from a CSV export.

The header names the columns (any order; `ingest.FIELDS`, plus the optional customer_phone,
destination_city and ordered_at); only `ingest.REQUIRED` must be there. A bad row is reported
with its line number and every field that is wrong, with the reason, and skipped; the good
rows are stored, in batches of one transaction each. A row whose store, carrier and tracking
number are already watched is left as it is, so importing the same file twice changes nothing.
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from trackwatch.config import Settings
from trackwatch.errors import InputError
from trackwatch.ingest import FIELDS, REQUIRED, Accepted, ShipmentInput, accept
from trackwatch.model import Shipment
from trackwatch.store.contract import Shipments

BATCH = 500
KNOWN = frozenset(ShipmentInput.model_fields) - {"direction"}


@dataclass
class ImportReport:
    added: int = 0
    unchanged: int = 0
    bad: list[tuple[int, InputError]] = field(default_factory=list)
    notes: Counter[str] = field(default_factory=Counter)  # how many good rows each concerns

    def summary(self) -> str:
        return (f"{self.added} added, {self.unchanged} already watched, "
                f"{len(self.bad)} bad row(s)")  # fmt: skip

    def note_lines(self) -> list[str]:
        """What the sender should know about some good rows ("no customer email: ...")."""
        return [f"{count} row(s): {note}" for note, count in self.notes.items()]


def check_header(columns: list[str] | None) -> None:
    if not columns:
        raise InputError("header", "the file is empty; the first line must name the columns")
    names = [c.strip() for c in columns]
    unknown = [c for c in names if c not in KNOWN]
    if unknown:
        optional = [c for c in (*FIELDS, *sorted(KNOWN - set(FIELDS))) if c not in REQUIRED]
        raise InputError("header", f"unknown column(s) {', '.join(map(repr, unknown))}; "
                         f"expected {', '.join(sorted(REQUIRED))} and any of "
                         f"{', '.join(optional)}")  # fmt: skip
    twice = sorted({c for c in names if names.count(c) > 1})
    if twice:
        raise InputError("header", f"column(s) named twice: {', '.join(map(repr, twice))}")
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


def _row_shipment(row: dict[str, str] | InputError, settings: Settings, now: datetime) -> Accepted:
    if isinstance(row, InputError):
        raise row
    return accept(row, settings, now)


def _parse(path: Path) -> list[tuple[int, dict[str, str] | InputError]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return list(rows(handle))
    except OSError as exc:
        raise InputError("file", f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputError("file", f"{path} is not UTF-8 text") from None
    except csv.Error as exc:  # a cell past the csv module's size limit, a stray quote
        raise InputError("file", f"{path} is not a readable CSV file ({exc})") from None


async def import_csv(
    path: Path, settings: Settings, store: Shipments, now: datetime, progress: bool
) -> ImportReport:
    report = ImportReport()
    parsed = _parse(path)
    batch: list[Shipment] = []
    bar = tqdm(total=len(parsed), unit="row", file=sys.stderr, disable=not progress)
    for line, row in parsed:
        try:
            accepted = _row_shipment(row, settings, now)
        except InputError as exc:
            report.bad.append((line, exc))
        else:
            batch.append(accepted.shipment)
            report.notes.update(accepted.notes)
        if len(batch) >= BATCH:
            await _store(store, batch, now, report)
            batch = []
        bar.update(1)
    await _store(store, batch, now, report)
    bar.close()
    return report


async def _store(
    store: Shipments, batch: list[Shipment], now: datetime, report: ImportReport
) -> None:
    if not batch:
        return
    for _, created in await store.add_shipments(batch, now):
        if created:
            report.added += 1
        else:
            report.unchanged += 1
