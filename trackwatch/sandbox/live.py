"""`trackwatch sandbox`: the four carriers' tracking APIs on 127.0.0.1, in real time, serving
a generated world, so that a new user can watch the real daemon (`trackwatch run`) work in a
minute without a carrier account.

The sandbox also stands in for the store's Shopify Admin API, holding one order per parcel:
`trackwatch shopify backfill` brings them in instead of the CSV, and the daemon writes its
cases back to them as fulfillment events, which the sandbox prints.

The world's parcels were shipped over the last ten days, each with its story (on time,
stalled, late, damaged, lost, delivered...): the first poll already finds alerts to raise,
and parcels still moving get their next scans as the hours pass. Next to the carriers the
sandbox serves the store's staff chat (an HTTP sink) and customer inbox (an SMTP server) and
prints what reaches them. It writes a configuration pointing at all of this and a CSV of
the shipments; the daemon and the CLI use them as they would a real deployment's.
"""

from __future__ import annotations

import asyncio
import csv
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email.message import Message
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from trackwatch.chaos.process import free_port, to_toml
from trackwatch.clock import Clock
from trackwatch.sandbox.server import SandboxServer
from trackwatch.sandbox.shopify_shop import Shop, ShopOrder, order_of_parcel
from trackwatch.sandbox.sinks import HttpSink, Received
from trackwatch.sandbox.smtp import SmtpServer
from trackwatch.sandbox.world import World
from trackwatch.sim.run import ALWAYS, quotas
from trackwatch.sim.scenarios import SimParcel, generate

STORE = "shop"
SHIPPED_OVER = (timedelta(days=10), timedelta(days=3))  # labels printed from, until (ago)
CSV_COLUMNS = ("store", "order_id", "carrier", "tracking_number", "shipped_at",
               "customer_name", "customer_email", "destination_country",
               "destination_postal_code", "destination_city")  # fmt: skip


@dataclass
class Sandbox:
    carriers: SandboxServer
    chat: HttpSink
    inbox: SmtpServer
    config: Path
    shipments: Path

    async def close(self) -> None:
        await self.carriers.stop()
        await self.chat.stop()
        self.inbox.stop()


def world_now(clock: Clock, count: int, seed: int) -> tuple[World, list[SimParcel]]:
    """`count` parcels shipped over the last days, from `seed`, in the carriers' usual mix,
    served under each carrier's default quota."""
    start, end = (clock.now() - ago for ago in SHIPPED_OVER)
    parcels = generate(count, start, (end - start).total_seconds() / 86400, seed)
    world = World(quotas=quotas())
    for parcel in parcels:
        world.add(parcel.parcel)
    return world, parcels


async def open_sandbox(directory: Path, port: int, count: int, seed: int, clock: Clock,
                       out: Callable[[str], None] = print) -> Sandbox:  # fmt: skip
    """Serve the carriers on `port` (0: any), the chat sink and the inbox beside them, and
    write `trackwatch.toml` and `shipments.csv` into `directory`."""
    world, parcels = world_now(clock, count, seed)
    shop = shop_of(parcels, clock, out)
    carriers = await SandboxServer(world, clock, shop=shop).start(port)
    chat = await HttpSink(lambda item: out(chat_line(item))).start()
    inbox = SmtpServer(lambda message: out(mail_line(message)))
    inbox.start()
    data = config_data(directory, carriers.base_url, chat, inbox)
    data["stores"][STORE]["shopify"] = {
        "shop_domain": shop.domain, "access_token": shop.access_token,
        "admin_url": carriers.base_url, "write_back": True}  # fmt: skip
    config, shipments = write_files(directory, data, parcels)
    return Sandbox(carriers, chat, inbox, config, shipments)


def shop_of(parcels: list[SimParcel], clock: Clock, out: Callable[[str], None]) -> Shop:
    """The store's Shopify shop: an order per parcel; its fulfillment events print."""
    shop = Shop(clock, on_event=lambda order, event: out(shop_line(order, event)))
    for p in parcels:
        d = p.parcel.destination
        address = {"name": f"Customer {p.key}", "city": d.city, "zip": d.postal_code,
                   "countryCodeV2": d.country or "US"}  # fmt: skip
        shop.add_order(order_of_parcel(p.key, f"S{p.key:04d}", p.parcel.carrier,
                                       p.parcel.number, p.shipped_at, address))  # fmt: skip
    return shop


def shop_line(order: ShopOrder, event: dict[str, Any]) -> str:
    return f"[shopify] order {order.name}: {event['status']} ({event['message']})"


def write_files(directory: Path, config: dict[str, Any], parcels: list[SimParcel]
                ) -> tuple[Path, Path]:  # fmt: skip
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "trackwatch.toml").write_text(to_toml(config))
    write_csv(directory / "shipments.csv", parcels)
    return directory / "trackwatch.toml", directory / "shipments.csv"


def config_data(directory: Path, carriers_url: str, chat: HttpSink, inbox: SmtpServer
                ) -> dict[str, Any]:  # fmt: skip
    """A configuration like a real one, pointed at the sandbox (its credentials are the
    sandbox's: it takes any)."""
    carriers = {name: {"base_url": carriers_url, "client_id": "sandbox",
                       "client_secret": "sandbox-secret", "api_key": "sandbox-key"}
                for name in ("usps", "ups", "fedex", "dhl")}  # fmt: skip
    store = {"name": "Sandbox Shop", "contact_email": "help@shop.example",
             "policy": {"staff": ALWAYS, "origin_country": "US"},
             "channels": {"staff_chat": [chat.url("staff")],
                          "customer_email": [inbox.url("orders@shop.example")]}}  # fmt: skip
    daemon = {"database": str(directory / "trackwatch.db"), "http_host": "127.0.0.1",
              "http_port": free_port()}  # fmt: skip
    return {"daemon": daemon, "carriers": carriers, "stores": {STORE: store}}


def write_csv(path: Path, parcels: list[SimParcel]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for p in parcels:
            d = p.parcel.destination
            writer.writerow((STORE, f"S{p.key:04d}", p.parcel.carrier, p.parcel.number,
                             p.shipped_at.isoformat(), f"Customer {p.key}",
                             f"c{p.key}@example.com", d.country or "US", d.postal_code or "",
                             d.city or ""))  # fmt: skip


def chat_line(item: Received) -> str:
    title = str(item.body.get("title", "")).strip()
    first = str(item.body.get("message", "")).strip().splitlines()[:1]
    more = first and first[0].rstrip(".") not in title
    return f"[staff chat] {title}" + (f": {first[0]}" if more else "")


def mail_line(message: Message) -> str:
    return f"[email to {parseaddr(str(message['To']))[1]}] {message['Subject']}"


def instructions(sandbox: Sandbox) -> str:
    config, csv_file = sandbox.config, sandbox.shipments
    return "\n".join((
        f"carriers' sandbox on {sandbox.carriers.base_url} (USPS, UPS, FedEx, DHL; their "
        "default quotas) and the store's Shopify Admin API; staff chat, customer email and "
        "Shopify fulfillment events print here",
        f"wrote {config} and {csv_file}; in another terminal:",
        f"  trackwatch import --config {config} {csv_file}",
        f"  (or from the sandbox's Shopify: trackwatch shopify backfill --config {config} "
        f"--store {STORE})",
        f"  trackwatch run --config {config}",
        f"  trackwatch alerts --config {config}      # once the first poll is in",
        "Ctrl-C stops the sandbox.",
    ))  # fmt: skip


async def serve_sandbox(directory: Path, port: int, count: int, seed: int, clock: Clock) -> int:
    """Run until SIGINT or SIGTERM."""
    sandbox = await open_sandbox(directory, port, count, seed, clock)
    print(instructions(sandbox), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await sandbox.close()
    return 0
