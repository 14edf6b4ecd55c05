"""The sandbox's push subscriptions by number (trackwatch.sandbox.push.Subs): `latest` is
the last subscription in the dict's order covering a number, as the scan over every
subscription it replaced said, through creations, renewals under the same id, and
deletions."""

from __future__ import annotations

import random

from trackwatch.sandbox.push import Sub, Subs


def _scanned(subs: Subs, carrier: str, number: str) -> Sub | None:
    found = [s for s in subs.values() if s.carrier == carrier and number in s.numbers]
    return found[-1] if found else None


def test_latest_is_the_last_covering_subscription() -> None:
    subs = Subs()
    first, second = Sub("dhl", "d1", ["A", "B"]), Sub("dhl", "d2", ["B"])
    subs["d1"], subs["d2"] = first, second
    assert subs.latest("dhl", "B") is second and subs.latest("dhl", "A") is first
    assert subs.latest("ups", "B") is None
    del subs["d2"]
    assert subs.latest("dhl", "B") is first
    renewed = Sub("dhl", "d1", ["C"])
    subs["d1"] = renewed  # the same id: its place in the order, its new numbers
    assert subs.latest("dhl", "A") is None and subs.latest("dhl", "C") is renewed


def test_latest_agrees_with_a_scan_through_any_changes() -> None:
    rnd = random.Random(21)
    subs = Subs()
    for step in range(600):
        sid = f"s{rnd.randrange(40)}"
        if rnd.random() < 0.25 and sid in subs:
            del subs[sid]
        else:
            numbers = rnd.sample("ABCDEFGH", rnd.randint(1, 3))
            subs[sid] = Sub(rnd.choice(("ups", "dhl")), sid, numbers)
        for carrier in ("ups", "dhl"):
            for number in "ABCDEFGH":
                assert subs.latest(carrier, number) is _scanned(subs, carrier, number), step
