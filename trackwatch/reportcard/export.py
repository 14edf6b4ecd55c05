"""The report card as CSV and as JSON: one row per carrier and lane (and, in JSON, per
carrier over all its lanes). Rates are fractions (0.75), blank / null when nothing counted."""

from __future__ import annotations

import csv
import io
from typing import Any

from trackwatch.reportcard.figures import Card, Figures, Rate

COLUMNS = (
    "carrier", "origin", "destination", "shipped", "delivered",
    "on_time_eta", "on_time_eta_of", "on_time_promise", "on_time_promise_of",
    "transit_days_median", "transit_days_p90", "stall_rate", "exception_rate", "loss_rate",
    "told", "told_minutes_median", "told_minutes_p90",
)  # fmt: skip


def _fraction(rate: Rate) -> float | None:
    return None if rate.value is None else round(rate.value, 4)


def row_of(figures: Figures) -> dict[str, Any]:
    """One carrier's figures on one lane as named values (COLUMNS)."""
    f = figures
    values = (
        f.carrier, f.origin, f.destination, f.shipped, f.delivered,
        _fraction(f.on_time_eta), f.on_time_eta.of, _fraction(f.on_time_promise),
        f.on_time_promise.of, f.transit_median, f.transit_p90, _fraction(f.stalled),
        _fraction(f.exceptions), _fraction(f.lost), f.told, f.told_median, f.told_p90,
    )  # fmt: skip
    return dict(zip(COLUMNS, values, strict=True))


def to_csv(card: Card) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    writer.writeheader()
    for figures in card.lanes:
        writer.writerow({k: "" if v is None else v for k, v in row_of(figures).items()})
    return out.getvalue()


def to_json(card: Card) -> dict[str, Any]:
    period = card.period
    return {
        "since": period.since.isoformat(), "until": period.until.isoformat(),
        "stores": None if period.stores is None else sorted(period.stores),
        "carriers": [row_of(f) for f in card.carriers], "lanes": [row_of(f) for f in card.lanes],
    }  # fmt: skip
