"""Migration 20's plan (trackwatch.store.zonefix.plan), case by case: what moves and what is
left as it was. The whole upgrade through the sandbox is tests/test_zone_upgrade.py."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from carriers.dhl.parse import parse as dhl_parse
from tests.backends import corrupt, execute
from tests.conftest import both_backends
from tests.golden import FIXTURES
from trackwatch.calendar import calendar_for
from trackwatch.legacy_zones import legacy_zone_name_for
from trackwatch.model import Outcome, Place, Shipment, Status, TrackingEvent, TrackingResult
from trackwatch.store import open_store
from trackwatch.store.postgres import base as postgres_base
from trackwatch.store.postgres.schema import MIGRATIONS as POSTGRES_MIGRATIONS
from trackwatch.store.records import PollUpdate
from trackwatch.store.schema import MIGRATIONS
from trackwatch.store.sqlite import base as sqlite_base
from trackwatch.store.steps import statements
from trackwatch.store.zonefix.choice import Spot
from trackwatch.store.zonefix.plan import (
    StoredAlert,
    StoredEvent,
    StoredShipment,
    plan_shipment,
    same_wall_time,
)
from trackwatch.zones import _country_zones

ST_JOHNS = ZoneInfo("America/St_Johns")
TORONTO = ZoneInfo("America/Toronto")
CHICAGO = Place(city="Chicago", state="IL", postal_code="60601", country="US")
TORONTO_PLACE = Place(city="Toronto", postal_code="M5V 3L9", country="CA")
TO_TORONTO = Spot("CA", None, "M5V 3L9")


def scan(at: datetime, place: Place, code: str = "transit", inferred: bool = True) -> TrackingEvent:
    return TrackingEvent(occurred_at=at, status=Status.IN_TRANSIT, code=code,
                         description="PROCESSED", place=place, zone_inferred=inferred)  # fmt: skip


def stored(number: int, event: TrackingEvent) -> StoredEvent:
    return StoredEvent(number, event.occurred_at, event.code, event.place.label(),
                       event.model_dump_json())  # fmt: skip


def test_a_toronto_scan_read_in_st_johns_moves_to_the_same_wall_time_in_toronto() -> None:
    old = scan(datetime(2026, 11, 25, 8, tzinfo=ST_JOHNS), TORONTO_PLACE)
    plan = plan_shipment(StoredShipment(1, "dhl", TO_TORONTO), [stored(7, old)], [])
    ((number, at, data),) = plan.events
    assert (number, at) == (7, datetime(2026, 11, 25, 8, tzinfo=TORONTO))
    assert TrackingEvent.model_validate_json(data) == old.model_copy(update={"occurred_at": at})


def test_a_us_scan_and_one_read_with_its_offset_stay() -> None:
    chicago = scan(datetime(2026, 11, 25, 8, tzinfo=ZoneInfo("America/Chicago")), CHICAGO)
    exact = scan(datetime(2026, 11, 25, 13, tzinfo=UTC), TORONTO_PLACE, inferred=False)
    plan = plan_shipment(StoredShipment(1, "dhl", TO_TORONTO),
                         [stored(1, chicago), stored(2, exact)], [])  # fmt: skip
    assert (plan.events, plan.times, plan.episodes) == ([], {}, [])
    assert plan.rejudge  # its calendar moved: Toronto's deadlines, not St John's
    to_chicago = StoredShipment(1, "dhl", Spot("US", None, "60601"))
    assert plan_shipment(to_chicago, [stored(1, chicago), stored(2, exact)], []).empty


def test_dhl_reads_a_scan_without_a_place_at_the_origin_the_earliest_scan_names() -> None:
    nowhere = scan(datetime(2026, 11, 23, 9, tzinfo=ZoneInfo("America/Chicago")), Place())
    from_chicago = [stored(1, scan(datetime(2026, 11, 23, 10, tzinfo=UTC), CHICAGO)),
                    stored(2, nowhere)]  # fmt: skip
    assert plan_shipment(StoredShipment(1, "dhl", TO_TORONTO), from_chicago, []).events == []
    canadian = scan(datetime(2026, 11, 23, 9, tzinfo=ST_JOHNS), Place())
    plan = plan_shipment(StoredShipment(1, "dhl", TO_TORONTO), [stored(2, canadian)], [])
    assert [at for _, at, _ in plan.events] == [datetime(2026, 11, 23, 9, tzinfo=TORONTO)]


def test_a_carrier_date_moves_its_day_end_and_a_window_end_stays() -> None:
    """USPS, DHL and FedEx also give ETAs with an offset: only a local midnight (a date
    made a day-end) is known to come from the zone."""
    day_end = datetime(2026, 11, 28, tzinfo=ST_JOHNS)
    window_end = datetime(2026, 11, 27, 19, tzinfo=ST_JOHNS)
    shipment = StoredShipment(1, "usps", TO_TORONTO, eta=day_end, first_eta=window_end)
    plan = plan_shipment(shipment, [], [])
    assert plan.times["eta"] == datetime(2026, 11, 28, tzinfo=TORONTO)
    assert plan.times["first_eta"] == window_end


def test_a_ups_delivery_window_s_end_moves_too() -> None:
    """UPS gives its dates and windows as local times only: every UPS ETA moves."""
    window_end = datetime(2026, 11, 27, 19, tzinfo=ST_JOHNS)
    vancouver = Spot("CA", None, "V6B 1A1")
    plan = plan_shipment(StoredShipment(1, "ups", vancouver, eta=window_end), [], [])
    assert plan.times["eta"] == datetime(2026, 11, 27, 19, tzinfo=ZoneInfo("America/Vancouver"))


def test_episodes_move_with_the_instants_they_name() -> None:
    old = scan(datetime(2026, 11, 24, 10, tzinfo=ST_JOHNS), TORONTO_PLACE)
    new_at = datetime(2026, 11, 24, 10, tzinfo=TORONTO).astimezone(UTC)
    eta = datetime(2026, 11, 28, tzinfo=ST_JOHNS).astimezone(UTC)
    promise_end = datetime(2026, 12, 1, tzinfo=ST_JOHNS)  # calendar.end_of: local, not UTC
    alerts = [StoredAlert(1, "stalled", old.occurred_at.isoformat()),
              StoredAlert(2, "lost", f"silent@{old.occurred_at.isoformat()}"),
              StoredAlert(3, "late", eta.isoformat()),
              StoredAlert(4, "late", promise_end.isoformat()),
              StoredAlert(5, "not_picked_up", old.occurred_at.isoformat()),
              StoredAlert(6, "delivered_not_received", old.occurred_at.isoformat())]  # fmt: skip
    shipment = StoredShipment(1, "dhl", TO_TORONTO, eta=eta, follow_up_after=old.occurred_at)
    plan = plan_shipment(shipment, [stored(1, old)], alerts)
    new_end = calendar_for("dhl", "CA", "M5V 3L9").end_of(date(2026, 11, 30))
    assert dict(plan.episodes) == {
        1: new_at.isoformat(), 2: f"silent@{new_at.isoformat()}",
        3: datetime(2026, 11, 28, tzinfo=TORONTO).astimezone(UTC).isoformat(),
        4: new_end.isoformat(),  # what the new code's store promise makes
    }  # fmt: skip
    assert plan.times["follow_up_after"] == new_at


def test_an_episode_already_taken_by_its_rule_is_left_alone() -> None:
    old = scan(datetime(2026, 11, 24, 10, tzinfo=ST_JOHNS), TORONTO_PLACE)
    new_at = datetime(2026, 11, 24, 10, tzinfo=TORONTO).astimezone(UTC)
    alerts = [StoredAlert(1, "stalled", old.occurred_at.isoformat()),
              StoredAlert(2, "stalled", new_at.isoformat())]  # fmt: skip
    plan = plan_shipment(StoredShipment(1, "dhl", TO_TORONTO), [stored(1, old)], alerts)
    assert plan.episodes == []


def test_the_wall_time_is_read_with_fold_0() -> None:
    """The hour that repeats when St John's clocks go back (Nov 1 2026, 02:00 -> 01:00):
    an old reading of 01:30 was the first 01:30; in Toronto it is Toronto's first 01:30."""
    # (Compared in UTC: an ambiguous wall time never equals another zone's datetime.)
    toronto_first = datetime(2026, 11, 1, 1, 30, tzinfo=TORONTO).astimezone(UTC)
    first = datetime(2026, 11, 1, 1, 30, tzinfo=ST_JOHNS)
    assert (
        same_wall_time(first, ST_JOHNS, TORONTO)
        == toronto_first
        == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    )
    second = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=ST_JOHNS).astimezone(UTC)
    assert same_wall_time(second, ST_JOHNS, TORONTO) == toronto_first


async def previous_release(database: str, monkeypatch: pytest.MonkeyPatch,
                           *events: TrackingEvent) -> int:  # fmt: skip
    """A database of the release before 20 with one DHL parcel to Toronto and its scans."""
    monkeypatch.setattr(sqlite_base, "MIGRATIONS", MIGRATIONS[:19])
    monkeypatch.setattr(postgres_base, "MIGRATIONS", POSTGRES_MIGRATIONS[:10])
    now = datetime(2026, 11, 26, tzinfo=UTC)
    store = await open_store(database)
    sid = await store.add_shipment(Shipment(
        store="shop", carrier="dhl", tracking_number="1234567890", order_id="A1",
        customer_email="c@example.com", destination_country="CA",
        destination_postal_code="M5V 3L9", shipped_at=now), now)  # fmt: skip
    result = TrackingResult(tracking_number="1234567890", outcome=Outcome.FOUND,
                            events=list(events), status=Status.IN_TRANSIT)  # fmt: skip
    await store.apply_polls([PollUpdate(sid, now, now, result)])
    await store.close()
    monkeypatch.undo()
    return sid


@both_backends
async def test_a_scan_moved_onto_one_stored_at_its_new_instant_is_kept_once(
    old_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same scan stored twice before the upgrade (read from its local time, and once more
    with its offset: a push): re-dated, the two meet under the events' unique key."""
    old = scan(datetime(2026, 11, 25, 8, tzinfo=ST_JOHNS), TORONTO_PLACE)
    exact = scan(datetime(2026, 11, 25, 8, tzinfo=TORONTO), TORONTO_PLACE, inferred=False)
    await previous_release(old_database, monkeypatch, old, exact)
    await (await open_store(old_database, upgrade=True)).close()
    rows = await execute(old_database, "SELECT occurred_at, data FROM events")
    assert len(rows) == 1 and '"zone_inferred":false' in rows[0][1]


@both_backends
async def test_rows_that_cannot_be_read_are_left_and_the_upgrade_goes_on(
    old_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scan whose JSON a bug or a hand broke stays as it is (the daemon reports it); the
    others of the shipment move."""
    first = scan(datetime(2026, 11, 24, 8, tzinfo=ST_JOHNS), TORONTO_PLACE, code="a")
    second = scan(datetime(2026, 11, 25, 8, tzinfo=ST_JOHNS), TORONTO_PLACE, code="b")
    await previous_release(old_database, monkeypatch, first, second)
    await execute(old_database, "UPDATE events SET data=? WHERE code='a'",
                  '{"occurred_at": "not a time", "zone_inferred":true}')  # fmt: skip
    await (await open_store(old_database, upgrade=True)).close()
    rows = await execute(old_database, "SELECT code, data FROM events ORDER BY code")
    assert rows[0] == ("a", '{"occurred_at": "not a time", "zone_inferred":true}')
    moved = TrackingEvent.model_validate_json(rows[1][1]).occurred_at
    assert moved == datetime(2026, 11, 25, 8, tzinfo=TORONTO)


async def test_a_shipment_whose_times_cannot_be_read_is_left_on_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = str(tmp_path / "old.db")
    old = scan(datetime(2026, 11, 25, 8, tzinfo=ST_JOHNS), TORONTO_PLACE)
    sid = await previous_release(database, monkeypatch, old)
    await corrupt(database, sid, eta="next Tuesday")
    await (await open_store(database, upgrade=True)).close()
    ((at,),) = await execute(database, "SELECT occurred_at FROM events")
    assert datetime.fromisoformat(at) == old.occurred_at


def test_a_script_is_split_into_its_statements() -> None:
    """SQLite scripts run statement by statement inside the migration's transaction: a `;`
    in a string or a comment does not end one."""
    script = """
    CREATE TABLE t (x TEXT); -- a comment; with a semicolon
    INSERT INTO t VALUES ('a;b');
    -- the end
    """
    found = [s.strip() for s in statements(script)]
    assert found == ["CREATE TABLE t (x TEXT);",
                     "-- a comment; with a semicolon\n    INSERT INTO t VALUES ('a;b');",
                     "-- the end\n    ;"]  # fmt: skip
    with closing(sqlite3.connect(":memory:")) as db:
        for statement in found:
            db.execute(statement)
        assert db.execute("SELECT x FROM t").fetchall() == [("a;b",)]


@pytest.mark.parametrize(
    ("country", "postal", "state", "zone"),
    [
        ("CA", "M5V 3L9", None, "America/St_Johns"),
        ("CA", "", "BC", "America/St_Johns"),
        ("AU", "6000", "WA", "Australia/Lord_Howe"),
        ("BR", "01310-100", None, "America/Noronha"),
        ("RU", "", None, "Europe/Kaliningrad"),
        ("UA", "", None, "Europe/Simferopol"),
        ("UZ", "", None, "Asia/Samarkand"),
        ("US", "10001", None, "America/New_York"),
        ("", "94103", None, "America/Los_Angeles"),
        ("US", "", "TX", "America/Chicago"),
        ("uk", "", None, "Europe/London"),
        ("", "", None, "UTC"),
    ],
)
def test_the_legacy_lookup_is_the_one_releases_before_20_had(
    country: str, postal: str, state: str | None, zone: str
) -> None:
    """trackwatch.zones before the fix (main at 8e1dbb0 gives these): US places by state or
    ZIP, every other country its first zone.tab entry."""
    assert legacy_zone_name_for(country, postal, state) == zone


def test_outside_the_us_the_legacy_lookup_is_zone_tab_s_first_entry() -> None:
    for code, first in _country_zones().items():
        if code != "US":
            assert legacy_zone_name_for(code, "12345", None) == first


@pytest.mark.parametrize(
    ("country", "postal", "locality", "zone"),
    [("CA", "V6B 1A1", "VANCOUVER, CA", "America/Vancouver"),
     ("AU", "6000", "PERTH, AU", "Australia/Perth"),
     ("CA", "M5V 3L9", "TORONTO, CA", "America/Toronto")],
)  # fmt: skip
def test_dhl_places_a_canadian_or_australian_scan_by_its_postal_code(
    country: str, postal: str, locality: str, zone: str
) -> None:
    """DHL names no province or state outside the US: its postal code is the only clue.
    DHL's published example with its newest scan moved there (tests/fixtures/dhl)."""
    payload = json.loads(
        (FIXTURES / "dhl" / "dhl-track-ecommerce-in-transit-customs-spec-example.json").read_text()
    )
    newest = payload["shipments"][0]["events"][0]  # "2023-01-29T16:02:00", no offset
    newest["location"] = {"address": {"countryCode": country, "postalCode": postal,
                                      "addressLocality": locality}}  # fmt: skip
    (result,) = dhl_parse(payload)
    (event,) = [e for e in result.events if e.place.country == country]
    assert event.zone_inferred
    assert event.occurred_at == datetime(2023, 1, 29, 16, 2, tzinfo=ZoneInfo(zone))


def test_a_vancouver_dhl_scan_read_in_st_johns_moves_to_vancouver() -> None:
    vancouver = Place(city="VANCOUVER", postal_code="V6B 1A1", country="CA")
    old = scan(datetime(2026, 11, 25, 8, tzinfo=ST_JOHNS), vancouver)
    plan = plan_shipment(StoredShipment(1, "dhl", Spot("CA", None, "V6B 1A1")), [stored(7, old)],
                         [])  # fmt: skip
    ((_, at, _),) = plan.events
    assert at == datetime(2026, 11, 25, 8, tzinfo=ZoneInfo("America/Vancouver"))
