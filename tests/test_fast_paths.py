"""The parsers' fast paths read every input as the slow paths did (issue 21: carriers/text.py's
clean ran html.unescape and two regexes on every field, 22% of parse time; timestamps went
through a tolerant regex). Each fast path is checked against the slow one it skips, kept
here as the reference."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from carriers import timeparse
from carriers.assemble import event
from carriers.text import clean
from carriers.timeparse import Stamp, TimeFormatError, parse_iso
from tests.golden import FIXTURES
from trackwatch.benchmark.parsers import OURS, payloads
from trackwatch.model import Place, Status, TrackingEvent

_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")
ZONES = [ZoneInfo("America/Chicago"), ZoneInfo("Europe/Berlin"), UTC]


def clean_reference(text: object) -> str:
    if text is None:
        return ""
    return _SPACES.sub(" ", html.unescape(_TAGS.sub("", str(text)))).strip()


def parse_iso_reference(text: str, zone: tzinfo) -> Stamp:
    match = timeparse._ISO.match(text.strip())
    if not match:
        raise TimeFormatError(text)
    day = date.fromisoformat(match["date"])
    if match["time"] is None:
        return timeparse.combine(day, None, zone, inferred=True)
    clock = time.fromisoformat(timeparse._hms(match["time"]))
    if match["zone"] is None:
        return timeparse.combine(day, clock, zone, inferred=True)
    offset = timedelta(0) if match["zone"] == "Z" else timeparse.parse_offset(match["zone"])
    return Stamp(datetime.combine(day, clock, tzinfo=UTC) - offset)


PIECES = [*" \t\n\r\x0b\x0c\x1c\x85\xa0\u2028\u3000\u200baZ<>&;#x1/", "&amp;", "&nbsp;", "&#10;",
          "<b>", "</b>"]  # fmt: skip
WORDS = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)


@given(WORDS)
def test_clean_reads_every_text_as_the_regexes_did(text: str) -> None:
    assert clean(text) == clean_reference(text)


def test_clean_reads_what_is_not_text_as_before() -> None:
    for value in (None, 5, 2.5, True, ["a"]):
        assert clean(value) == clean_reference(value)


DIGITS = st.text(alphabet="0123456789", min_size=2, max_size=2)
STAMPS = st.builds(
    lambda year, month, day, hour, minute, second, tail, space: (
        f"{space}{year}-{month}-{day}T{hour}:{minute}:{second}{tail}"
    ),
    st.sampled_from(["2026", "1999", "20a6"]), st.sampled_from(["01", "02", "12", "13", "00"]),
    st.sampled_from(["01", "28", "29", "31", "00"]), st.sampled_from(["00", "09", "23", "24"]),
    DIGITS, DIGITS,
    st.sampled_from(["", "Z", "+05:30", "-06:00", "+14:00", "+15:00", "-14:59", "-06:60",
                     "+1:00", "-0500", "-04.00", ".5", "+0a:00", " ", ".000Z", ".5Z", ".1234567Z"]),
    st.sampled_from(["", " "]),
)  # fmt: skip


def _outcome(read: object, text: str, zone: tzinfo) -> object:
    """What `read` made of `text`, or that it refused it (the reference refused an
    impossible date with a bare ValueError, parse_iso with a TimeFormatError since)."""
    try:
        return read(text, zone)  # type: ignore[operator]
    except ValueError:
        return ValueError


@pytest.mark.parametrize(
    "text",
    ["2026-13-01T10:00:00", "2026-02-30", "2026-01-01T24:00:00+01:00",
     "0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00", "2026-00-10T10:00:00Z"],
)  # fmt: skip
def test_an_impossible_date_is_a_time_format_error(text: str) -> None:
    with pytest.raises(TimeFormatError):
        parse_iso(text, ZoneInfo("America/Chicago"))
    with pytest.raises(TimeFormatError):
        timeparse.promise_end(text, UTC)


def test_a_promised_last_day_past_9999_is_a_time_format_error() -> None:
    with pytest.raises(TimeFormatError):
        timeparse.promise_end("9999-12-31", UTC)


@given(STAMPS, st.sampled_from(ZONES))
def test_parse_iso_reads_every_stamp_as_its_regex_did(text: str, zone: tzinfo) -> None:
    assert _outcome(parse_iso, text, zone) == _outcome(parse_iso_reference, text, zone)


def _fields(model: BaseModel) -> dict[str, tuple[type, object]]:
    """Each field's value and exact type (a str where the enum belongs compares equal)."""
    return {name: (type(value), value) for name, value in model.__dict__.items()}


@pytest.mark.parametrize("carrier", ["usps", "ups", "fedex", "dhl"])
async def test_events_are_valid_models(carrier: str) -> None:
    """Events are built without validation (carriers.assemble.event): each is what the
    model's validation makes of the same fields, value and type, over the sandbox's answers
    for 80 parcels of every kind (delivered, held at customs, returned, with and without
    places)."""
    checked = 0
    for body in (await payloads(80))[carrier]:
        results = OURS[carrier](body)
        assert isinstance(results, list)
        for result in results:
            for scan in result.events:
                validated = TrackingEvent.model_validate(scan.model_dump())
                assert _fields(validated) == _fields(scan)
                assert _fields(validated.place) == _fields(scan.place)
                assert validated.occurred_at.tzinfo is UTC is scan.occurred_at.tzinfo
                checked += 1
    assert checked > 40


def test_built_event_refuses_a_naive_time_as_the_model_does() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        event(datetime(2026, 1, 2, 3, 4), Status.IN_TRANSIT, "X", "", Place())


# A field of each carrier's first scan's place, in its published example.
PLACE_FIELDS = {
    "dhl": ("dhl-track-ecommerce-in-transit-customs-spec-example.json",
            ("shipments", 0, "events", 0, "location", "address", "postalCode")),
    "fedex": ("fedex-track-delivered-mixed-timestamp-formats.json",
              ("output", "completeTrackResults", 0, "trackResults", 0, "scanEvents", 0,
               "scanLocation", "postalCode")),
    "ups": ("ups-track-schema-example-exception-X.json",
            ("trackResponse", "shipment", 0, "package", 0, "activity", 0, "location", "address",
             "postalCode")),
    "usps": ("usps-v3-detail-accepted-readme-example.json", ("trackingEvents", 0, "eventZIP")),
}  # fmt: skip


@pytest.mark.parametrize("carrier", sorted(PLACE_FIELDS))
def test_cached_places_tell_equal_values_of_other_types_apart(carrier: str) -> None:
    """Places are cached by their raw fields; 1, 1.0 and True are one dict key, but they
    read as three texts ("1", "1.0", "True"), as they do uncached."""
    name, path = PLACE_FIELDS[carrier]
    payload = json.loads((FIXTURES / carrier / name).read_text())
    node = payload
    for key in path[:-1]:
        node = node[key]
    postal_codes = []
    for value in (1, 1.0, True):
        node[path[-1]] = value
        results = OURS[carrier](json.dumps(payload).encode())
        assert isinstance(results, list)
        postal_codes.append({e.place.postal_code for r in results for e in r.events})
    assert [sorted(codes & {"1", "1.0", "True"}) for codes in postal_codes] == [
        ["1"],
        ["1.0"],
        ["True"],
    ]
