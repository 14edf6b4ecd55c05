"""The console's store methods on both backends: accounts, the viewer's alerts (urgent and
oldest first, filtered, one store's alone), search, triage, resend, the audit trail."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from tests.conftest import both_backends
from tests.console_kit import NOW, accounts, many_alerts, seed
from trackwatch.model import NoticeState, Severity
from trackwatch.store import Store
from trackwatch.store.records import STAFF, AlertQuery, StaffAccount, StaffAction

pytestmark = both_backends


async def test_accounts_are_added_once_and_a_new_password_moves_the_generation(
    any_store: Store,
) -> None:
    await accounts(any_store)
    assert not await any_store.add_staff(StaffAccount("ann", STAFF, "x", "h"), NOW)
    ann = await any_store.staff_account("ann")
    assert ann is not None and ann.stores == frozenset({"shop"}) and ann.generation == 0
    root = await any_store.staff_account("root")
    assert root is not None and root.stores is None
    assert await any_store.set_staff_password("ann", "new hash")
    ann = await any_store.staff_account("ann")
    assert ann is not None and (ann.password_hash, ann.generation) == ("new hash", 1)
    assert await any_store.remove_staff("ann") and not await any_store.remove_staff("ann")
    assert await any_store.staff_account("ann") is None


async def test_alerts_are_the_viewers_stores_most_urgent_first(
    any_store: Store, database: str
) -> None:
    ids = await seed(any_store, database)
    mine = await any_store.console_alerts(AlertQuery(frozenset({"shop"})), NOW)
    assert [(r.alert.rule, r.order_id) for r in mine] == [("lost", "shop-1001"),
                                                          ("stalled", "shop-1001")]  # fmt: skip
    assert {r.alert.shipment_id for r in mine} == {ids["shop"]}
    every = await any_store.console_alerts(AlertQuery(None), NOW)
    assert len(every) == 4 and [r.alert.severity for r in every[:2]] == [Severity.URGENT] * 2
    urgent = AlertQuery(None, store="other", severity="urgent", carrier="ups")
    assert [r.alert.rule for r in await any_store.console_alerts(urgent, NOW)] == ["lost"]
    assert await any_store.console_alerts(AlertQuery(frozenset()), NOW) == []


async def test_a_snoozed_alert_leaves_the_list_until_its_time(
    any_store: Store, database: str
) -> None:
    await seed(any_store, database)
    first = (await any_store.console_alerts(AlertQuery(frozenset({"shop"})), NOW))[0]
    assert await any_store.snooze_alert(first.alert.id, NOW + timedelta(hours=2))
    assert await any_store.assign_alert(first.alert.id, "ann")
    rows = await any_store.console_alerts(AlertQuery(frozenset({"shop"})), NOW)
    assert first.alert.id not in [r.alert.id for r in rows]
    later = await any_store.console_alerts(AlertQuery(frozenset({"shop"})),
                                           NOW + timedelta(hours=3))  # fmt: skip
    back = [r for r in later if r.alert.id == first.alert.id]
    assert back and back[0].assignee == "ann"


async def test_search_finds_by_order_number_or_any_case_email_within_the_stores(
    any_store: Store, database: str
) -> None:
    ids = await seed(any_store, database)
    shop = frozenset({"shop"})
    for text in ("shop-1001", "1Z5R89390357567127", "buyer@SHOP.example"):
        assert [s.id for s in await any_store.find_shipments(shop, text)] == [ids["shop"]]
    assert await any_store.find_shipments(shop, "other-1001") == []
    assert [s.id for s in await any_store.find_shipments(None, "other-1001")] == [ids["other"]]


async def test_a_dead_notice_is_sent_again_and_actions_are_recorded(
    any_store: Store, database: str
) -> None:
    ids = await seed(any_store, database)
    (notice,) = await any_store.notices_of_shipment(ids["shop"])
    assert notice.state is NoticeState.DEAD
    assert await any_store.resend_notice(notice.id, NOW)
    assert not await any_store.resend_notice(notice.id, NOW)  # pending now, not dead
    again = await any_store.get_notice(notice.id)
    assert again is not None and again.state is NoticeState.PENDING and again.attempts == 0
    action = StaffAction(NOW, "ann", "shop", "resend", ids["shop"], None, notice.id, "x")
    await any_store.record_action(action)
    assert await any_store.staff_actions(ids["shop"]) == [action]
    assert await any_store.staff_actions(ids["other"]) == []


async def test_alerts_come_a_page_at_a_time_and_are_counted(
    any_store: Store, database: str
) -> None:
    await seed(any_store, database)
    await many_alerts(any_store, 150, "usps")
    await many_alerts(any_store, 30, "ups", start=150)
    mine = frozenset({"shop"})
    query = AlertQuery(mine, carrier="usps", limit=100)
    assert await any_store.count_console_alerts(query, NOW) == 150
    first = await any_store.console_alerts(query, NOW)
    rest = await any_store.console_alerts(replace(query, offset=100), NOW)
    assert (len(first), len(rest)) == (100, 50)
    assert len({r.alert.id for r in first} | {r.alert.id for r in rest}) == 150
    assert {r.carrier for r in first + rest} == {"usps"}
    assert await any_store.count_console_alerts(AlertQuery(mine), NOW) == 182  # seed's 2 too
    assert await any_store.count_console_alerts(AlertQuery(frozenset({"other"})), NOW) == 2
    assert await any_store.count_console_alerts(AlertQuery(frozenset()), NOW) == 0
