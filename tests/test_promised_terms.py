"""Issue 17, second review: what a customer is told rests on the store's own words in every
part, and what a store promises to do, a person is told to do. Dates are 2026 (Thanksgiving
is Thursday 26 November); each test names the finding it reproduces."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from rules import ShipmentView
from rules.delivered import wait_words
from tests.rulekit import BY_NAME, at, ev, fires, view
from tests.store_messages import POLICIES, STORES
from tests.test_store_promises import CHICAGO, moving, render, shipped
from trackwatch.cli import main
from trackwatch.config import read_policy_file
from trackwatch.model import (
    Audience,
    ExceptionKind,
    Finding,
    Outcome,
    Status,
    TrackingResult,
)
from trackwatch.policy import StorePolicy
from trackwatch.promises import SITUATIONS
from trackwatch.store import SqliteStore
from trackwatch.store.records import PollUpdate

WAIT_004 = "Wait 24 hours in case of delivery scan delays"


def delivered(pol: StorePolicy) -> tuple[Finding, ShipmentView]:
    scan = ev(at(11, 25, 14), Status.DELIVERED, "Delivered")
    v = view([*moving(at(11, 23, 18)), scan], pol)
    finding = fires("delivered", v, at(11, 25, 15))
    assert finding is not None
    return finding, v


def waiting(hours: float, promised: bool = True) -> StorePolicy:
    data: dict[str, Any] = {"delivered": {"wait_hours": hours}}
    if promised:
        data["promises"] = {"delivered": {"wait_hours": WAIT_004}}
    return StorePolicy.model_validate(data)


# --- finding 4: a wait the store did not give is not asked of the customer --------------------


@pytest.mark.parametrize("stem", sorted(STORES))
def test_the_delivered_email_asks_for_a_wait_only_when_the_store_gave_one(stem: str) -> None:
    """Finding 4: every delivered email said "give it a day"; seeds 000 ("after a day") and
    004 ("Wait 24 hours") say so, for 001, 002 and 003 it is an operator's setting."""
    finding, v = delivered(shipped(stem))
    body = render(finding, v)
    says = stem in ("jersey-store", "custom-toy-store")
    assert ("give it a day" in body) is says, stem
    assert ("mark a parcel delivered" in body) is says, stem
    assert "let us know" in body.lower()


@pytest.mark.parametrize(
    ("hours", "words"),
    [(24, "a day"), (48, "2 days"), (12, "12 hours"), (36, "36 hours"), (1, "an hour"),
     (0, "")],
)  # fmt: skip
def test_a_promised_wait_is_said_in_words_that_fit_its_number(hours: float, words: str) -> None:
    """Finding 4: `wait_hours = 0` rendered "give it 0 days"."""
    assert wait_words(hours) == words
    finding, v = delivered(waiting(hours))
    body = render(finding, v)
    assert ("give it " + words) in body if words else "give it" not in body
    assert "0 days" not in body and " 1 hours" not in body


def test_an_operators_wait_is_not_told_but_still_delays_the_case() -> None:
    pol = waiting(48, promised=False)
    finding, v = delivered(pol)
    assert finding.facts["wait"] == ""
    assert "give it" not in render(finding, v)
    scan = ev(at(11, 25, 14), Status.DELIVERED, "Delivered")
    reported = view([*moving(at(11, 23, 18)), scan], pol, missing_reported_at=at(11, 25, 20))
    assert BY_NAME["delivered_not_received"].deadline(reported) == at(11, 27, 14)


# --- finding 6: customs, in each store's own terms ---------------------------------------------


def held(pol: StorePolicy, exception: ExceptionKind | None = ExceptionKind.CUSTOMS_HOLD,
         rule: str = "exceptions") -> tuple[Finding, ShipmentView]:  # fmt: skip
    """The finding of an exception scan (a customs hold unless told otherwise)."""
    scan = ev(at(11, 24, 10), Status.EXCEPTION, "Held", CHICAGO, exception)
    v = view([*moving(at(11, 23, 18)), scan], pol)
    finding = fires(rule, v, at(11, 24, 11))
    assert finding is not None
    return finding, v


@pytest.mark.parametrize("stem", [*sorted(STORES), "(default)"])
def test_the_customs_email_says_only_what_the_store_says_of_customs(stem: str) -> None:
    """Finding 6: every store's customers read seed 002's terms ("Customs may ask you, as
    the recipient, for information or duties; only you can ask them about it"), which seed
    003 contradicts (it deals with customs for its customers)."""
    pol = StorePolicy() if stem == "(default)" else shipped(stem)
    finding, v = held(pol)
    body, terms = render(finding, v), pol.remedies.of("customs_hold")
    assert "held in customs" in body
    assert (terms in body and terms in finding.action) if terms else "As our help page" not in body
    ours = (body + finding.action).replace(terms, "") if terms else body + finding.action
    assert "duties" not in ours and "only you can" not in ours.lower()
    assert "only the recipient" not in ours.lower()


# --- finding 7: a promise to write is a staff task ---------------------------------------------

# Words by which a store's terms promise that it will write to its customer.
WE_WRITE = re.compile(r"\bwe will (promptly )?(e-?mail|contact|write to) you\b", re.IGNORECASE)


@pytest.mark.parametrize(
    ("exception", "rule"),
    [(ExceptionKind.CUSTOMS_HOLD, "exceptions"), (None, "exceptions"),
     (ExceptionKind.LOST, "lost")],
)  # fmt: skip
def test_staff_are_told_to_email_the_customer_the_store_promised_to_email(
    exception: ExceptionKind | None, rule: str
) -> None:
    """Finding 7: seed 003's customers read "we will promptly email you for your
    preference", and nothing told staff to: its customs, undeliverable and lost alerts now
    tell them to, quoting the promise."""
    finding, v = held(shipped("cross-border-phone-case-store"), exception, rule)
    assert Audience.STAFF in finding.audiences
    assert "Email the customer promptly for their preference" in finding.action
    assert "we will promptly email you for your preference" in finding.action
    staff = render(finding, v, Audience.STAFF)
    assert "Email the customer promptly for their preference" in staff


@pytest.mark.parametrize("stem", sorted(STORES))
def test_every_promise_to_write_to_the_customer_has_a_staff_task(stem: str) -> None:
    pol = shipped(stem)
    for situation in SITUATIONS:
        if WE_WRITE.search(pol.remedies.of(situation)):
            assert pol.remedies.task(situation), (stem, situation)


def test_a_staff_task_names_a_situation_and_keeps_its_terms() -> None:
    with pytest.raises(ValueError, match=r"remedies\.staff_tasks\.misplaced"):
        StorePolicy.model_validate({"remedies": {"staff_tasks": {"misplaced": "Email them"}}})
    with pytest.raises(ValueError, match=r"remedies\.staff_tasks\.lost: give"):
        StorePolicy.model_validate({"remedies": {"staff_tasks": {"lost": " "}}})
    with pytest.raises(ValueError, match=r"remedies\.staff_tasks\.lost: a task keeps"):
        StorePolicy.model_validate({"remedies": {"staff_tasks": {"lost": "Email them"}}})


# --- finding 8: a store-promise due date rests on the store's words in every part -------------


def toys(**sections: dict[str, Any]) -> StorePolicy:
    """Seed 004's policy with `sections` merged in (a section's `promises` replace its)."""
    data = read_policy_file(POLICIES / "custom-toy-store.toml")
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return StorePolicy.model_validate(data)


def told_late(v: ShipmentView) -> Finding | None:
    """The late finding that first tells the customer, if any stage does."""
    for due in BY_NAME["late"].deadlines(v):
        finding = fires("late", v, due)
        if finding is not None and Audience.CUSTOMER in finding.audiences:
            return finding
    return None


TOYS_PROMISES = read_policy_file(POLICIES / "custom-toy-store.toml")["promises"]
NO_PROCESSING = {k: v for k, v in TOYS_PROMISES["promise"].items()
                 if k != "processing_business_days"}  # fmt: skip
PEAK = {"start": "11-20", "end": "01-05", "extra_days": 5}
PEAK_WORDS = "During sale peak seasons there may be a delay up to 5 days."


@pytest.mark.parametrize(
    ("sections", "ordered", "told"),
    [
        ({}, True, True),  # seed 004: processing and transit, both its words
        ({"promises": {**TOYS_PROMISES, "promise": NO_PROCESSING}}, True, False),
        ({"promises": {**TOYS_PROMISES, "promise": NO_PROCESSING}}, False, True),  # no order date
        ({"promise": {"ships_next_day": True}}, True, False),
        ({"promise": {"peak_seasons": [PEAK]}}, True, False),  # an operator's peak applies
        ({"promise": {"peak_seasons": [{**PEAK, "start": "01-10", "end": "01-20"}]}}, True,
         True),  # one that does not apply changes nothing
    ],
)  # fmt: skip
def test_a_store_promise_date_is_told_only_when_every_number_in_it_was_promised(
    sections: dict[str, Any], ordered: bool, told: bool
) -> None:
    """Finding 8: `citable` checked only promise.transit, while processing days,
    ships_next_day and peak-season days feed the date the customer is told too."""
    fields = {"ordered_at": at(11, 16, 10)} if ordered else {}
    v = view(moving(at(11, 23, 18)), toys(**sections), **fields)
    finding = told_late(v)
    assert (finding is not None) is told
    if not told:
        staff = fires("late", v, BY_NAME["late"].deadlines(v)[-1])
        assert staff is not None and "an operator's setting (promise." in \
            staff.explanation["set by"]  # fmt: skip


@pytest.mark.parametrize(("ordered", "peak"), [(at(11, 20, 10), True), (at(9, 1, 10), False)])
def test_a_peak_seasons_delay_is_told_in_the_stores_words_when_it_applies(
    ordered: datetime, peak: bool
) -> None:
    """Finding 8: art prints ordered in the sale season were told a date 5 days later,
    without the page's sentence that says why."""
    v = view(moving(ordered + timedelta(days=6)), shipped("art-print-store"), ordered_at=ordered)
    finding = told_late(v)
    assert finding is not None
    assert ("peak season" in finding.explanation) is peak
    assert (PEAK_WORDS in render(finding, v)) is peak


# --- return to sender: no reship the terms do not give -----------------------------------------


@pytest.mark.parametrize("stem", sorted(STORES))
def test_a_return_to_sender_email_asks_for_no_address_to_reship_to(stem: str) -> None:
    """ "Reply ... with the correct address" suggested a reship that seed 000 gives only "if
    the delivery service made the mistake" and seed 001 "cannot guarantee": the store's own
    terms say what happens next, and the customer is offered help."""
    finding, v = held(shipped(stem), ExceptionKind.RETURNED_TO_SENDER)
    body = render(finding, v)
    assert not re.search(r"\bcorrect address", body)  # seed 001 has "incorrect address"
    assert "Reply to this email and we will help." in body


# --- report-missing: the case opens as the rule opens it ---------------------------------------


async def _delivered_then_more(database: Path) -> None:
    """The carrier's delivery scan 30 hours ago, then a later event (proof of delivery): the
    wait runs from the scan, not from the shipment's last event."""
    store = await SqliteStore.open(database)
    now = datetime.now(UTC)
    scan = ev(now - timedelta(hours=30), Status.DELIVERED, "Delivered")
    after = ev(now - timedelta(hours=2), Status.UNKNOWN, "Proof of delivery available")
    result = TrackingResult(tracking_number="1Z5R89390357567127", outcome=Outcome.FOUND,
                            events=[scan, after], status=Status.DELIVERED)  # fmt: skip
    await store.apply_polls([PollUpdate(1, now, now, result)])
    await store.close()


def test_report_missing_says_when_the_case_opens_as_the_rule_counts_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`report-missing` counted the wait from `last_event_at`; the rule counts it from the
    delivery scan. Reported 30 hours after the scan, the case opens at once."""
    config = tmp_path / "trackwatch.toml"
    config.write_text(f'[daemon]\ndatabase = "{tmp_path / "tw.db"}"\n[stores.shop]\n'
                      'name = "Shop"\n')  # fmt: skip
    assert main(["add", "--config", str(config), "--store", "shop", "--carrier", "ups",
                 "--tracking-number", "1Z5R89390357567127", "--order-id", "1001",
                 "--customer-email", "c@example.com"]) == 0  # fmt: skip
    asyncio.run(_delivered_then_more(tmp_path / "tw.db"))
    capsys.readouterr()
    assert main(["report-missing", "--config", str(config), "1"]) == 0
    out = capsys.readouterr().out
    reported, opens = re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", out)
    assert opens == reported, out


# --- preview: the policy, not the secrets -------------------------------------------------------


def test_preview_of_the_example_configuration_needs_no_secret_files(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's `trackwatch preview --store jetoy --config deploy/trackwatch.toml` failed
    without the credential files (link secret, carrier secret, API token): a preview reads
    the store's name, policy and templates alone."""
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    config = POLICIES.parent / "trackwatch.toml"
    assert main(["preview", "--store", "jetoy", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Messages of JetoyUSA (jetoy) under the policy from")
    assert "has not had a tracking update for 3 business days" in out  # seed 004's policy


def test_preview_names_a_bad_key_of_the_stores_policy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "trackwatch.toml"
    config.write_text('[stores.toys]\nname = "Toys"\napi_token_file = "/nowhere/token"\n'
                      "[stores.toys.policy.stall]\ndomestic_days = 3\n")  # fmt: skip
    assert main(["preview", "--store", "toys", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "stores.toys.policy.stall.domestic_days: Extra inputs are not permitted" in err
    assert "token" not in err  # the secret's file is none of the preview's business
