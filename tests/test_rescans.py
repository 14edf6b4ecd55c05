"""Which stored readings of a scan a poll's reading replaces (trackwatch.store.rescans)."""

from __future__ import annotations

import json

from trackwatch.store.rescans import StoredScan, replaced


def _data(**place: str) -> str:
    return json.dumps({"code": "I/AR/005", "place": place})


def _stored(i: int, label: str, **place: str) -> StoredScan:
    return StoredScan(i, 7, "I/AR/005", "2026-11-24T19:00:00Z", label, _data(**place))


def _polled(label: str, **place: str) -> tuple[int, str, str, str, str]:
    return (7, "2026-11-24T19:00:00Z", "I/AR/005", label, _data(**place))


CHICAGO = {"city": "Chicago", "state": "IL", "country": "US"}


def test_a_pushed_reading_without_the_postal_code_is_replaced_by_the_polled_one() -> None:
    stored = [_stored(1, "Chicago, IL, US", **CHICAGO)]
    full = _polled("Chicago, IL, 60601, US", **CHICAGO, postal_code="60601")
    assert replaced(stored, [full]) == [1]


def test_a_pushed_reading_with_more_fields_than_the_poll_is_replaced_too() -> None:
    stored = [_stored(1, "Chicago, IL, 60601, US", **CHICAGO, postal_code="60601")]
    assert replaced(stored, [_polled("CHICAGO, US", city="CHICAGO", country="US")]) == [1]


def test_the_polls_own_row_and_scans_in_places_that_disagree_are_kept() -> None:
    stored = [
        _stored(1, "Chicago, IL, US", **CHICAGO),
        _stored(2, "Denver, CO, US", city="Denver", state="CO", country="US"),
    ]
    assert replaced(stored, [_polled("Chicago, IL, US", **CHICAGO)]) == []


def test_another_instant_code_or_shipment_is_another_scan() -> None:
    stored = [
        StoredScan(1, 7, "I/AR/005", "2026-11-24T20:00:00Z", "Chicago, US", _data(city="Chicago")),
        StoredScan(2, 7, "I/DP/005", "2026-11-24T19:00:00Z", "Chicago, US", _data(city="Chicago")),
        StoredScan(3, 8, "I/AR/005", "2026-11-24T19:00:00Z", "Chicago, US", _data(city="Chicago")),
    ]
    assert replaced(stored, [_polled("Chicago, IL, US", **CHICAGO)]) == []
