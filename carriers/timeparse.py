"""Carrier timestamps, tolerantly: every result is an aware UTC datetime.

Carriers mix formats within one response: offsets written `-05:00`, `-7:00`, `+2:00`,
`-04.00` or `-0500`; times as `HHMMSS`, `HH:MM:SS`, or `74700` with the leading zero
dropped; bare dates; local times with no offset at all (the zone then comes from the event's
place, and the caller records that it was inferred); and a `Z` on what is really local time
(callers prefer the explicit GMT fields for that reason).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import NamedTuple

_OFFSET = re.compile(r"^(?P<sign>[+-])(?P<h>\d{1,2})(?:[:.]?(?P<m>\d{2}))?$")
_ISO = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<time>\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)"
    r"(?P<zone>Z|[+-]\d{1,2}(?:[:.]?\d{2})?)?)?$"
)

_PLAIN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:[+-](?:0\d|1[0-4]):[0-5]\d)?\Z")
# UTC with a fraction, as USPS writes GMTTimestamp ("2026-11-17T19:32:10.000Z"); the
# fraction is dropped, as _hms drops it.
_PLAIN_UTC = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\.\d+Z\Z")


class TimeFormatError(ValueError):
    pass


class Stamp(NamedTuple):
    """A parsed instant, and what had to be assumed to get it. (A tuple: one is made per
    scan, and a frozen dataclass's __init__ cost as much as reading the time.)"""

    at: datetime
    zone_inferred: bool = False
    date_only: bool = False


def _text(value: object, what: str) -> str:
    """`value` when it is text: a carrier's number where its spec says string is an error
    naming the value, never an AttributeError that reads as a fault of ours."""
    if not isinstance(value, str):
        raise TimeFormatError(f"unreadable {what} {value!r} (not text)")
    return value


def parse_offset(text: str) -> timedelta:
    match = _OFFSET.match(_text(text, "UTC offset").strip())
    if not match:
        raise TimeFormatError(f"unreadable UTC offset {text!r}")
    hours, minutes = int(match["h"]), int(match["m"] or 0)
    if hours > 14 or minutes > 59:
        raise TimeFormatError(f"UTC offset out of range {text!r}")
    delta = timedelta(hours=hours, minutes=minutes)
    return -delta if match["sign"] == "-" else delta


def parse_hms(text: str) -> time:
    """`HHMMSS`, `HH:MM:SS`, `HH:MM`, or `74700` (HMMSS with the leading zero dropped)."""
    raw = _text(text, "time").strip().replace(":", "")
    if not raw.isdigit() or len(raw) not in (3, 4, 5, 6):
        raise TimeFormatError(f"unreadable time {text!r}")
    if len(raw) in (3, 5):
        raw = "0" + raw
    if len(raw) == 4:
        raw += "00"
    try:
        return time(int(raw[:2]), int(raw[2:4]), int(raw[4:6]))
    except ValueError:
        raise TimeFormatError(f"time out of range {text!r}") from None


def parse_ymd(text: str) -> date:
    """`YYYYMMDD` or `YYYY-MM-DD`."""
    if type(text) is str and len(text) <= 16:  # what else comes fails as it always did
        return _cached_ymd(text)
    return _parse_ymd(text)


def _parse_ymd(text: str) -> date:
    raw = _text(text, "date").strip().replace("-", "")
    if len(raw) != 8 or not raw.isdigit():
        raise TimeFormatError(f"unreadable date {text!r}")
    try:
        return date(int(raw[:4]), int(raw[4:6]), int(raw[6:8]))
    except ValueError:
        raise TimeFormatError(f"date out of range {text!r}") from None


# The same few days recur in every answer (an error is raised again, never cached).
_cached_ymd = lru_cache(maxsize=4096)(_parse_ymd)


def combine(day: date, clock: time | None, zone: tzinfo, inferred: bool) -> Stamp:
    """A local date (and time) in `zone`; a missing time means the start of that day."""
    local = datetime.combine(day, clock or time(0), tzinfo=zone)
    return Stamp(local.astimezone(UTC), zone_inferred=inferred, date_only=clock is None)


def parse_iso(text: str, fallback_zone: tzinfo, trust_z: bool = True) -> Stamp:
    """An ISO 8601 date or date-time with a tolerant offset.

    With no offset the time is local to `fallback_zone` and the stamp says the zone was
    inferred; `trust_z=False` treats a trailing Z as one of those local times. A date of
    the right form that cannot be (month 13, year 9999 past its last hour in UTC) is a
    TimeFormatError like any unreadable one: the parsers make it a malformed answer naming
    the field, where a bare ValueError read as a fault of ours.
    """
    try:
        return _parse_iso(text, fallback_zone, trust_z)
    except TimeFormatError:
        raise
    except (ValueError, OverflowError):
        raise TimeFormatError(f"timestamp out of range {text!r}") from None


def _parse_iso(text: str, fallback_zone: tzinfo, trust_z: bool) -> Stamp:
    text = text.strip()
    if (fast := _plain(text, fallback_zone, trust_z)) is not None:
        return fast
    match = _ISO.match(text)
    if not match:
        raise TimeFormatError(f"unreadable timestamp {text!r}")
    day = date.fromisoformat(match["date"])
    if match["time"] is None:
        return combine(day, None, fallback_zone, inferred=True)
    clock = time.fromisoformat(_hms(match["time"]))
    zone_text = match["zone"]
    if zone_text is None or (zone_text == "Z" and not trust_z):
        return combine(day, clock, fallback_zone, inferred=True)
    offset = timedelta(0) if zone_text == "Z" else parse_offset(zone_text)
    local = datetime.combine(day, clock, tzinfo=UTC) - offset
    return Stamp(local)


def _plain(text: str, zone: tzinfo, trust_z: bool) -> Stamp | None:
    """The forms most carriers send, read as parse_iso reads them but by
    datetime.fromisoformat: `YYYY-MM-DDTHH:MM:SS` (local to `zone`), the same with a
    `±HH:MM` offset of at most 14 hours, and (`trust_z`) with a fraction and Z. None for
    anything else (the regex above reads it)."""
    if _PLAIN.match(text) is None:
        if trust_z and (utc := _PLAIN_UTC.match(text)) is not None:
            try:
                return Stamp(datetime.fromisoformat(utc[1]).replace(tzinfo=UTC))
            except ValueError:
                return None  # out of range: the regex's path says so, in its words
        return None
    if len(text) == 19:
        return Stamp(datetime.fromisoformat(text).replace(tzinfo=zone).astimezone(UTC), True)
    return Stamp(datetime.fromisoformat(text).astimezone(UTC))


def end_of_day(day: date, zone: tzinfo) -> datetime:
    """The instant a promised day ends where the parcel is going (the next local midnight)."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


def promise_end(text: str, zone: tzinfo, midnight_is_date: bool = False) -> datetime:
    """The instant a carrier's promise runs out, `zone` being the destination's.

    A date is a whole day: a bare date runs out at the end of that day where the parcel is
    going, and so, with `midnight_is_date`, does a date-time at exactly local midnight, which
    is how FedEx writes a date ("2024-04-26T00:00:00-06:00": read as an instant, that is
    23:00 the day before in California). Any other date-time is the instant it names.
    """
    match = _ISO.match(text.strip())
    if not match:
        raise TimeFormatError(f"unreadable timestamp {text!r}")
    wall = match["time"]
    try:
        if wall is None or (midnight_is_date and time.fromisoformat(_hms(wall)) == time(0)):
            return end_of_day(date.fromisoformat(match["date"]), zone)
    except (ValueError, OverflowError):
        raise TimeFormatError(f"timestamp out of range {text!r}") from None
    return parse_iso(text, zone).at


def _hms(text: str) -> str:
    """HH:MM[:SS[.fff]] as HH:MM:SS, zero-padded."""
    hms = text.partition(".")[0]
    return (hms if len(hms) > 5 else hms + ":00").zfill(8)


def parse_offset_value(value: object) -> timedelta:
    """An offset as carriers send it: text (`-7:00`, `-05:00`, `-04.00`, `+0530`) or a number
    of minutes (the USPS v3r2 spec's example GMTOffset is the integer -420)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(minutes=float(value))
    text = str(value).strip()
    digits = text.lstrip("+-")
    if digits.isdigit() and len(digits) == 3 and int(digits) % 30 == 0 and int(digits) >= 60:
        # "-420": minutes written as text; hmm readings ("-4:20") are not real zones.
        minutes = int(digits)
        return timedelta(minutes=-minutes if text.startswith("-") else minutes)
    return parse_offset(text)
