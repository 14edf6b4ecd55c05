"""A store's policy: the settings its rules run on, and which of them the store promised.

A number here is an operator's setting unless the policy's `[promises]` table gives the
store's own words for it (trackwatch.promises): the defaults are examples drawn from the
stores' pages (shared/seeds, cited by file number in each field's description), but a store
that adopts a default has promised nothing by it, so its customers are told nothing on it.
Thresholds are business days (the carrier's working days at the destination) unless the name
says hours or days.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, time
from typing import Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from trackwatch.model import DeliveryLocation
from trackwatch.promises import RemediesPolicy, promise_problems
from trackwatch.worst_case import race_problems
from trackwatch.zones import zone_for

DayUnit = Literal["business", "calendar"]
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PickupPolicy(_Part):
    business_days: int = Field(
        2, ge=1, le=10,
        description="no acceptance scan this many business days after the label: staff alert "
        "(004: tracking active 24-48 h after it ships; 002: couriers take up to 48 h)",
    )  # fmt: skip


class StallPolicy(_Part):
    domestic_business_days: int = Field(
        3, ge=1, le=30, description="004: 'tracking hasn't updated in more than 3 business days'"
    )
    international_business_days: int = Field(
        5, ge=1, le=30, description="002: 'no update ... for more than 5 business days'"
    )
    customs_business_days: int = Field(
        10, ge=1, le=60,
        description="while in customs or handed over abroad (003: tracking only updates again "
        "once the parcel clears customs and reaches the buyer's country)",
    )  # fmt: skip
    investigation: bool = Field(
        False, description="the staff alert asks for a carrier investigation (002)"
    )

    @model_validator(mode="after")
    def _customs_not_shorter(self) -> Self:
        if self.customs_business_days < self.international_business_days:
            raise ValueError(
                "customs_business_days must be at least international_business_days: the "
                "customs phase is the one where tracking is expected to go quiet"
            )
        return self


class LatePolicy(_Part):
    grace_business_days: int = Field(
        1, ge=0, le=10, description="004: 'allow 1 extra business day beyond the estimated "
        "delivery' before the customer is told",
    )  # fmt: skip
    escalate_after_hours: float = Field(
        48, gt=0, le=24 * 30, description="004: 'still delayed after 48 hours past due date'"
    )


class TransitWindow(_Part):
    regions: list[str] = Field(
        min_length=1,
        description="'domestic', 'international', '*' or ISO country codes such as US",
    )
    min_days: int = Field(ge=0, le=120)
    max_days: int = Field(ge=0, le=120)
    unit: DayUnit = "business"

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: list[str]) -> list[str]:
        out = []
        for region in value:
            name = region.strip()
            lowered = name.lower()
            if lowered in {"domestic", "international", "*"}:
                out.append(lowered)
            elif len(name) == 2 and name.isalpha():
                out.append(name.upper())
            else:
                raise ValueError(
                    f"{region!r} is not 'domestic', 'international', '*' or a two-letter "
                    "country code"
                )
        return out

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min_days > self.max_days:
            raise ValueError("min_days must not exceed max_days")
        return self

    def matches(self, country: str, domestic: bool) -> int:
        """How specifically this window names a destination: 3 country, 2 domestic or
        international, 1 the wildcard, 0 not at all."""
        if country in self.regions:
            return 3
        if ("domestic" if domestic else "international") in self.regions:
            return 2
        return 1 if "*" in self.regions else 0


class PeakSeason(_Part):
    start: str = Field(description="first day, MM-DD")
    end: str = Field(description="last day, MM-DD; may wrap into the next year")
    extra_days: int = Field(5, ge=0, le=60, description="002: 'a delay up to 5 days'")

    @field_validator("start", "end")
    @classmethod
    def _month_day(cls, value: str) -> str:
        match = _MONTH_DAY.match(value.strip())
        try:
            if match is None:
                raise ValueError
            date(2024, int(match[1]), int(match[2]))  # a leap year accepts 02-29
        except ValueError:
            raise ValueError(f"{value!r} is not a month and day as MM-DD") from None
        return value.strip()

    def covers(self, day: date) -> bool:
        key = day.strftime("%m-%d")
        if self.start <= self.end:
            return self.start <= key <= self.end
        return key >= self.start or key <= self.end


def _default_transit() -> list[TransitWindow]:
    return [
        TransitWindow(regions=["domestic"], min_days=4, max_days=7, unit="business"),
        TransitWindow(regions=["international"], min_days=7, max_days=16, unit="calendar"),
    ]


class PromisePolicy(_Part):
    """The delivery promise, used as the ETA when the carrier gives none."""

    processing_business_days: int = Field(
        5, ge=0, le=30, description="from order to ready to ship (004: processing 1-2 + "
        "production 2-3 business days; 002: 1-3)",
    )  # fmt: skip
    ships_next_day: bool = Field(
        False, description="002: 'shipped the day after the processing day'; never at weekends"
    )
    transit: list[TransitWindow] = Field(
        default_factory=_default_transit,
        description="per destination (004: 4-7 business days; 002: 7-16 days, 18-24 to the US)",
    )
    peak_seasons: list[PeakSeason] = Field(default_factory=list)

    def window_for(self, country: str, domestic: bool) -> TransitWindow | None:
        ranked = [(w.matches(country, domestic), i, w) for i, w in enumerate(self.transit)]
        best = max(ranked, default=None, key=lambda r: (r[0], -r[1]))
        return best[2] if best is not None and best[0] > 0 else None

    def peak_for(self, day: date) -> PeakSeason | None:
        return next((p for p in self.peak_seasons if p.covers(day)), None)


_RISKY = [
    DeliveryLocation.FRONT_DOOR,
    DeliveryLocation.MAILROOM,
    DeliveryLocation.PARCEL_LOCKER,
    DeliveryLocation.NEIGHBOUR,
]


class DeliveredPolicy(_Part):
    wait_hours: float = Field(
        24, ge=0, le=24 * 14, description="after the delivery scan, and not before a 'not "
        "received' report, wait this long before the checklist and the claim (000: 'if it's "
        "only been a day, hang tight'; 004: 'wait 24 hours')",
    )  # fmt: skip
    claim_window_days: int = Field(
        30, ge=0, le=365, description="how long after delivery the check-in stays open and "
        "the 'didn't receive it?' link works; the delivered notice states it only when the "
        "store promised it (004: 30 days; 001: 3 business days)",
    )  # fmt: skip
    claim_window_unit: DayUnit = "calendar"
    risky_locations: list[DeliveryLocation] = Field(
        default_factory=lambda: list(_RISKY),
        description="deliveries here are flagged to staff (004: porches, mailrooms, neighbours)",
    )
    flag_other_place: bool = Field(
        True, description="flag a delivery scanned in a city or postal code other than the "
        "destination's",
    )  # fmt: skip


class ExceptionsPolicy(_Part):
    address_hold_days: int = Field(
        7, ge=1, le=60, description="000: the post office 'might hold it for a week before "
        "it's sent back'",
    )  # fmt: skip
    pickup_hold_days: int = Field(
        7, ge=1, le=60, description="days a parcel waits at a pickup point before it goes back"
    )


class LostPolicy(_Part):
    """A silence this long presumes a parcel lost. No store's page gives such a number (002:
    'the investigation to locate a package may take several weeks'), so unless a store
    promises one, a presumed loss is for staff to confirm; a loss the carrier declares is
    told to the customer with the store's remedy (remedies.lost)."""

    domestic_business_days: int = Field(10, ge=2, le=90)
    international_business_days: int = Field(20, ge=2, le=120)


class ExpiryPolicy(_Part):
    after_days: int = Field(
        30, ge=7, le=365, description="days without any carrier scan (a number the carrier "
        "never knew) after which polling stops and staff are told",
    )  # fmt: skip
    silent_after_days: int = Field(
        60, ge=7, le=365, description="days without a new scan, once the carrier has scanned "
        "the parcel, after which polling stops and staff are told: later than every stall and "
        "lost deadline can fall (StorePolicy checks it)",
    )  # fmt: skip


class ReturnsPolicy(_Part):
    """A return delivered to the store starts the refund clock (seed 002). Seed 002 says
    both "Please allow up to 28 days from the day we receive the returned goods for your
    refund to be processed" and "it can take up to 28 business days for the funds to credit
    back ... 1- Shipping time to arrive back to our warehouse ... 4- It can take up to 7
    business days for the funds to credit back". The first is the refund's deadline: it
    counts from the return's arrival, which is what trackwatch sees, and it is about the
    refund being processed, which is what staff do. The second counts the whole journey,
    from the customer posting the return to the bank crediting it, so it is not a count
    from arrival at all; reading it as "28 business days after arrival" (about 40 calendar
    days) gave staff their reminder later than either sentence allows."""

    window_days: int | None = Field(
        None, ge=1, le=365, description="returns must reach the store within this many days "
        "of the customer receiving the order (002: 14); shown to staff with the reminder",
    )  # fmt: skip
    refund_days: int = Field(
        28, ge=1, le=120, description="the refund is due this many days after the return "
        "arrives (002: 'up to 28 days from the day we receive the returned goods')",
    )  # fmt: skip
    refund_unit: DayUnit = Field(
        "calendar", description="calendar days, or business days of the store's own calendar "
        "(its origin country's public holidays, in the staff's zone)",
    )  # fmt: skip


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def check_working_week(weekdays: Sequence[Weekday], starts: int, ends: int) -> None:
    """A working week (staff's, a carrier's) must have a day and a day must have hours."""
    if starts >= ends:
        raise ValueError("day_starts must be before day_ends")
    if not weekdays:
        raise ValueError("weekdays must name at least one day")


def weekday_numbers(weekdays: Sequence[Weekday]) -> frozenset[int]:
    """Weekday names as numbers, Monday = 0."""
    return frozenset(WEEKDAYS.index(day) for day in weekdays)


class StaffPolicy(_Part):
    """When staff read chat: non-urgent staff chat waits for these hours, urgent alerts
    bypass them, and a daily digest lists what is still open (004: 'we answer within one
    business day, Monday to Friday')."""

    weekdays: list[Weekday] = Field(
        default_factory=lambda: list(WEEKDAYS[:5]),
        description="004: 'Monday to Friday'",
    )
    day_starts: int = Field(9, ge=0, le=23, description="local hour staff hours begin")
    day_ends: int = Field(17, ge=1, le=24, description="local hour staff hours end")
    timezone: str = Field(
        "", description="IANA zone of the staff; empty: the origin country's main zone"
    )
    digest_at: str = Field(
        "09:00", description="HH:MM (staff zone) of the daily digest of open alerts; empty: none"
    )
    holidays: str = Field(
        "origin", description="public holidays staff take off (chat waits unless urgent, no "
        "digest): 'origin' for the origin country's, a country with an optional subdivision "
        "for another calendar ('US-MA', 'DE-BY'), 'none' to keep staff hours through them",
    )  # fmt: skip

    @field_validator("holidays")
    @classmethod
    def _holiday_calendar(cls, value: str) -> str:
        name = value.strip()
        if name.lower() in ("origin", "none"):
            return name.lower()
        country, _, subdivision = name.upper().partition("-")
        try:
            holidays.country_holidays(country, subdiv=subdivision or None)
        except NotImplementedError:
            raise ValueError(
                f"{value!r} is not a holiday calendar: use 'origin', 'none' or a country code "
                "with an optional subdivision, such as 'US-MA'"
            ) from None
        return name.upper()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if value:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from None
        return value

    @field_validator("digest_at")
    @classmethod
    def _clock(cls, value: str) -> str:
        if value and not _CLOCK.match(value):
            raise ValueError("must be HH:MM on a 24-hour clock, or empty for no digest")
        return value

    @model_validator(mode="after")
    def _hours(self) -> Self:
        check_working_week(self.weekdays, self.day_starts, self.day_ends)
        return self

    def digest_time(self) -> time | None:
        if not self.digest_at:
            return None
        hour, minute = self.digest_at.split(":")
        return time(int(hour), int(minute))

    def days(self) -> frozenset[int]:
        """The staff's working weekdays, Monday = 0."""
        return weekday_numbers(self.weekdays)


class StorePolicy(_Part):
    origin_country: str = Field(
        "US", description="where the store ships from: decides domestic or international"
    )
    pickup: PickupPolicy = Field(default_factory=PickupPolicy)
    stall: StallPolicy = Field(default_factory=StallPolicy)
    late: LatePolicy = Field(default_factory=LatePolicy)
    promise: PromisePolicy = Field(default_factory=PromisePolicy)
    delivered: DeliveredPolicy = Field(default_factory=DeliveredPolicy)
    exceptions: ExceptionsPolicy = Field(default_factory=ExceptionsPolicy)
    lost: LostPolicy = Field(default_factory=LostPolicy)
    expiry: ExpiryPolicy = Field(default_factory=ExpiryPolicy)
    returns: ReturnsPolicy = Field(default_factory=ReturnsPolicy)
    staff: StaffPolicy = Field(default_factory=StaffPolicy)
    remedies: RemediesPolicy = Field(default_factory=RemediesPolicy)
    promises: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="the settings the store's own page gives, each with the page's words: "
        "promises.stall.domestic_business_days = '...'; any other number is an operator's",
    )

    def promised(self, key: str) -> str | None:
        """The store's own words for the setting `key` ("stall.domestic_business_days"), or
        None when the store promised nothing by it (an operator's setting)."""
        section, _, name = key.partition(".")
        words = self.promises.get(section, {}).get(name, "").strip()
        return words or None

    def staff_zone(self) -> ZoneInfo:
        return (
            ZoneInfo(self.staff.timezone) if self.staff.timezone else zone_for(self.origin_country)
        )

    @field_validator("origin_country")
    @classmethod
    def _country(cls, value: str) -> str:
        code = value.strip().upper()
        if len(code) != 2 or not code.isalpha():
            raise ValueError("must be a two-letter ISO country code such as US or GB")
        return code

    @model_validator(mode="after")
    def _lost_after_stall(self) -> Self:
        pairs = (
            ("domestic_business_days", self.lost.domestic_business_days,
             self.stall.domestic_business_days),
            ("international_business_days", self.lost.international_business_days,
             self.stall.international_business_days),
        )  # fmt: skip
        for key, lost, stall in pairs:
            if lost <= stall:
                raise ValueError(
                    f"lost.{key} ({lost}) must be greater than stall.{key} ({stall}): a parcel "
                    "is stalled before it is lost"
                )
        return self

    @model_validator(mode="after")
    def _promises_name_settings(self) -> Self:
        sections = {
            name: set(type(part).model_fields)
            for name in type(self).model_fields
            if isinstance(part := getattr(self, name), _Part)
        }
        problems = promise_problems(self.promises, sections)
        for section, entries in self.promises.items():
            for key in entries:
                if (
                    key in sections.get(section, set())
                    and getattr(getattr(self, section), key) is None
                ):
                    problems.append(f"promises.{section}.{key}: a promise of a setting that "
                                    "is not set")  # fmt: skip
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _deadlines_before_polling_stops(self) -> Self:
        """Stall and lost deadlines run from the last scan, as the silent expiry does; the
        pickup deadline from the label, as the expiry of a never-scanned number does. Each
        must fall before its expiry in the worst case (trackwatch.worst_case): domestic in
        the origin country's calendar, international in any country's. Late runs from the
        order's dates, not from a silence: on a silent parcel lost supersedes it."""
        origin, silent, never = self.origin_country, self.expiry.silent_after_days, \
            self.expiry.after_days  # fmt: skip
        problems = race_problems([
            ("stall.domestic_business_days", self.stall.domestic_business_days, origin,
             "expiry.silent_after_days", silent),
            ("stall.international_business_days", self.stall.international_business_days,
             None, "expiry.silent_after_days", silent),
            ("stall.customs_business_days", self.stall.customs_business_days, None,
             "expiry.silent_after_days", silent),
            ("lost.domestic_business_days", self.lost.domestic_business_days, origin,
             "expiry.silent_after_days", silent),
            ("lost.international_business_days", self.lost.international_business_days,
             None, "expiry.silent_after_days", silent),
            ("pickup.business_days", self.pickup.business_days, None, "expiry.after_days",
             never),
        ])  # fmt: skip
        if problems:
            raise ValueError("; ".join(problems))
        return self
