"""Issue 17: a customer is told only what the store promised, in the store's own terms, and
every deadline a policy sets comes before polling stops. Dates are 2026 (Thanksgiving is
Thursday 26 November); each test names the finding it reproduces."""

from __future__ import annotations

import re
import tomllib
import warnings
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest

from rules import ShipmentView
from tests.rulekit import BY_NAME, at, ev, fires, first_fires, view
from tests.store_messages import POLICIES, SEEDS, STORES, page, plain
from trackwatch import worst_case
from trackwatch.calendar import BusinessCalendar
from trackwatch.cli import main
from trackwatch.config import ConfigError, StoreSettings, load_settings, read_policy_file
from trackwatch.model import (
    Audience,
    DeliveryLocation,
    Direction,
    ExceptionKind,
    Finding,
    Place,
    Status,
    TrackingEvent,
)
from trackwatch.notify.render import Renderer
from trackwatch.policy import StorePolicy
from trackwatch.worst_case import YEARS, worst_calendar_days

SHARED_SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"
KATHMANDU = Place(city="Kathmandu", postal_code="44600", country="NP")
CHICAGO = Place(city="Chicago", state="IL", postal_code="60601", country="US")
LONDON = ZoneInfo("Europe/London")


def shipped(stem: str) -> StorePolicy:
    """A shipped policy, as the daemon loads it."""
    return StorePolicy.model_validate(read_policy_file(POLICIES / f"{stem}.toml"))


def moving(last: datetime, place: Place = CHICAGO) -> list[TrackingEvent]:
    return [ev(last - timedelta(hours=9), Status.LABEL_CREATED, "Label", place),
            ev(last, Status.IN_TRANSIT, "Departed facility", place)]  # fmt: skip


def render(finding: Finding, v: ShipmentView, audience: Audience = Audience.CUSTOMER,
           event: str = "opened", **extra: object) -> str:  # fmt: skip
    store = StoreSettings(name="Shop", policy=v.policy)
    context = {"shipment": v.shipment, "store": store, "alert": finding, "report_url": None}
    return Renderer().render("shop", finding.rule, audience, event, {**context, **extra})[1]


# --- finding 1: lost must fire before polling stops -------------------------------------------


def silent_abroad(pol: StorePolicy, last: datetime) -> ShipmentView:
    """A parcel last scanned in Nepal, bound there, then silent."""
    return view(moving(last, KATHMANDU), pol, carrier="dhl", tracking_number="3318810025",
                destination_country="NP", destination_postal_code="44600")  # fmt: skip


@pytest.mark.parametrize("stem", [*sorted(STORES), "(default)"])
@pytest.mark.parametrize(
    "last",
    [at(10, 9, 12, tz=ZoneInfo("Asia/Kathmandu")),  # Dashain and Tihar close Nepal for weeks
     at(12, 18, 12, tz=ZoneInfo("Asia/Kathmandu"))],
)  # fmt: skip
def test_a_silent_parcel_abroad_is_declared_lost_before_polling_stops(
    stem: str, last: datetime
) -> None:
    """Finding 1: 25 business days (art prints, cross-border cases) outlasted the 30-day
    expiry, and the default's 20 did when holidays fell in the window."""
    pol = StorePolicy() if stem == "(default)" else shipped(stem)
    v = silent_abroad(pol, last)
    lost, expired = BY_NAME["lost"].deadline(v), BY_NAME["expired"].deadline(v)
    assert lost is not None and expired is not None
    assert lost < expired - timedelta(hours=12), (stem, lost, expired)
    assert first_fires("lost", v) == lost
    assert fires("expired", v, lost) is None  # still polled when lost is due


def test_a_policy_whose_lost_deadline_outlasts_polling_is_refused_naming_both_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Finding 1: nothing checked the race; now check-config refuses it and says what to
    change, with the worst case computed from the calendars."""
    path = tmp_path / "trackwatch.toml"
    path.write_text('[stores.shop]\nname = "Shop"\n[stores.shop.policy.lost]\n'
                    "international_business_days = 25\n[stores.shop.policy.expiry]\n"
                    "silent_after_days = 30\n")  # fmt: skip
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    (problem,) = err.value.problems
    worst = worst_calendar_days(25, None)
    assert problem.startswith("stores.shop.policy: ")
    assert f"lost.international_business_days (25 business days) can take {worst} calendar " \
        "days abroad" in problem  # fmt: skip
    assert f"raise expiry.silent_after_days to at least {worst + 1}" in problem
    assert main(["check-config", str(path)]) == 2
    assert "lost.international_business_days" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("section", "keys", "limit"),
    [
        # US: 40 business days can take 63 calendar days (the default expiry is 60).
        ("[stores.shop.policy.stall]\ndomestic_business_days = 20\n"
         "[stores.shop.policy.lost]\ndomestic_business_days = 40", "lost.domestic_business_days",
         "expiry.silent_after_days"),
        ("[stores.shop.policy.pickup]\nbusiness_days = 10\n[stores.shop.policy.expiry]\n"
         "after_days = 14", "pickup.business_days", "expiry.after_days"),
        # Anywhere, 35 business days can take 67 calendar days.
        ("[stores.shop.policy.stall]\ncustoms_business_days = 35\n[stores.shop.policy.expiry]\n"
         "silent_after_days = 66", "stall.customs_business_days", "expiry.silent_after_days"),
    ],
)  # fmt: skip
def test_every_silence_deadline_is_checked_against_its_expiry(
    tmp_path: Path, section: str, keys: str, limit: str
) -> None:
    path = tmp_path / "trackwatch.toml"
    path.write_text(f'[stores.shop]\nname = "Shop"\n{section}\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert keys in err.value.problems[0] and f"raise {limit}" in err.value.problems[0]


@pytest.mark.parametrize(("country", "carrier", "zone"),
                         [("US", "usps", "America/New_York"), ("DE", "dhl", "Europe/Berlin"),
                          ("NP", "dhl", "Asia/Kathmandu")])  # fmt: skip
@pytest.mark.parametrize("n", [1, 5, 20])
def test_the_worst_case_is_the_longest_span_the_calendar_really_has(
    country: str, carrier: str, zone: str, n: int
) -> None:
    """Not a guess: every start day of the years counted, as the rules count business days
    (from a scan at the start of a day to the end of the n-th business day after it). Three
    of the years, day by day."""
    years = range(YEARS.start, YEARS.start + 3)
    calendar = BusinessCalendar(country, ZoneInfo(zone), carrier)
    worst = worst_calendar_days(n, country, years)
    day, last = date(years.start, 1, 1), date(years.stop - 1, 11, 30)
    spans = []
    while day <= last:
        end = calendar.add_business_days(calendar.start_of(day), n)
        spans.append((calendar.local_date(end) - day).days)
        day += timedelta(days=1)
    assert max(spans) <= worst and worst in spans
    assert worst_calendar_days(n, None, years) >= worst  # anywhere is at least as long
    assert worst_calendar_days(n, country) >= worst  # and over every year counted


def test_the_years_counted_are_years_every_countrys_calendar_has() -> None:
    """A fixed span, within the years the holiday calendars cover (past them, the package
    warns and counts no holidays: a worst case too short)."""
    assert YEARS.start <= 2026 and len(YEARS) >= 5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for country in worst_case._countries():
            holidays.country_holidays(country, years=YEARS)


def test_a_configurations_validity_does_not_change_with_the_wall_clock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The years counted started at date.today(): a policy accepted this year could be
    refused, or a racing one accepted, in another (25 business days abroad: 53 calendar days
    counted from 2026, 50 from 2033). They are a fixed span now."""
    numbers = (5, 15, 25)
    expected = {n: worst_case.ABROAD[n] for n in numbers}

    class Later(date):
        @classmethod
        def today(cls) -> Later:
            return cls(2033, 6, 1)

    monkeypatch.setattr(worst_case, "date", Later)
    worst_case._business_days.cache_clear()
    measured = worst_case.measure_abroad(max(numbers) + 1)
    assert {n: measured[n] for n in numbers} == expected
    worst_case._business_days.cache_clear()


def test_the_recorded_worst_case_abroad_is_the_one_every_countrys_calendar_gives() -> None:
    """The daemon reads the worst case abroad from a table rather than loading every
    country's calendar (memory it would keep). When the `holidays` package's calendars
    change, this fails: record `worst_case.measure_abroad()` as `worst_case.ABROAD`."""
    assert worst_case.measure_abroad() == worst_case.ABROAD
    assert worst_calendar_days(25, None) == worst_case.ABROAD[25]
    assert worst_calendar_days(len(worst_case.ABROAD), None) > worst_case.ABROAD[-1]


# --- finding 3: remedies the stores never offered --------------------------------------------


OFFERS = ("refund", "replacement", "reship", "resend", "sent again", "money back")


def customer_findings(pol: StorePolicy) -> list[tuple[Finding, ShipmentView]]:
    """A finding of every customer message kind a carrier can cause, under `pol`."""
    base = moving(at(11, 23, 18))
    out = []
    for exception in (ExceptionKind.LOST, ExceptionKind.ADDRESS_ISSUE, ExceptionKind.DAMAGED,
                      ExceptionKind.RETURNED_TO_SENDER, ExceptionKind.CUSTOMS_HOLD, None):  # fmt: skip
        v = view([*base, ev(at(11, 24, 10), Status.EXCEPTION, "X", CHICAGO, exception)], pol)
        rule = "lost" if exception is ExceptionKind.LOST else "exceptions"
        out.append((fires(rule, v, at(11, 24, 11)), v))
    done = view([*base, ev(at(11, 25, 14), Status.DELIVERED, "Delivered", CHICAGO)], pol,
                missing_reported_at=at(11, 26, 9))  # fmt: skip
    out.append((fires("delivered_not_received", done, at(11, 26, 15)), done))
    return [(f, v) for f, v in out if f is not None]


def test_without_a_store_page_no_message_offers_a_remedy() -> None:
    """Finding 3: every customer was offered "a resend or a full refund" (lost, returned,
    customs, damaged, undeliverable, not received), whatever its store's page said."""
    found = customer_findings(StorePolicy())
    assert len(found) == 7
    for finding, v in found:
        body = render(finding, v).lower()
        assert not [w for w in OFFERS if w in body], (finding.rule, finding.facts, body)
        assert "reply to this email" in body and "we will help" in body
        assert "refund or reship" not in finding.action.lower()
        assert "offers nothing for this" in finding.action


def test_a_stores_remedy_reaches_customer_and_staff_in_its_own_words() -> None:
    """Finding 3: seed 002 promises a refund for a lost parcel, and nothing more."""
    pol = shipped("art-print-store")
    (lost, v), *_ = customer_findings(pol)
    words = "If for any reason it is determined the parcel is lost in transit you will be " \
        "issued a full refund."  # fmt: skip
    assert lost.rule == "lost" and words in render(lost, v) and words in lost.action
    assert "replacement" not in render(lost, v).lower()
    assert lost.explanation["remedy"] == words


def test_remedies_name_known_situations() -> None:
    with pytest.raises(ValueError, match=r"remedies\.misplaced"):
        StorePolicy.model_validate({"remedies": {"misplaced": "a voucher"}})


# --- finding 4: invented windows and numbers --------------------------------------------------


def test_a_store_without_a_claim_window_is_not_given_another_stores() -> None:
    """Finding 4: every store's delivered email said "tell us within 30 calendar days of
    delivery", seed 004's number."""
    for stem in ("jersey-store", "art-print-store", "cross-border-phone-case-store"):
        v = view([*moving(at(11, 23, 18)), ev(at(11, 25, 14), Status.DELIVERED, "Delivered")],
                 shipped(stem))  # fmt: skip
        finding = fires("delivered", v, at(11, 25, 15))
        assert finding is not None
        body = render(finding, v)
        assert "within" not in body and "30" not in body, stem
        assert finding.facts["claim_until"]  # the report link still lives for a while


@pytest.mark.parametrize("stem", ["jersey-store", "phone-case-store",
                                  "cross-border-phone-case-store"])  # fmt: skip
def test_a_threshold_the_store_never_gave_alerts_staff_and_says_whose_it_is(stem: str) -> None:
    """Finding 4: seeds 000, 001 and 003 give no stall threshold, yet their customers were
    told their parcel was late against one."""
    pol = shipped(stem)
    v = view(moving(at(11, 23, 18)), pol)
    due = first_fires("stalled", v)
    assert due is not None
    finding = fires("stalled", v, due)
    assert finding is not None and finding.audiences == (Audience.STAFF,)
    key = finding.explanation["threshold"].split("(")[1].rstrip(")")
    assert (
        finding.explanation["set by"] == f"an operator's setting ({key}), not the store's promise"
    )
    assert "the customer has not been told" in finding.action


def test_a_late_parcel_is_told_against_a_date_the_customer_was_given_only() -> None:
    """Finding 4: without a carrier ETA, the ETA was seed 002's and 004's transit times for
    every store; a store that gave none tells staff alone."""
    ordered = {"ordered_at": at(11, 16, 10)}
    jersey = view(moving(at(11, 23, 18)), shipped("jersey-store"), **ordered)
    toys = view(moving(at(11, 23, 18)), shipped("custom-toy-store"), **ordered)
    for v, told in ((jersey, False), (toys, True)):
        stages = [fires("late", v, due) for due in BY_NAME["late"].deadlines(v)]
        audiences = {a for f in stages if f is not None for a in f.audiences}
        assert (Audience.CUSTOMER in audiences) is told
        assert Audience.STAFF in audiences
    carrier_eta = view(moving(at(11, 23, 18)), shipped("jersey-store"), eta=at(12, 1))
    finding = fires("late", carrier_eta, at(12, 2))
    assert finding is not None and finding.audiences == (Audience.CUSTOMER,)
    assert "UPS expected to deliver your parcel by Monday 30 November" in \
        render(finding, carrier_eta)  # fmt: skip


_NUMBER = re.compile(r"^(\w+) = (\d+(\.\d+)?)\b")


def _numbers(text: str) -> list[tuple[str, str, str, float]]:
    """(section, key, the comment that goes with it, the number) for each number a policy
    file sets."""
    section, comment, found = "", "", []
    for line in text.splitlines():
        if line.startswith("["):
            section, comment = line.strip("[]").split(".")[0], ""
        elif line.startswith("#"):
            comment += line
        elif match := _NUMBER.match(line):
            found.append((section, match[1], comment + line.partition("#")[2], float(match[2])))
        elif not line.strip():
            comment = ""
    return found


def _spellings(key: str, number: float) -> list[str]:
    """How a page can write a setting's number: itself, or in the other unit ("48 hours"
    for 2 days, "a day" for 24 hours, "a week" for 7 days)."""
    found = [f"{number:g}"]
    if key.endswith("hours") and number % 24 == 0:
        found.append("a day" if number == 24 else f"{number / 24:g} days")
    elif key.endswith("days"):
        found += [f"{number * 24:g} hours", *(["a day"] if number == 1 else []),
                  *(["a week"] if number == 7 else [])]  # fmt: skip
    return found


def _in_quote(key: str, number: float, quote: str, comment: str) -> bool:
    """Whether the quote gives the number: spelled out (as a whole number: 3 is not in
    "13"), or as a sum the comment states of numbers the quote gives ("2 + 3")."""
    for spelled in _spellings(key, number):
        if re.search(rf"(?<![\d.]){re.escape(spelled)}(?![\d])", quote):
            return True
    given = {float(n) for n in re.findall(r"\d+(?:\.\d+)?", quote)}
    return any(
        sum(map(float, parts)) == number and {float(p) for p in parts} <= given
        for parts in (m.split(" + ") for m in re.findall(r"\d+(?: \+ \d+)+", comment))
    )


@pytest.mark.parametrize("stem", sorted(STORES))
def test_every_number_in_a_shipped_policy_is_the_pages_or_says_it_is_an_operators(
    stem: str,
) -> None:
    """Finding 4: numbers of seeds 002 and 004 were inherited by stores that gave none. A
    promised number must be the one its quote gives (3 in "more than 3 business days")."""
    text = (POLICIES / f"{stem}.toml").read_text(encoding="utf-8")
    promises = tomllib.loads(text).get("promises", {})
    numbers = _numbers(text)
    assert numbers
    for section, key, comment, number in numbers:
        quote = promises.get(section, {}).get(key)
        if section == "promise" and key in {"min_days", "max_days", "extra_days"}:
            quote = promises.get(section, {}).get("transit" if key != "extra_days"
                                                  else "peak_seasons")  # fmt: skip
        if quote is None:
            assert "operator's choice" in comment, (stem, section, key)
        else:
            assert "promised" in comment, (stem, section, key)
            assert _in_quote(key, number, quote, comment), (stem, section, key, number, quote)


@pytest.mark.parametrize("stem", sorted(STORES))
def test_every_promise_and_remedy_in_a_shipped_policy_is_its_pages_own_words(stem: str) -> None:
    pol = shipped(stem)
    words = plain(page(stem))
    quotes = [q for entries in pol.promises.values() for q in entries.values()]
    quotes += [pol.remedies.of(s) for s in type(pol.remedies).model_fields if pol.remedies.of(s)]
    assert quotes
    for quote in quotes:
        for part in quote.split("..."):
            assert plain(part) in words, (stem, part)


def test_the_seed_pages_are_copies_of_the_shared_ones() -> None:
    if not SHARED_SEEDS.exists():
        pytest.skip("shared/seeds is not beside this checkout")
    for shared in SHARED_SEEDS.iterdir():
        assert (SEEDS / shared.name).read_bytes() == shared.read_bytes()


def test_a_promise_must_name_a_setting_and_give_words() -> None:
    with pytest.raises(ValueError, match=r"promises\.stall\.days: \[stall\] has no such"):
        StorePolicy.model_validate({"promises": {"stall": {"days": "3"}}})
    with pytest.raises(ValueError, match=r"promises\.stall\.domestic_business_days: give"):
        StorePolicy.model_validate({"promises": {"stall": {"domestic_business_days": " "}}})


# --- finding 5: delivered, not received: one day's wait ---------------------------------------


@pytest.mark.parametrize(
    ("reported", "opens"),
    [
        (at(11, 24, 15), at(11, 24, 15)),  # a day after the scan: at once
        (at(11, 23, 16), at(11, 24, 14)),  # an hour after it: a day after the scan
    ],
)
def test_a_missing_report_waits_a_day_from_the_delivery_scan_not_another_day(
    reported: datetime, opens: datetime
) -> None:
    """Finding 5: the 24 h wait ran from the report, so a customer who had already given it
    the day the delivered email asks for waited a second one (seeds 000, 004)."""
    scan = ev(at(11, 23, 14), Status.DELIVERED, "Delivered", CHICAGO)
    v = view([*moving(at(11, 20, 18)), scan], shipped("custom-toy-store"),
             missing_reported_at=reported, missing_reported_by="customer")  # fmt: skip
    assert first_fires("delivered_not_received", v) == opens


# --- finding 6: returns, in the store's terms and calendar ------------------------------------


def returned(pol: StorePolicy, arrived: datetime) -> ShipmentView:
    scan = ev(arrived, Status.DELIVERED, "Delivered", Place(city="London", country="GB"))
    return view([*moving(arrived - timedelta(days=3)), scan], pol, direction=Direction.RETURN)


def test_a_returns_refund_is_due_28_days_after_it_arrives() -> None:
    """Finding 6: the reminder fell due 28 carrier working days after arrival (about 40
    days), later than either of seed 002's sentences allows."""
    arrived = at(11, 30, 11, tz=LONDON)
    v = returned(shipped("art-print-store"), arrived)
    due = at(12, 29, tz=LONDON)  # the end of Monday 28 December, London time
    assert BY_NAME["returns"].deadlines(v) == (arrived, due)
    on_time = fires("returns", v, due - timedelta(minutes=1))
    assert on_time is not None and not on_time.escalated
    assert "Mon 28 Dec 2026" in on_time.summary
    assert "Please allow up to 28 days from the day we receive the returned goods" in \
        on_time.explanation["refund deadline"]  # fmt: skip
    assert "within 14 days" in on_time.explanation["return window"]
    late = fires("returns", v, due)
    assert late is not None and late.escalated


def test_a_refund_counted_in_business_days_uses_the_stores_calendar() -> None:
    """Finding 6: the days were the carrier's at the parcel's destination; a store counts its
    own. Returned Wed 23 Dec to a UK store: Christmas, Boxing Day (Mon 28, in lieu) and the
    weekend are its days off, so 3 business days end with Wednesday 30 December."""
    pol = StorePolicy.model_validate({"origin_country": "GB",
                                      "returns": {"refund_days": 3, "refund_unit": "business"}})  # fmt: skip
    v = returned(pol, at(12, 23, 11, tz=LONDON))
    assert BY_NAME["returns"].deadlines(v)[1] == at(12, 31, tz=LONDON)


def test_a_claim_window_in_business_days_counts_the_stores_days() -> None:
    """Seed 001's "3 business days of receipt" are the store's: delivered by UPS on Tuesday
    10 November, Veterans Day (a public holiday UPS works) is not one of them."""
    scan = ev(at(11, 10, 14), Status.DELIVERED, "Delivered", CHICAGO)
    v = view([*moving(at(11, 6, 18)), scan], shipped("phone-case-store"))
    finding = fires("delivered", v, at(11, 10, 15))
    assert finding is not None and finding.facts["claim_by"] == "2026-11-16"
    assert finding.facts["claim_window"] == "3 business days"


# --- finding 8: how it reads ------------------------------------------------------------------


def _fedex(**fields: Any) -> dict[str, Any]:
    return {"carrier": "fedex", "tracking_number": "986578788855", **fields}


def test_carriers_are_named_as_people_write_them() -> None:
    """Finding 8: "FEDEX" in every message."""
    v = view(moving(at(11, 23, 18)), **_fedex(eta=at(12, 1)))
    for due in BY_NAME["late"].deadlines(v):
        finding = fires("late", v, due)
        assert finding is not None
        for audience in finding.audiences:
            text = render(finding, v, audience, "opened")
            assert "FedEx" in text and "FEDEX" not in text
        assert "FEDEX" not in finding.summary + finding.action


def test_customers_read_dates_as_days_not_iso() -> None:
    """Finding 8: "due by 2026-11-30"."""
    v = view(moving(at(11, 23, 18)), eta=at(12, 1))
    finding = fires("late", v, at(12, 2))
    assert finding is not None
    body = render(finding, v)
    assert "Monday 30 November" in body and not re.search(r"\d{4}-\d{2}-\d{2}", body)


def test_a_place_the_carrier_did_not_name_is_not_shown() -> None:
    """Finding 8: "left at: other"."""
    for location, shown in ((DeliveryLocation.OTHER, None),
                            (DeliveryLocation.FRONT_DOOR, "(left at the front door)")):  # fmt: skip
        scan = ev(at(11, 25, 14), Status.DELIVERED, "Delivered", location=location)
        v = view([*moving(at(11, 23, 18)), scan])
        finding = fires("delivered", v, at(11, 25, 15))
        assert finding is not None
        body = render(finding, v)
        assert "other" not in body and "left at:" not in body
        assert shown is None or shown in body


def test_a_resolution_names_the_alert_in_words() -> None:
    """Finding 8: "is no longer exceptions"."""
    scan = ev(at(11, 24, 10), Status.EXCEPTION, "X", CHICAGO, ExceptionKind.DAMAGED)
    v = view([*moving(at(11, 23, 18)), scan])
    finding = fires("exceptions", v, at(11, 24, 11))
    assert finding is not None
    store = StoreSettings(name="Shop")
    title, body = Renderer().render("shop", "exceptions", Audience.STAFF, "resolved", {
        "shipment": v.shipment, "store": store, "alert": finding, "reason": "it moved"})  # fmt: skip
    assert title == "[Shop] Resolved: carrier exception for order A1"
    assert "The carrier exception alert for UPS" in body and "no longer" not in body


@pytest.mark.parametrize(
    ("stem", "eta", "told_at", "says"),
    [
        ("jersey-store", at(12, 1), at(12, 2), "If it does not turn up, reply"),
        # Due Monday 30 November: told at the end of Tuesday, 48 hours end with Wednesday.
        ("custom-toy-store", at(12, 1), at(12, 2),
         "If it is still not there 48 hours past that date (by the end of Wednesday 2 "
         "December), reply"),
        # Due Friday 4 December: told at the end of Monday 7 December (sent on Tuesday 8),
        # when the 48 hours ended with Sunday 6 December: reply now, not "by Sunday".
        ("custom-toy-store", at(12, 5), at(12, 8),
         "It is now more than 48 hours past that date: please reply"),
    ],
)  # fmt: skip
def test_the_late_email_says_nothing_staff_are_not_yet_doing(
    stem: str, eta: datetime, told_at: datetime, says: str
) -> None:
    """Finding 8: at ETA + 1 business day the customer read "we are following it up" while
    staff heard only at ETA + 48 h. Now the customer is told what happens next, and when a
    store promised the 48 hours (seed 004), by when; once that moment has passed (a Friday
    estimate: the grace day is Monday, the 48 hours end on Sunday), to reply now."""
    v = view(moving(at(11, 23, 18)), shipped(stem), eta=eta)
    told = fires("late", v, told_at)
    assert told is not None and Audience.CUSTOMER in told.audiences
    before = fires("late", v, told_at - timedelta(minutes=1))
    assert before is None or Audience.CUSTOMER not in before.audiences  # told at this moment
    body = render(told, v)
    assert "following it up" not in body and "reply to this email" in body
    assert says in body
    assert "Sunday 6 December" not in body  # no date already past


def test_preview_prints_every_message_of_a_store(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", "--policy", str(POLICIES / "art-print-store.toml"),
                 "--store", "JJsArt"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert out.startswith("Messages of JJsArt")
    for head in ("== stalled · customer · opened", "== stalled · staff · resolved",
                 "== late · staff · escalated", "== returns · staff · escalated",
                 "== lost.silent · customer · opened"):  # fmt: skip
        assert head in out, head
    assert "you will be issued a full refund" in out


def test_preview_of_a_configured_store_and_its_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "trackwatch.toml"
    path.write_text(f'[stores.toys]\nname = "JetoyUSA"\npolicy_file = '
                    f'"{POLICIES / "custom-toy-store.toml"}"\n')  # fmt: skip
    assert main(["preview", "--store", "toys", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Messages of JetoyUSA (toys) under the policy from")
    assert "has not had a tracking update for 3 business days" in out  # 004 promised it
    assert main(["preview", "--store", "shoes", "--config", str(path)]) == 2
    assert "error: store: no store 'shoes' in the configuration (stores: toys)" in \
        capsys.readouterr().err  # fmt: skip
    bad = tmp_path / "bad.toml"
    bad.write_text("[stall]\ndomestic_days = 3\n")
    assert main(["preview", "--policy", str(bad)]) == 2
    assert "stall.domestic_days: Extra inputs are not permitted" in capsys.readouterr().err
