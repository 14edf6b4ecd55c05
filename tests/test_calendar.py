from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from trackwatch.calendar import MEMO_LIMIT, BusinessCalendar, calendar_for
from trackwatch.zones import zone_name_for

NY = ZoneInfo("America/New_York")


def at(y: int, m: int, d: int, h: int = 12) -> datetime:
    return datetime(y, m, d, h, tzinfo=NY)


def test_weekend_is_not_a_business_day() -> None:
    cal = calendar_for("ups", "US", "10001")
    assert not cal.is_business_day(date(2026, 11, 21))  # Saturday
    assert not cal.is_business_day(date(2026, 11, 22))  # Sunday
    assert cal.is_business_day(date(2026, 11, 23))


def test_monday_holiday_depends_on_the_carrier() -> None:
    mlk = date(2026, 1, 19)
    assert calendar_for("usps", "US", "10001").closure(mlk) == "Martin Luther King Jr. Day"
    assert calendar_for("ups", "US", "10001").is_business_day(mlk)
    memorial = date(2026, 5, 25)
    assert not calendar_for("ups", "US", "10001").is_business_day(memorial)


def test_add_business_days_from_monday_gives_friday_midnight() -> None:
    cal = calendar_for("ups", "US", "10001")
    assert cal.add_business_days(at(2026, 11, 9, 10), 3) == datetime(2026, 11, 13, 0, tzinfo=NY)


def test_thanksgiving_week_skips_the_holiday_and_the_weekend() -> None:
    cal = calendar_for("ups", "US", "10001")
    # Wednesday before Thanksgiving: Fri 27, Mon 30, Tue 1 → Wednesday 2 Dec 00:00.
    due = cal.add_business_days(at(2026, 11, 25, 4), 3)
    assert due == datetime(2026, 12, 2, 0, tzinfo=NY)
    span = cal.span(at(2026, 11, 25, 4), due)
    assert span.business_days == 3
    assert span.weekend_days == 2
    assert span.holidays == ((date(2026, 11, 26), "Thanksgiving Day"),)


def test_monday_holiday_pushes_the_deadline() -> None:
    cal = calendar_for("ups", "US", "10001")
    # Friday before Memorial Day: Tue, Wed, Thu → Friday 00:00.
    assert cal.add_business_days(at(2026, 5, 22), 3) == datetime(2026, 5, 29, 0, tzinfo=NY)


def test_span_counts_only_whole_days_before_now() -> None:
    cal = calendar_for("ups", "US", "10001")
    assert cal.span(at(2026, 11, 9, 10), at(2026, 11, 12, 23)).business_days == 2


def test_destination_zone_decides_the_local_date() -> None:
    hawaii = calendar_for("ups", "US", "96813")
    assert hawaii.zone.key == "Pacific/Honolulu"
    # 03:00 UTC Tuesday is still Monday evening in Honolulu.
    scan = datetime(2026, 11, 10, 3, tzinfo=ZoneInfo("UTC"))
    assert hawaii.local_date(scan) == date(2026, 11, 9)


def test_germany_uses_german_public_holidays() -> None:
    cal = BusinessCalendar("DE", ZoneInfo("Europe/Berlin"), "dhl")
    assert cal.closure(date(2026, 10, 3)) is not None  # German Unity Day (a Saturday too)
    assert not cal.is_business_day(date(2026, 12, 25))
    assert cal.is_business_day(date(2026, 11, 26))  # US Thanksgiving means nothing there


def test_unknown_country_still_has_weekends() -> None:
    cal = BusinessCalendar("XX", ZoneInfo("UTC"), "dhl")
    assert not cal.is_business_day(date(2026, 11, 21))
    assert cal.is_business_day(date(2026, 11, 23))


@pytest.mark.parametrize(
    ("country", "postal", "state", "zone"),
    [
        ("US", "10001", None, "America/New_York"),
        ("US", "96813", None, "Pacific/Honolulu"),
        ("US", "85001", None, "America/Phoenix"),
        ("US", "", "CA", "America/Los_Angeles"),
        ("DE", "10115", None, "Europe/Berlin"),
        ("", "", None, "UTC"),
        # Canada's first zone in zone.tab is Newfoundland's: Toronto is not there.
        ("CA", "M5V 3L9", None, "America/Toronto"),
        ("CA", "", "BC", "America/Vancouver"),
        ("CA", "A1C 5M2", None, "America/St_Johns"),
        ("CA", "", None, "America/Toronto"),
        ("AU", "6000", None, "Australia/Perth"),
        ("AU", "0800", None, "Australia/Darwin"),
        ("AU", "2600", None, "Australia/Sydney"),
        ("AU", "", "QLD", "Australia/Brisbane"),
        ("AU", "", None, "Australia/Sydney"),
        ("BR", "01310-100", None, "America/Sao_Paulo"),
        ("RU", "", None, "Europe/Moscow"),
        ("UA", "", None, "Europe/Kyiv"),
    ],
)
def test_zone_lookup(country: str, postal: str, state: str | None, zone: str) -> None:
    assert zone_name_for(country, postal, state) == zone


def test_calendars_of_a_country_share_their_days_but_not_their_zones() -> None:
    """Which days are business days is worked out once per country and closures, and
    shared by every postal code's calendar; midnight stays each zone's own."""
    new_york, los_angeles = calendar_for("ups", "US", "10001"), calendar_for("ups", "US", "90210")
    start = datetime(2026, 11, 25, 20, tzinfo=ZoneInfo("UTC"))  # Wednesday before Thanksgiving
    assert new_york.add_business_days(start, 1) == datetime(2026, 11, 28, 0, tzinfo=NY)
    la = ZoneInfo("America/Los_Angeles")
    assert los_angeles.add_business_days(start, 1) == datetime(2026, 11, 28, 0, tzinfo=la)
    assert new_york.add_business_days(start, 1) != los_angeles.add_business_days(start, 1)


def test_carriers_closed_on_other_holidays_do_not_share_their_days() -> None:
    """USPS closes on Martin Luther King Jr. Day, UPS does not: asked in that order, each
    counts its own (a memo shared across closures would give UPS the USPS answer)."""
    before, after = at(2026, 1, 16), at(2026, 1, 21)  # Friday to Wednesday
    usps = calendar_for("usps", "US", "10001").span(before, after)
    ups = calendar_for("ups", "US", "10001").span(before, after)
    assert (usps.business_days, usps.holidays_text()) == (
        1,
        "2026-01-19 Martin Luther King Jr. Day",
    )
    assert (ups.business_days, ups.holidays_text()) == (2, "none")


def test_a_full_memo_starts_again_and_still_answers() -> None:
    cal = BusinessCalendar("US", ZoneInfo("America/Chicago"), "fedex")
    start = datetime(2026, 1, 5, 12, tzinfo=ZoneInfo("America/Chicago"))
    spans = [cal.span(start, start + timedelta(days=n)) for n in range(MEMO_LIMIT + 50)]
    assert len(cal._spans) <= MEMO_LIMIT
    fresh = BusinessCalendar("US", ZoneInfo("America/Chicago"), "fedex")
    assert spans[7] == fresh._count(date(2026, 1, 5), date(2026, 1, 12))
    assert cal.span(start, start + timedelta(days=7)).business_days == 4  # Tue to Fri
