"""`--mapping FILE`: a TOML file naming which column of an export is which field, for an
export no preset knows. Values are read as exports write them (dates in `date_format` or
ISO 8601, in the store's zone when they carry none; carrier and country names).

    date_format = "%d.%m.%Y"          # optional (strptime codes); --date-format wins
    [columns]
    order_id = "Order"
    tracking_number = "Tracking #"
    carrier = "Carrier"
    shipped_at = ["Ship Date", "Shipped"]   # the first of these the header has
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from trackwatch.errors import InputError
from trackwatch.importing.presets import IMPORT_FIELDS, Preset

# What a mapping must name: the store may come from --store.
MAPPED_REQUIRED = frozenset({"store", "order_id", "tracking_number", "shipped_at"})


def load_mapping(path: Path) -> Preset:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError("--mapping", f"cannot read {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError("--mapping", f"{path} is not a TOML file ({exc})") from None
    unknown = sorted(set(data) - {"columns", "date_format"})
    if unknown:
        raise InputError("--mapping", f"unknown key(s) {', '.join(unknown)}: a mapping has "
                         "[columns] and date_format")  # fmt: skip
    columns = _columns(data.get("columns"))
    date_format = data.get("date_format")
    if date_format is not None and not isinstance(date_format, str):
        raise InputError("--mapping", 'date_format must be a text such as "%d.%m.%Y"')
    formats = (date_format,) if date_format else ()
    required = MAPPED_REQUIRED & set(columns) | (MAPPED_REQUIRED - {"store"})
    return Preset(f"mapping {path.name}", columns, frozenset(required), formats)


def _columns(table: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(table, dict) or not table:
        raise InputError("--mapping", 'needs a [columns] table: field = "column name"')
    unknown = sorted(set(table) - set(IMPORT_FIELDS))
    if unknown:
        raise InputError("--mapping", f"unknown field(s) {', '.join(unknown)}; fields are "
                         f"{', '.join(IMPORT_FIELDS)}")  # fmt: skip
    columns: dict[str, tuple[str, ...]] = {}
    for name, given in table.items():
        names = (given,) if isinstance(given, str) else given
        if not isinstance(names, list | tuple) or not names or \
                not all(isinstance(n, str) and n.strip() for n in names):  # fmt: skip
            raise InputError("--mapping", f"{name}: give a column name or a list of them")
        columns[name] = tuple(names)
    missing = sorted(MAPPED_REQUIRED - {"store"} - set(columns))
    if missing:
        raise InputError("--mapping", f"[columns] must name {', '.join(missing)}")
    return columns
