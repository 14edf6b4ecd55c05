"""Importing a CSV file from the staff console (issue 20: every CLI operator action is a
console action), over real HTTP with multipart uploads: the CLI's formats and report, a
store's staff confined to their store, the CSRF token checked before the file is read."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from tests.backends import execute
from tests.conftest import both_backends
from tests.test_console import Console, console, page, sign_in, token  # noqa: F401 (fixture)

pytestmark = both_backends
EXPORT = Path(__file__).parent / "fixtures" / "imports" / "shipstation-shipments.csv"
NATIVE = (
    "store,carrier,tracking_number,order_id,customer_email,destination_country,shipped_at\n"
    "shop,usps,9400111899223100012348,shop-8,a@shop.example,US,2026-11-22T10:00:00+00:00\n"
    "other,usps,9400111899223100012355,other-8,b@other.example,US,2026-11-22T10:00:00+00:00\n"
)


async def upload(http: aiohttp.ClientSession, csrf: str | None, content: bytes,
                 **fields: str) -> tuple[int, str]:  # fmt: skip
    form = aiohttp.FormData()
    if csrf is not None:
        form.add_field("csrf", csrf)
    for name, value in fields.items():
        form.add_field(name, value)
    form.add_field("file", content, filename="orders.csv", content_type="text/csv")
    async with http.post("/console/import", data=form, allow_redirects=False) as response:
        return response.status, await response.text()


async def orders(site: Console, *numbers: str) -> dict[str, str]:
    found = {}
    for number in numbers:
        for s in await site.store.find_shipments(None, number):
            found[s.order_id] = s.store
    return found


async def test_staff_import_an_export_into_their_own_store(console: Console) -> None:  # noqa: F811
    async with console.client() as http:
        await sign_in(http, "ann")
        csrf = await token(http)
        status, text = await page(http, "/console/import")
        assert status == 200 and 'enctype="multipart/form-data"' in text
        status, _ = await upload(http, csrf, EXPORT.read_bytes(), store="other")
        assert status == 403
        assert await orders(console, "1046") == {}
        status, text = await upload(http, None, EXPORT.read_bytes())
        assert status == 403 and await orders(console, "1046") == {}
        status, text = await upload(http, csrf, EXPORT.read_bytes(), dry_run="yes")
        assert "6 would be added, 0 already watched" in text and "nothing was stored" in text
        assert await orders(console, "1046") == {}
        status, text = await upload(http, csrf, EXPORT.read_bytes())
        assert status == 200
        assert "<strong>shipstation</strong> format: 6 added, 0 already watched" in text
    assert await orders(console, "1046", "1051") == {"1046": "shop", "1051": "shop"}
    rows = await execute(console.database, "SELECT staff, store, action, detail FROM staff_actions")
    assert [tuple(r) for r in rows] == [("ann", "shop", "import", "shipstation: 6 added, 0 already "
        "watched, 0 bad row(s), 1 skipped (no tracking number, or not shipped), 1 repeated "
        "row(s) of the same shipment")]  # fmt: skip


async def test_rows_naming_another_store_are_bad_rows_for_a_stores_staff(
    console: Console,  # noqa: F811
) -> None:
    async with console.client() as http:
        await sign_in(http, "ann")
        status, text = await upload(http, await token(http), NATIVE.encode())
    assert status == 200 and "1 added, 0 already watched, 1 bad row(s)" in text
    assert "line 3: <strong>store</strong>: not one of the stores you may import into" in text
    assert await orders(console, "shop-8", "other-8") == {"shop-8": "shop"}
    async with console.client() as http:
        await sign_in(http, "root")  # an operator imports into every store named
        status, text = await upload(http, await token(http), NATIVE.encode())
    assert "1 added, 1 already watched, 0 bad row(s)" in text
    assert await orders(console, "shop-8", "other-8") == {"shop-8": "shop", "other-8": "other"}


async def test_a_file_that_cannot_be_read_is_refused_with_nothing_stored(
    console: Console,  # noqa: F811
) -> None:
    async with console.client() as http:
        await sign_in(http, "root")
        status, text = await upload(http, await token(http), b"\xff\xfe\x00bad")
        assert status == 400 and "Nothing was imported: file:" in text
        status, text = await upload(http, await token(http), b"")
        assert status == 400 and "the file is empty" in text


async def test_a_form_field_longer_than_any_value_is_refused(console: Console) -> None:  # noqa: F811
    async with console.client() as http:
        await sign_in(http, "root")
        status, text = await upload(http, await token(http), NATIVE.encode(), store="x" * 5000)
    assert status == 400 and "store: longer than any value this form takes" in text
    assert await orders(console, "shop-8") == {}
