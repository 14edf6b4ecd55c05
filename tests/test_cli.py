from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from rules import RULES
from tests.backends import MENDED, UNREADABLE, corrupt
from tests.conftest import BACKENDS
from trackwatch.cli import main
from trackwatch.clock import FrozenClock, SystemClock
from trackwatch.config import load_settings
from trackwatch.model import (
    DeliveryLocation,
    Outcome,
    Shipment,
    Status,
    TrackingEvent,
    TrackingResult,
)
from trackwatch.monitor import Monitor
from trackwatch.notify.channels import ChannelDirectory
from trackwatch.notify.render import Renderer
from trackwatch.quarantine import Quarantine
from trackwatch.store import open_store
from trackwatch.store.records import Evaluation, PollUpdate, Reschedule


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The commands that reach the store run on both backends."""
    return str(request.param)


@pytest.fixture
def config(tmp_path: Path, database: str) -> Path:
    path = tmp_path / "trackwatch.toml"
    path.write_text(f'[daemon]\ndatabase = "{database}"\n[stores.shop]\nname = "Shop"\n')
    return path


NOW = datetime(2026, 11, 23, 17, tzinfo=UTC)


def add(config: Path, **overrides: str | None) -> int:
    """`trackwatch add` at the test's time; an override of None leaves the option out."""
    values = {"store": "shop", "carrier": "ups", "tracking-number": "1Z5R89390357567127",
              "order-id": "1001", "customer-email": "c@example.com",
              "shipped-at": "2026-11-23T09:00-05:00", **overrides}  # fmt: skip
    args = ["add", "--config", str(config)]
    for key, value in values.items():
        if value is not None:
            args += [f"--{key}", value]
    return main(args, clock=FrozenClock(NOW))


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"tracking-number": "1Z5R89390357567128"}, "tracking_number: '1Z5R89390357567128' fails the UPS check digit"),
        ({"tracking-number": "12345"}, "tracking_number: '12345' does not match any UPS tracking-number format"),
        ({"carrier": "pigeon"}, "carrier: pigeon is not supported"),
        ({"store": "other"}, "store: 'other' is not configured"),
        ({"customer-email": "nobody"}, "customer_email: is not a valid email address"),
        ({"shipped-at": "2026-11-23T09:00"}, "shipped_at: give a UTC offset"),
        ({"country": "USA"}, "destination_country: 'USA' is not an ISO 3166 alpha-2"),
        ({"shipped-at": "0001-01-01"}, "shipped_at: 0001-01-01 is more than 365 days ago"),
        ({"shipped-at": "9999-12-31"}, "shipped_at: 9999-12-31 is more than 7 days ahead"),
        ({"promised-by": "9999-12-31"}, "promised_by: 9999-12-31 is more than 365 days ahead"),
        ({"phone": "555-0100"}, "customer_phone: is not a valid phone number: give the number in E.164"),
        ({"order-id": "10\n01"}, "order_id: contains a control character (U+000A)"),
    ],
)  # fmt: skip
def test_bad_input_names_the_field(
    config: Path, capsys: pytest.CaptureFixture[str], override: dict[str, str], message: str
) -> None:
    assert add(config, **override) == 2
    assert message in capsys.readouterr().err
    main(["list", "--config", str(config)])  # on SQLite: no such database, nothing was made
    assert "1Z5R" not in capsys.readouterr().out  # nothing half-stored


def test_add_list_show(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert add(config, **{"postal-code": "10001"}) == 0
    assert "added shipment 1" in capsys.readouterr().out
    assert add(config) == 2
    assert "already watched as shipment 1" in capsys.readouterr().err
    assert main(["list", "--config", str(config)]) == 0
    assert "1Z5R89390357567127" in capsys.readouterr().out
    assert main(["show", "--config", str(config), "1"]) == 0
    shown = capsys.readouterr().out
    assert "order 1001" in shown and "alerts: none" in shown
    assert main(["show", "--config", str(config), "9"]) == 2


async def _deliver_and_judge(config: Path, shipment_id: int) -> None:
    """The poller's and the rules loop's work, done directly: the carrier says delivered."""
    settings = load_settings(config)
    store = await open_store(settings.daemon.database)
    now = datetime.now(UTC)
    done = TrackingEvent(occurred_at=now - timedelta(hours=2), status=Status.DELIVERED,
                         code="D", description="Delivered, Front Door",
                         delivery_location=DeliveryLocation.FRONT_DOOR)  # fmt: skip
    result = TrackingResult(tracking_number="1Z5R89390357567127", outcome=Outcome.FOUND,
                            events=[done], status=Status.DELIVERED)  # fmt: skip
    await store.apply_polls([PollUpdate(shipment_id, now, now, result)])
    channels = ChannelDirectory(settings.stores)
    await Monitor(store, RULES, SystemClock(), settings, channels, Renderer()).run_once()
    await store.close()


def test_report_missing_resolve_and_show_explanations(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert add(config) == 0
    assert main(["report-missing", "--config", str(config), "1"]) == 2
    assert "shipment 1 is unknown, not delivered" in capsys.readouterr().err
    asyncio.run(_deliver_and_judge(config, 1))
    assert main(["report-missing", "--config", str(config), "1", "--by", "customer email"]) == 0
    assert "reported as not received" in capsys.readouterr().out
    assert main(["report-missing", "--config", str(config), "1"]) == 0
    assert "already reported" in capsys.readouterr().out
    assert main(["show", "--config", str(config), "1"]) == 0
    shown = capsys.readouterr().out
    assert "reported not received" in shown and "by customer email" in shown
    assert "risky_delivery (info)" in shown and "- risks: left at front door" in shown
    assert "- policy: Shop" in shown
    assert main(["resolve", "--config", str(config), "1", "--rule", "risky_delivery",
                 "--note", "customer found it"]) == 0  # fmt: skip
    assert "resolved alert(s) #" in capsys.readouterr().out
    assert main(["resolve", "--config", str(config), "1", "--rule", "risky_delivery"]) == 2
    assert "no open risky_delivery alert" in capsys.readouterr().err
    assert main(["show", "--config", str(config), "1"]) == 0
    assert "(hand: customer found it)" in capsys.readouterr().out
    assert main(["resolve", "--config", str(config), "7"]) == 2
    assert "id: no shipment 7" in capsys.readouterr().err


def test_alerts_and_notices_list_what_is_open_and_what_died(
    tmp_path: Path, database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "trackwatch.toml"
    path.write_text(f'[daemon]\ndatabase = "{database}"\n[stores.shop]\n'
                    'name = "Shop"\nchannels.staff_email = ["mailto://127.0.0.1:9?from=a@b.c"]\n')  # fmt: skip
    assert add(path, phone="+12015550123", **{"customer-email": "ada@example.org"}) == 0
    asyncio.run(_deliver_and_judge(path, 1))
    capsys.readouterr()
    assert main(["alerts", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "risky_delivery" in out and "order 1001" in out and "delivered " in out
    assert main(["notices", "--dead", "--config", str(path)]) == 0
    assert capsys.readouterr().out.count("\n") == 1  # the header: nothing dead
    assert main(["notices", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "staff_email.0" in out and "pending" in out
    assert "ada@example.org" not in out and "+12015550123" not in out  # customers' data


async def _stop_polling(config: Path, shipment_id: int) -> None:
    store = await open_store(load_settings(config).daemon.database)
    try:
        shipment = await store.get_shipment(shipment_id)
        assert shipment is not None
        schedule = Reschedule(shipment_id, None, None, shipment.revision, stop="expired")
        await store.apply_evaluation(Evaluation(schedules=[schedule]), datetime.now(UTC))
    finally:
        await store.close()


def test_restart_polls_a_stopped_shipment_again(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert add(config) == 0
    assert main(["restart", "--config", str(config), "1"]) == 2
    assert "shipment 1 is still polled" in capsys.readouterr().err
    asyncio.run(_stop_polling(config, 1))
    assert main(["show", "--config", str(config), "1"]) == 0
    shown = capsys.readouterr().out
    assert "polling stopped" in shown and ": expired (trackwatch restart 1" in shown
    assert main(["restart", "--config", str(config), "1"]) == 0
    assert "polling restarted (it had stopped: expired)" in capsys.readouterr().out
    assert main(["show", "--config", str(config), "1"]) == 0
    shown = capsys.readouterr().out
    assert "polling stopped" not in shown and "next poll" in shown


# --- issue 16 ------------------------------------------------------------------------------


def test_add_reports_every_bad_field(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Finding 15: one `error: field: reason` line per problem, not only the first."""
    assert add(config, country="XX", phone="555", **{"customer-email": "a@x.com,b@y.com",
                                                     "shipped-at": "9999-12-31"}) == 2  # fmt: skip
    lines = capsys.readouterr().err.strip().splitlines()
    fields = sorted(line.removeprefix("error: ").split(":")[0] for line in lines)
    assert fields == ["customer_email", "customer_phone", "destination_country", "shipped_at"]


def test_add_a_surepost_label_says_usps_tracks_it(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Finding 17: a UPS SurePost label carries a USPS number; USPS delivers it."""
    assert add(config, **{"tracking-number": "9261290113185417468510"}) == 0
    out = capsys.readouterr().out
    note = "UPS SurePost or Mail Innovations label: tracked with USPS, which delivers it"
    assert "added shipment 1: usps 9261290113185417468510" in out and note in out
    assert main(["show", "--config", str(config), "1"]) == 0
    assert note in capsys.readouterr().out


def test_add_without_email_says_no_customer_notice_will_go(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Finding 18: an order with no email is watched, with staff alerts only."""
    assert add(config, **{"customer-email": None}) == 0
    out = capsys.readouterr().out
    assert "added shipment 1" in out and "no customer email: staff alerts only" in out
    assert main(["show", "--config", str(config), "1"]) == 0
    assert "no customer email: staff alerts only" in capsys.readouterr().out


async def _store_extreme(config: Path) -> None:
    """A row as an older version let in: dates at the ends of what a datetime holds, bound
    for a place whose zone is ahead of UTC (converting 9999-12-31 23:00 UTC overflows)."""
    store = await open_store(load_settings(config).daemon.database)
    try:
        end = datetime(9999, 12, 31, 23, tzinfo=UTC)
        await store.add_shipment(Shipment(
            store="shop", carrier="ups", tracking_number="1Z5R89390357567127", order_id="X",
            customer_email="c@example.com", destination_country="JP", shipped_at=end,
            promised_by=end, eta=end, last_event_at=end), NOW)  # fmt: skip
    finally:
        await store.close()


def test_list_and_show_print_a_row_with_an_extreme_date(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Finding 1: `trackwatch list` crashed on such a row."""
    asyncio.run(_store_extreme(config))
    assert main(["list", "--config", str(config)]) == 0
    assert "9999-12-31 23:00 UTC" in capsys.readouterr().out
    assert main(["show", "--config", str(config), "1"]) == 0
    shown = capsys.readouterr().out
    assert "shipped 9999-12-31 23:00 UTC" in shown and "promised by 9999-12-31 23:00 UTC" in shown


def test_an_unreadable_row_is_listed_shown_and_restarted(
    config: Path, backend: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A row corrupted by hand: `list` names it, `show` says why it cannot, `restart` takes
    it back once mended (it does not need to read the row first)."""
    assert add(config) == 0
    database = load_settings(config).daemon.database
    asyncio.run(corrupt(database, 1, **UNREADABLE[backend]))
    capsys.readouterr()
    assert main(["list", "--config", str(config)]) == 0
    assert "set aside: unreadable row (" in capsys.readouterr().out
    assert main(["show", "--config", str(config), "1"]) == 2
    assert "shipment 1 cannot be read: unreadable row" in capsys.readouterr().err

    async def set_aside() -> None:
        store = await open_store(database)
        found = await store.list_shipments()
        await Quarantine(store, SystemClock()).set_aside(found.unreadable, "read")
        await store.close()

    asyncio.run(set_aside())
    asyncio.run(corrupt(database, 1, **MENDED[backend]))
    assert main(["restart", "--config", str(config), "1"]) == 0
    assert "it had stopped: unreadable row (" in capsys.readouterr().out
    assert main(["show", "--config", str(config), "1"]) == 0
    assert "set aside" not in capsys.readouterr().out


# --- issue 17 ------------------------------------------------------------------------------


def test_stop_needs_a_reason_says_what_it_did_and_restart_undoes_it(
    tmp_path: Path, database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Finding 7: there was no way to stop watching a shipment."""
    path = tmp_path / "trackwatch.toml"
    path.write_text(f'[daemon]\ndatabase = "{database}"\n[stores.shop]\n'
                    'name = "Shop"\nchannels.staff_email = ["mailto://127.0.0.1:9?from=a@b.c"]\n'
                    'channels.customer_email = ["mailto://127.0.0.1:9?from=o@b.c"]\n')  # fmt: skip
    config = ["--config", str(path)]
    assert add(path, **{"customer-email": "ada@example.org"}) == 0
    asyncio.run(_deliver_and_judge(path, 1))  # the delivered email waits for daytime
    with pytest.raises(SystemExit):
        main(["stop", *config, "1"])  # a reason is required
    assert "--reason" in capsys.readouterr().err
    assert main(["stop", *config, "1", "--reason", "refund\nissued"]) == 2
    assert "reason: contains a control character" in capsys.readouterr().err
    assert main(["stop", *config, "9", "--reason", "refunded"]) == 2
    assert "id: no shipment 9" in capsys.readouterr().err
    assert main(["stop", *config, "1", "--reason", "order refunded"]) == 0
    out = capsys.readouterr().out
    assert "shipment 1: stopped watching (by staff (cli): order refunded)" in out
    assert "resolved alert(s) #1" in out and "1 customer notice(s) cancelled" in out
    assert "staff told of 0 resolution(s)" in out  # a risky delivery (info) ending is no news
    assert main(["stop", *config, "1", "--reason", "again"]) == 0
    assert "already stopped" in capsys.readouterr().out
    assert main(["show", *config, "1"]) == 0
    shown = capsys.readouterr().out
    assert "\n  watching stopped" in shown and "by staff (cli): order refunded" in shown
    assert "nothing more goes to the customer" in shown and "trackwatch restart 1" in shown
    assert main(["notices", "--state", "cancelled", *config]) == 0
    out = capsys.readouterr().out
    assert "cancelled" in out and "not sent: watching stopped by staff (cli)" in out
    assert "ada@example.org" not in out
    assert main(["list", *config]) == 0
    assert "stopped by staff (cli): order refunded" in capsys.readouterr().out
    assert main(["restart", *config, "1"]) == 0
    assert "it had stopped: by staff (cli): order refunded" in capsys.readouterr().out
    assert main(["show", *config, "1"]) == 0
    assert "\n  watching stopped" not in capsys.readouterr().out
