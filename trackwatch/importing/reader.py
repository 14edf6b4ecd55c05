"""The rows of a CSV file, one at a time: memory stays flat whatever the file's size.

A file that cannot be read whole (not UTF-8, a broken quote, a cell past the csv module's
limit) is refused before anything of it is stored: `check_readable` reads it through once,
keeping nothing, which costs a small part of what checking and storing the rows does.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from trackwatch.errors import InputError


@contextmanager
def opened(path: Path) -> Iterator[TextIO]:
    """The file as text (a spreadsheet's byte order mark dropped); its faults as InputError."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            yield handle
    except OSError as exc:
        raise InputError("file", f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputError("file", f"{path} is not UTF-8 text") from None
    except csv.Error as exc:  # a cell past the csv module's size limit, a stray quote
        raise InputError("file", f"{path} is not a readable CSV file ({exc})") from None


def check_readable(path: Path) -> int:
    """Read the whole file once; the number of lines after the header (for a progress bar)."""
    with opened(path) as handle:
        reader = csv.reader(handle)
        for _ in reader:
            pass
        return max(reader.line_num - 1, 0)


def header_and_rows(handle: TextIO) -> tuple[list[str] | None, Iterator[tuple[int, list[str]]]]:
    """The header, and (line where the row starts, its cells) for each non-blank row: a quoted
    cell may span lines, so the numbers come from the reader."""
    reader = csv.reader(handle)
    header = next(reader, None)

    def rows() -> Iterator[tuple[int, list[str]]]:
        start = reader.line_num + 1
        for values in reader:
            line, start = start, reader.line_num + 1
            if any(v.strip() for v in values):
                yield line, values

    return header, rows()
