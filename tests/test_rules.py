"""Each rule, table-driven from shared/POLICY.md's rows (the row is named in each test),
across calendars (weekends, federal holidays, Thanksgiving week, a Monday holiday) and time
zones (New York, Honolulu, Berlin). Dates are 2026; Thanksgiving is Thursday 26 November."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rules import ShipmentView
from rules.promise import eta_for
from tests.rulekit import (
    BERLIN,
    BY_NAME,
    HONOLULU,
    NY,
    NYC,
    at,
    ev,
    fires,
    first_fires,
    policy,
    view,
)
from trackwatch.model import (
    Audience,
    DeliveryLocation,
    Direction,
    ExceptionKind,
    Place,
    Severity,
    Status,
    TrackingEvent,
)
from trackwatch.policy import StorePolicy

CHICAGO = Place(city="Chicago", state="IL", postal_code="60601", country="US")
BERLIN_HUB = Place(city="Berlin", postal_code="10115", country="DE")
LEIPZIG = Place(city="Leipzig", postal_code="04109", country="DE")
LABEL = Status.LABEL_CREATED


# --- label made, no carrier scan (004, 002) --------------------------------------------------


@pytest.mark.parametrize(
    ("carrier", "label_at", "due"),
    [
        # Mon label: Tue and Wed are the two business days.
        ("ups", at(11, 23, 9), at(11, 26)),
        # Wed label: Thanksgiving does not count, nor the weekend: Fri and Mon.
        ("ups", at(11, 25, 9), at(12, 1)),
        # Fri label before Martin Luther King Day (Mon 19 Jan): UPS works it, USPS does not.
        ("ups", at(1, 16, 15), at(1, 21)),
        ("usps", at(1, 16, 15), at(1, 22)),
    ],
)
def test_not_picked_up_counts_the_carriers_business_days(
    carrier: str, label_at: datetime, due: datetime
) -> None:
    number = {"ups": "1Z5R89390357567127", "usps": "9400111206206406260787"}[carrier]
    v = view([ev(label_at, LABEL, "Label created")], carrier=carrier, tracking_number=number,
             shipped_at=label_at)  # fmt: skip
    assert first_fires("not_picked_up", v) == due
    finding = fires("not_picked_up", v, due)
    assert finding is not None and finding.audiences == (Audience.STAFF,)  # customer not told
    assert finding.explanation["threshold"] == "2 business days (pickup.business_days)"
    assert finding.explanation["policy"] == "test policy"


def test_not_picked_up_explains_the_skipped_holiday_and_stops_at_the_first_scan() -> None:
    label = ev(at(11, 25, 9), LABEL, "Label created")
    v = view([label], shipped_at=at(11, 25, 9))
    finding = fires("not_picked_up", v, at(12, 1))
    assert finding is not None
    assert finding.explanation["holidays skipped"] == "2026-11-26 Thanksgiving Day"
    assert finding.explanation["weekend days skipped"] == "2"
    scanned = view([label, ev(at(11, 30, 17), Status.IN_TRANSIT, "Pickup scan")])
    assert fires("not_picked_up", scanned, at(12, 5)) is None


def test_not_picked_up_waits_for_a_longer_store_setting() -> None:
    v = view([], shipped_at=at(11, 23, 9), pol=policy(pickup={"business_days": 3}))
    assert first_fires("not_picked_up", v) == at(11, 28)  # Tue, Wed, Fri


# --- no tracking update (004: 3 business days; 002: 5 and an investigation) ----------------


def moving(last: datetime, *, place: Place = CHICAGO, description: str = "Departed facility"
           ) -> list[TrackingEvent]:  # fmt: skip
    return [ev(at(11, 20, 9), LABEL, "Label created", place),
            ev(last, Status.IN_TRANSIT, description, place)]  # fmt: skip


@pytest.mark.parametrize(
    ("days", "last", "due"),
    [
        (3, at(11, 23, 18), at(11, 28)),  # Tue, Wed, (Thanksgiving), Fri
        (3, at(11, 20, 18), at(11, 26)),  # Mon, Tue, Wed: fires on Thanksgiving itself
        (5, at(11, 23, 18), at(12, 2)),  # Tue, Wed, Fri, Mon, Tue
        (3, at(12, 24, 10), at(12, 31)),  # Christmas and a weekend skipped: 28, 29, 30
    ],
)
def test_stalled_fires_after_n_business_days_of_silence(
    days: int, last: datetime, due: datetime
) -> None:
    promise = f"If your tracking hasn't updated in more than {days} business days"
    v = view(moving(last), policy(stall={"domestic_business_days": days},
                                  promises={"stall": {"domestic_business_days": promise}}))  # fmt: skip
    assert first_fires("stalled", v) == due
    finding = fires("stalled", v, due)
    assert finding is not None
    assert set(finding.audiences) == {Audience.STAFF, Audience.CUSTOMER}  # the store's promise
    assert promise in finding.explanation["set by"] and finding.facts["days"] == str(days)
    assert finding.explanation["business days elapsed"] == str(days)
    assert (
        finding.explanation["threshold"] == f"{days} business days (stall.domestic_business_days)"
    )
    assert finding.needs_fresh_data and finding.episode == last.astimezone(UTC).isoformat()


def test_stalled_staff_action_asks_for_an_investigation_when_the_store_does() -> None:
    pol = policy(stall={"domestic_business_days": 5, "investigation": True})
    finding = fires("stalled", view(moving(at(11, 23, 18)), pol), at(12, 2))
    assert finding is not None and "investigation" in finding.action
    plain = fires("stalled", view(moving(at(11, 23, 18))), at(12, 2))
    assert plain is not None and "trace" in plain.action


def test_stalled_counts_local_days_in_hawaii() -> None:
    # Last scan Monday 20:00 in Honolulu (Tuesday 06:00 UTC). Local days decide.
    honolulu = Place(city="Honolulu", state="HI", postal_code="96813", country="US")
    last = at(11, 23, 20, tz=HONOLULU)
    v = view(moving(last, place=honolulu), destination_postal_code="96813")
    due = first_fires("stalled", v)
    assert due == at(11, 28, tz=HONOLULU)  # Saturday 00:00 HST, 10:00 UTC
    assert due is not None and due.astimezone(NY).hour == 5


# --- international leg (003): longer while in customs or abroad; customs hold on its own -------


INTL = policy(stall={"international_business_days": 5, "customs_business_days": 10})


@pytest.mark.parametrize(
    ("last_place", "description", "threshold", "phase"),
    [
        (CHICAGO, "Departed export facility", "stall.customs_business_days", "customs / abroad"),
        (BERLIN_HUB, "Customs clearance processing", "stall.customs_business_days",
         "customs / abroad"),
        (LEIPZIG, "Arrived at delivery facility", "stall.international_business_days",
         "international"),
    ],
)  # fmt: skip
def test_stall_threshold_follows_the_parcels_phase(
    last_place: Place, description: str, threshold: str, phase: str
) -> None:
    last = at(12, 1, 10, tz=BERLIN)
    v = view(moving(last, place=last_place, description=description), INTL, carrier="dhl",
             tracking_number="3318810025", destination_country="DE",
             destination_postal_code="10115")  # fmt: skip
    days = 10 if "customs" in threshold else 5
    due = v.calendar.add_business_days(last, days)
    assert first_fires("stalled", v) == due
    finding = fires("stalled", v, due)
    assert finding is not None and finding.explanation["phase"] == phase
    assert finding.explanation["threshold"] == f"{days} business days ({threshold})"


def test_german_holidays_count_for_a_parcel_to_germany() -> None:
    # Last scan Wed 23 Dec in Leipzig; 5 business days: 24, 28, 29, 30, 31 (25 Dec skipped).
    last = at(12, 23, 10, tz=BERLIN)
    v = view(moving(last, place=LEIPZIG), INTL, carrier="dhl", tracking_number="3318810025",
             destination_country="DE", destination_postal_code="10115")  # fmt: skip
    assert first_fires("stalled", v) == at(1, 1, tz=BERLIN, year=2027)
    finding = fires("stalled", v, at(1, 1, tz=BERLIN, year=2027))
    assert finding is not None and "2026-12-25" in finding.explanation["holidays skipped"]
    assert "Europe/Berlin" in finding.explanation["calendar"]


def test_a_customs_hold_is_its_own_exception_and_supersedes_the_stall() -> None:
    hold = ev(at(12, 1, 10, tz=BERLIN), Status.EXCEPTION, "Held by customs", BERLIN_HUB,
              ExceptionKind.CUSTOMS_HOLD)  # fmt: skip
    v = view([*moving(at(11, 27, 10)), hold], INTL, carrier="dhl", tracking_number="3318810025",
             destination_country="DE", destination_postal_code="10115")  # fmt: skip
    finding = fires("exceptions", v, at(12, 1, 12, tz=BERLIN))
    assert finding is not None and finding.facts["kind"] == "customs_hold"
    # What customs ask of a recipient is the store's to say (remedies.customs_hold).
    assert finding.action.startswith("Ask the carrier what customs need")
    assert "only the recipient" not in finding.action.lower()
    assert "stalled" in finding.supersedes


# --- late (004: ETA + 1 business day to the customer, + 48 h to staff) ------------------------


def late_view(eta: datetime, **fields: Any) -> ShipmentView:
    return view(moving(at(11, 27, 9)), eta=eta, **fields)


def test_late_tells_the_customer_a_business_day_after_the_eta_then_staff_at_48_hours() -> None:
    eta = at(12, 1)  # carriers' "Monday 30 Nov" ETA: the midnight that ends it
    v = late_view(eta)
    assert first_fires("late", v) == at(12, 2)  # Tuesday has passed
    told = fires("late", v, at(12, 2))
    assert told is not None and told.audiences == (Audience.CUSTOMER,)
    assert not told.escalated and told.facts["due"] == "2026-11-30"
    escalated = fires("late", v, at(12, 3))
    assert escalated is not None and escalated.escalated
    assert set(escalated.audiences) == {Audience.CUSTOMER, Audience.STAFF}
    assert escalated.episode == told.episode  # one alert, two stages


def test_late_before_a_weekend_escalates_to_staff_before_the_customer_is_told() -> None:
    eta = at(12, 5)  # Friday 4 Dec: staff at Sunday midnight, the customer after Monday
    v = late_view(eta)
    early = fires("late", v, at(12, 7))
    assert early is not None and early.audiences == (Audience.STAFF,)
    later = fires("late", v, at(12, 8))
    assert later is not None and set(later.audiences) == {Audience.STAFF, Audience.CUSTOMER}


def test_late_counts_the_grace_day_in_hawaii() -> None:
    eta = at(12, 1, tz=HONOLULU)  # Monday 30 Nov in Honolulu
    v = late_view(eta, destination_postal_code="96813")
    assert first_fires("late", v) == at(12, 2, tz=HONOLULU)


def test_late_uses_the_thanksgiving_calendar_for_the_grace_day() -> None:
    v = late_view(at(11, 26))  # due Wednesday 25 Nov; Thanksgiving is no grace day
    assert first_fires("late", v) == at(11, 28)


def test_a_delivered_parcel_is_never_late() -> None:
    events = [*moving(at(11, 27, 9)), ev(at(12, 8, 12), Status.DELIVERED, "Delivered")]
    assert fires("late", view(events, eta=at(12, 1)), at(12, 20)) is None


# --- delivery promise (002 and 004) -----------------------------------------------------------


ART = policy(
    origin_country="GB",
    promise={"processing_business_days": 3, "ships_next_day": True,
             "transit": [{"regions": ["*"], "min_days": 7, "max_days": 16, "unit": "calendar"},
                         {"regions": ["US"], "min_days": 18, "max_days": 24,
                          "unit": "calendar"}],
             "peak_seasons": [{"start": "11-20", "end": "01-05", "extra_days": 5}]},
)  # fmt: skip
TOYS = policy(
    promise={"processing_business_days": 5,
             "transit": [{"regions": ["domestic"], "min_days": 4, "max_days": 7}]},
)  # fmt: skip


@pytest.mark.parametrize(
    ("pol", "fields", "eta"),
    [
        # 002 to the US, ordered Mon 23 Nov: processing Tue-Thu, shipped Fri 27, 24 days,
        # +5 in the peak season: due Sat 26 Dec.
        (ART, {"ordered_at": at(11, 23, 10)}, at(12, 27)),
        # the same store to Germany: 16 days + 5.
        (ART, {"ordered_at": at(11, 23, 10), "destination_country": "DE",
               "destination_postal_code": "10115", "carrier": "dhl",
               "tracking_number": "3318810025"}, at(12, 19, tz=BERLIN)),
        # outside the peak season, from the ship date (no order date known).
        (ART, {"shipped_at": at(3, 2, 10)}, at(3, 27)),
        # 004, ordered Mon 23 Nov: 5 business days (Thanksgiving skipped) to Tue 1 Dec,
        # then 7 business days to Thu 10 Dec.
        (TOYS, {"ordered_at": at(11, 23, 10)}, at(12, 11)),
    ],
)  # fmt: skip
def test_without_a_carrier_eta_the_store_promise_is_the_eta(
    pol: StorePolicy, fields: dict[str, Any], eta: datetime
) -> None:
    v = view([], pol, **fields)
    promised = eta_for(v)
    assert promised is not None and promised.at == eta
    assert promised.source == "the store's delivery promise"


def test_the_carrier_eta_wins_over_the_promise_and_the_order_date_over_both() -> None:
    carrier = eta_for(view([], TOYS, eta=at(12, 1), promised_by=at(12, 4)))
    assert carrier is not None and carrier.at == at(12, 1) and "UPS" in carrier.source
    order = eta_for(view([], TOYS, promised_by=at(12, 4)))
    assert order is not None and order.at == at(12, 4)


def test_late_on_the_promise_explains_it() -> None:
    v = view(moving(at(12, 1, 9)), TOYS, ordered_at=at(11, 23, 10))
    finding = fires("late", v, at(12, 15))
    assert finding is not None
    assert "store's delivery promise" in finding.explanation["ETA"]
    assert "4-7 business days" in finding.explanation["transit window"]


# --- marked delivered, not received (000, 004) ------------------------------------------------


DOORSTEP = Place(city="New York", postal_code="10001", country="US")


def delivered(location: DeliveryLocation | None = DeliveryLocation.MAILBOX,
              place: Place = DOORSTEP) -> list[TrackingEvent]:  # fmt: skip
    return [*moving(at(11, 27, 9)),
            ev(at(11, 30, 14), Status.DELIVERED, "Delivered", place, location=location)]  # fmt: skip


def test_a_missing_report_waits_24_hours_then_asks_both_sides() -> None:
    # Delivered Mon 30 Nov 14:00, reported the next morning: a day after the scan.
    v = view(delivered(), missing_reported_at=at(12, 1, 10), missing_reported_by="customer")
    assert first_fires("delivered_not_received", v) == at(12, 1, 14)
    finding = fires("delivered_not_received", v, at(12, 1, 14))
    assert finding is not None and set(finding.audiences) == {Audience.CUSTOMER, Audience.STAFF}
    assert "claim" in finding.action and "risky_delivery" in finding.supersedes
    assert fires("delivered_not_received", view(delivered()), at(12, 20)) is None


@pytest.mark.parametrize(
    ("location", "place", "risky"),
    [
        (DeliveryLocation.FRONT_DOOR, None, "left at front door"),
        (DeliveryLocation.MAILROOM, None, "left at mailroom"),
        (DeliveryLocation.PARCEL_LOCKER, None, "left at parcel locker"),
        (DeliveryLocation.NEIGHBOUR, None, "left at neighbour"),
        (DeliveryLocation.MAILBOX, Place(city="Newark", country="US"),
         "scanned in Newark, not New York"),
        (DeliveryLocation.MAILBOX, Place(city="New York", postal_code="10002", country="US"),
         "scanned at postal code 10002, not 10001"),
        (DeliveryLocation.MAILBOX, None, None),
        (DeliveryLocation.WITH_INDIVIDUAL, Place(city="NEW YORK", postal_code="10001-2345",
                                                 country="US"), None),
    ],
)  # fmt: skip
def test_risky_deliveries_are_flagged_to_staff(
    location: DeliveryLocation, place: Place | None, risky: str | None
) -> None:
    events = delivered(location, place or DOORSTEP)
    v = view(events, destination_city="New York")
    finding = fires("risky_delivery", v, at(11, 30, 15))
    if risky is None:
        assert finding is None
        return
    assert finding is not None and finding.audiences == (Audience.STAFF,)
    assert risky in finding.explanation["risks"]


@pytest.mark.parametrize(
    ("scanned", "city", "postal", "country"),
    [
        # Issue 16 finding 7: DHL's "Oderweg 2, AMSTERDAM" stored as city "Oderweg 2"; the
        # postal codes agree, so the city does not decide.
        (Place(city="Oderweg 2", postal_code="1043 AG", country="NL"), "Amsterdam", "1043AG", "NL"),
        (Place(city="Newark", postal_code="10001-2345", country="US"), "New York", "10001", "US"),
        (Place(city="London", postal_code="sw1a 1aa", country="GB"), "London", "SW1A 1AA", "GB"),
        # Without a postal code on both sides, spellings of one city are one city.
        (Place(city="ST. LOUIS", country="US"), "Saint Louis", "", "US"),
        (Place(city="Saint-Étienne", postal_code="42000", country="FR"), "St Etienne", "", "FR"),
        (Place(city="Oderweg 2, AMSTERDAM", country="NL"), "Amsterdam", "", "NL"),
        (Place(city="Whittier", state="CA", country="US"), "Whittier, CA", "", "US"),
        (Place(city="Fort Worth", country="US"), "Ft. Worth", "", "US"),
        (Place(city="Malmö", country="SE"), "MALMO", "", "SE"),
    ],
)  # fmt: skip
def test_one_place_spelled_two_ways_is_not_a_risky_delivery(
    scanned: Place, city: str, postal: str, country: str
) -> None:
    events = delivered(DeliveryLocation.WITH_INDIVIDUAL, scanned)
    v = view(events, destination_city=city, destination_postal_code=postal,
             destination_country=country)  # fmt: skip
    assert fires("risky_delivery", v, at(11, 30, 15)) is None


def test_postal_codes_decide_over_cities_both_ways() -> None:
    same_city = Place(city="New York", postal_code="10002", country="US")
    v = view(delivered(DeliveryLocation.WITH_INDIVIDUAL, same_city), destination_city="New York")
    finding = fires("risky_delivery", v, at(11, 30, 15))
    assert finding is not None and finding.explanation["risks"] == (
        "scanned at postal code 10002, not 10001"
    )


def test_a_store_can_trust_doorsteps() -> None:
    pol = policy(delivered={"risky_locations": ["mailroom"]})
    v = view(delivered(DeliveryLocation.FRONT_DOOR), pol)
    assert fires("risky_delivery", v, at(11, 30, 15)) is None


# --- wrong address (000) and cannot be delivered (003) ----------------------------------------


def test_an_address_problem_is_urgent_and_says_when_the_parcel_goes_back() -> None:
    problem = ev(at(11, 30, 11), Status.EXCEPTION, "Incorrect address", NYC,
                 ExceptionKind.ADDRESS_ISSUE)  # fmt: skip
    week = policy(promises={"exceptions": {"address_hold_days": "It might be held for a week "
                                                                "before it's sent back."}})  # fmt: skip
    finding = fires("exceptions", view([*moving(at(11, 27, 9)), problem], week), at(11, 30, 11))
    assert finding is not None and finding.severity is Severity.URGENT
    assert set(finding.audiences) == {Audience.CUSTOMER, Audience.STAFF}
    assert finding.facts["goes_back"] == "2026-12-07"  # about a week (000)
    assert {"stalled", "late"} <= finding.supersedes


def test_a_return_to_sender_sticks_while_the_parcel_travels_back() -> None:
    back = ev(at(12, 1, 9), Status.EXCEPTION, "Returned to sender", NYC,
              ExceptionKind.RETURNED_TO_SENDER)  # fmt: skip
    later = ev(at(12, 2, 9), Status.IN_TRANSIT, "Departed facility", CHICAGO)
    finding = fires("exceptions", view([*moving(at(11, 27, 9)), back, later]), at(12, 3))
    assert finding is not None and finding.facts["kind"] == "returned_to_sender"
    assert finding.severity is Severity.URGENT
    assert finding.episode == f"returned_to_sender@{back.occurred_at.isoformat()}"


@pytest.mark.parametrize(
    ("status", "exception", "kind", "audiences"),
    [
        (Status.EXCEPTION, ExceptionKind.DAMAGED, "damaged", {Audience.CUSTOMER, Audience.STAFF}),
        (Status.EXCEPTION, None, "undeliverable", {Audience.CUSTOMER, Audience.STAFF}),
        (Status.DELIVERY_ATTEMPTED, None, "delivery_attempted", {Audience.CUSTOMER}),
        (Status.AVAILABLE_FOR_PICKUP, None, "available_for_pickup", {Audience.CUSTOMER}),
    ],
)  # fmt: skip
def test_each_exception_kind(
    status: Status, exception: ExceptionKind | None, kind: str, audiences: set[Audience]
) -> None:
    scan = ev(at(11, 30, 11), status, "Exception", NYC, exception)
    v = view([*moving(at(11, 27, 9)), scan])
    finding = fires("exceptions", v, at(11, 30, 11))
    assert finding is not None and finding.facts["kind"] == kind
    assert set(finding.audiences) == audiences
    if kind in {"damaged", "undeliverable"}:  # no remedy in the default policy: none offered
        assert f"offers nothing for this (remedies.{kind})" in finding.action
        assert "refund" not in finding.action.replace("offers nothing", "")
    if kind == "available_for_pickup":  # an operator's hold time: staff see it, not customers
        assert finding.facts["goes_back"] == ""
        assert "2026-12-07" in finding.explanation["goes back around"]
    moved_on = view([*v.events, ev(at(11, 30, 15), Status.OUT_FOR_DELIVERY, "Out")])
    assert fires("exceptions", moved_on, at(11, 30, 16)) is None  # clears when it moves


# --- lost (002) --------------------------------------------------------------------------------


def test_the_carrier_saying_lost_is_urgent_and_supersedes_stall_and_late() -> None:
    lost = ev(at(12, 1, 9), Status.EXCEPTION, "Sent to lost and found", CHICAGO,
              ExceptionKind.LOST)  # fmt: skip
    finding = fires("lost", view([*moving(at(11, 27, 9)), lost]), at(12, 1, 9))
    assert finding is not None and finding.severity is Severity.URGENT
    assert set(finding.audiences) == {Audience.STAFF, Audience.CUSTOMER}
    assert "lost-parcel claim" in finding.action
    assert {"stalled", "late", "not_picked_up"} <= finding.supersedes
    assert not finding.needs_fresh_data  # the carrier said it


def test_a_long_silence_is_lost_domestic_and_international() -> None:
    last = at(11, 23, 18)
    domestic = view(moving(last))
    due = first_fires("lost", domestic)
    assert due == domestic.calendar.add_business_days(last, 10)
    abroad = view(moving(last), policy(origin_country="GB"))
    assert first_fires("lost", abroad) == abroad.calendar.add_business_days(last, 20)


# --- claims window (001: 3 business days; 004: 30 days) ---------------------------------------


@pytest.mark.parametrize(
    ("window", "words", "last_day", "closes"),
    [
        ({"claim_window_days": 3, "claim_window_unit": "business"}, "3 business days",
         "2026-12-03", at(12, 4)),
        ({"claim_window_days": 30, "claim_window_unit": "calendar"}, "30 days", "2026-12-30",
         at(12, 31)),
    ],
)  # fmt: skip
def test_the_delivered_check_in_states_the_claim_window_and_closes_with_it(
    window: dict[str, object], words: str, last_day: str, closes: datetime
) -> None:
    promised = {"delivered": {"claim_window_days": "within the window"}}
    v = view(delivered(), policy(delivered=window, promises=promised))
    finding = fires("delivered", v, at(11, 30, 14))
    assert finding is not None and finding.audiences == (Audience.CUSTOMER,)
    assert (finding.facts["claim_window"], finding.facts["claim_by"]) == (words, last_day)
    assert fires("delivered", v, closes - timedelta(minutes=1)) is not None
    assert fires("delivered", v, closes) is None


# --- returns (002) ----------------------------------------------------------------------------


def test_a_delivered_return_reminds_staff_of_the_refund_deadline() -> None:
    arrived = ev(at(11, 30, 11), Status.DELIVERED, "Delivered", CHICAGO)
    v = view([*moving(at(11, 27, 9)), arrived], direction=Direction.RETURN)
    finding = fires("returns", v, at(11, 30, 11))
    assert finding is not None and finding.audiences == (Audience.STAFF,)
    refund_by = at(12, 29)  # 28 days after Mon 30 Nov: the end of Mon 28 Dec
    assert "end of 2026-12-28" in finding.explanation["refund deadline"]
    assert fires("returns", v, refund_by - timedelta(minutes=1)).escalated is False  # type: ignore[union-attr]
    overdue = fires("returns", v, refund_by)
    assert overdue is not None and overdue.escalated and overdue.severity is Severity.WARNING
    # Only returns are judged by it; the monitor gives outbound parcels the other rules.
    assert BY_NAME["returns"].directions == {Direction.RETURN}
    assert all(r.directions == {Direction.OUTBOUND} for n, r in BY_NAME.items() if n != "returns")


@pytest.mark.parametrize("country", ["US", "USA", "United States", "", "us"])
def test_a_domestic_parcel_stays_domestic_whatever_the_carrier_calls_its_country(
    country: str,
) -> None:
    place = Place(city="Chicago", country=country or None)
    v = view(moving(at(11, 23, 18), place=place))
    assert not v.international
    assert first_fires("stalled", v) == at(11, 28)  # the domestic 3, not the international 5


def test_a_risky_delivery_is_a_heads_up_for_two_days_not_the_claim_window() -> None:
    """It used to stay open (and counted) for the whole claim window; the customer's report,
    if any, comes within a day or two and opens its own case."""
    events = delivered(DeliveryLocation.FRONT_DOOR, DOORSTEP)
    v = view(events, destination_city="New York")
    scanned = events[-1].occurred_at
    assert fires("risky_delivery", v, scanned + timedelta(hours=47)) is not None
    assert fires("risky_delivery", v, scanned + timedelta(hours=48)) is None
    assert scanned + timedelta(hours=48) in BY_NAME["risky_delivery"].deadlines(v)
