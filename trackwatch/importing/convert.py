"""One row of a file as the fields trackwatch's validator reads (trackwatch.ingest.accept),
with the problems and warnings of reading its values the way the export writes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, tzinfo

from trackwatch.config import Settings
from trackwatch.errors import InputError
from trackwatch.importing.plan import Plan
from trackwatch.importing.presets import DATE_FIELDS
from trackwatch.importing.values import carrier_text, country_code, instant, us_zip

# Fields whose cells go to the validator as written (trimmed) in an export.
_TEXT = ("order_id", "tracking_number", "customer_name", "customer_email", "customer_phone",
         "destination_city")  # fmt: skip
_NAMES = ("first_name", "last_name")
# An order's own fields, which an export of one row per line may write on its top row only.
_ORDER_FIELDS = ("customer_name", "customer_email", "customer_phone", "destination_city",
                 "destination_country", "destination_postal_code", "ordered_at")  # fmt: skip


@dataclass
class Row:
    """The validator's input for a row; what could not be read (each its own field's
    problem) and what the sender should know (a ZIP code's restored zero)."""

    data: dict[str, str]
    problems: list[InputError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class TooWide(InputError):
    def __init__(self) -> None:
        super().__init__("row", "has more fields than the header")


@dataclass
class Reader:
    """Reads rows by `plan`: `store` is --store (for files that name none), `date_formats`
    --date-format (else the preset's)."""

    plan: Plan
    settings: Settings
    store: str | None = None
    date_formats: tuple[str, ...] | None = None
    _zones: dict[str, tzinfo] = field(default_factory=dict)
    _order: tuple[str, dict[str, str], list[str]] = ("", {}, [])  # see _carried

    def read(self, values: list[str], width: int) -> Row | None:
        """The row, or None for one that ships nothing here (no tracking number, or a
        cancelled fulfillment in an export); TooWide for extra cells."""
        if len(values) > width and any(v.strip() for v in values[width:]):
            raise TooWide
        if self.plan.preset.native:
            data = {name: values[i] for name, i in self.plan.index.items() if i < len(values)}
            if self.store is not None and "store" not in self.plan.index:
                data["store"] = self.store
            return Row(data)
        row = self._carried(self._fields(values))
        status = self._cell(values, "status").lower()
        if not row.data.get("tracking_number") or status in self.plan.preset.skip_status:
            return None
        return row

    def _cell(self, values: list[str], name: str) -> str:
        i = self.plan.index.get(name)
        return values[i].strip() if i is not None and i < len(values) else ""

    def _fields(self, values: list[str]) -> Row:
        row = Row({name: cell for name in _TEXT if (cell := self._cell(values, name))})
        if "customer_name" not in row.data:
            whole = " ".join(n for n in (self._cell(values, f) for f in _NAMES) if n)
            if whole:
                row.data["customer_name"] = whole
        store = self.store or self._cell(values, "store")
        if store:
            row.data["store"] = store
        if carrier := self._cell(values, "carrier"):
            row.data["carrier"] = carrier_text(carrier, self._cell(values, "service"))
        self._place(values, row)
        zone = self._zone(store)
        for name in DATE_FIELDS:
            if cell := self._cell(values, name):
                try:
                    row.data[name] = instant(cell, name, self._formats(), zone)
                except InputError as exc:
                    row.problems.append(exc)
        return row

    def _carried(self, row: Row) -> Row:
        """The row with its order's own fields filled from the order's earlier rows; only the
        last order is kept, so memory stays flat."""
        order = row.data.get("order_id", "")
        name, known, warnings = self._order
        if order and order == name:
            if "destination_postal_code" not in row.data:
                row.warnings.extend(warnings)
            for key, value in known.items():
                row.data.setdefault(key, value)
        kept = {k: row.data[k] for k in _ORDER_FIELDS if k in row.data}
        self._order = (order, kept, row.warnings)
        return row

    def _place(self, values: list[str], row: Row) -> None:
        country = self._cell(values, "destination_country")
        if country:
            try:
                row.data["destination_country"] = country_code(country)
            except InputError as exc:
                row.problems.append(exc)
        postal = self._cell(values, "destination_postal_code")
        if postal and row.data.get("destination_country", "" if country else "US") == "US":
            postal, warning = us_zip(postal)
            if warning:
                row.warnings.append(f"destination_postal_code: {warning}")
        if postal:
            row.data["destination_postal_code"] = postal

    def _formats(self) -> tuple[str, ...]:
        return self.date_formats if self.date_formats is not None else self.plan.preset.date_formats

    def _zone(self, store: str) -> tzinfo:
        """The store's zone (its staff's): an export's dates without an offset are local."""
        if store not in self._zones:
            configured = self.settings.stores.get(store)
            self._zones[store] = configured.policy.staff_zone() if configured else UTC
        return self._zones[store]
