"""Parser throughput per carrier on the same payloads: ours (json.loads and the carrier's
parse, as its client reads an answer), karrio's connector (its proxy's deserializer and
parse_tracking_response: an optional extra, `pip install -e '.[bench]'`), and the floor,
json.loads plus a walk of every node.

The payloads are the sandbox's answers (each carrier's published shapes), fetched once
through our own clients from a server in this process, then parsed from memory."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp

from carriers import CARRIERS, Credentials, Query
from carriers.base import HttpResponse
from carriers.dhl.parse import parse as dhl_parse
from carriers.fedex.parse import parse as fedex_parse
from carriers.ups.parse import parse as ups_parse
from carriers.usps.parse import parse as usps_parse
from trackwatch.benchmark.karrio import karrio_parsers
from trackwatch.chaos.world import past_parcels, world_of
from trackwatch.clock import SystemClock
from trackwatch.sandbox.server import SandboxServer

Parse = Callable[[bytes], object]

OURS: dict[str, Parse] = {
    "usps": lambda body: usps_parse(json.loads(body)),
    "ups": lambda body: ups_parse(json.loads(body)),
    "fedex": lambda body: fedex_parse(json.loads(body)),
    "dhl": lambda body: dhl_parse(json.loads(body)),
}


def walk(node: object) -> int:
    """Every node of a decoded document visited once: the least any parser must do."""
    if isinstance(node, dict):
        return 1 + sum(walk(value) for value in node.values())
    if isinstance(node, list):
        return 1 + sum(walk(value) for value in node)
    return 1


def loads_and_walk(body: bytes) -> int:
    return walk(json.loads(body))


@dataclass
class Recorder:
    """A Transport that sends with aiohttp and keeps every 200 tracking answer's body."""

    session: aiohttp.ClientSession
    bodies: dict[str, list[bytes]] = field(default_factory=lambda: defaultdict(list))

    async def request(self, carrier: str, method: str, url: str, *,
                      headers: Mapping[str, str] | None = None,
                      params: Mapping[str, str] | None = None, json_body: Any = None,
                      form: Mapping[str, str] | None = None) -> HttpResponse:  # fmt: skip
        async with self.session.request(method, url, headers=headers, params=params,
                                        json=json_body, data=form) as resp:  # fmt: skip
            response = HttpResponse(resp.status, resp.headers, await resp.read())
        if resp.status == 200 and "token" not in url:
            self.bodies[carrier].append(response.body)
        return response


async def payloads(count: int, seed: int = 5) -> dict[str, list[bytes]]:
    """Each carrier's tracking answers for `count` parcels of the four carriers, in the
    batches its client sends."""
    now = datetime.now(UTC)
    parcels = past_parcels(count, seed, now)
    server = await SandboxServer(world_of(parcels), SystemClock()).start()
    try:
        async with aiohttp.ClientSession() as session:
            recorder = Recorder(session)
            creds = Credentials(server.base_url, "bench", "secret", "key")
            for name, factory in CARRIERS.items():
                client = factory(recorder, SystemClock(), creds)
                queries = [Query(p.parcel.number) for p in parcels if p.parcel.carrier == name]
                size = client.batch_size
                for start in range(0, len(queries), size):
                    await client.track(queries[start : start + size])
            return dict(recorder.bodies)
    finally:
        await server.stop()


def rate(parse: Parse, bodies: Sequence[bytes], seconds: float) -> float:
    """Answers parsed per second (CPU time), over whole rounds of `bodies` for at least
    `seconds`."""
    done, started = 0, time.process_time()
    while True:
        for body in bodies:
            parse(body)
        done += len(bodies)
        spent = time.process_time() - started
        if spent >= seconds:
            return done / spent


@dataclass(frozen=True)
class ParserRates:
    carrier: str
    answers: int
    numbers: int
    ours: float
    floor: float
    karrio: float | None  # None: not installed
    karrio_error: str = ""


def measure(bodies: Mapping[str, Sequence[bytes]], seconds: float) -> list[ParserRates]:
    karrio = karrio_parsers()
    rows = []
    for carrier, answers in bodies.items():
        numbers = sum(len(r) for r in map(OURS[carrier], answers) if isinstance(r, list))
        theirs, error = None, ""
        if carrier in karrio:
            try:
                theirs = rate(karrio[carrier], answers, seconds)
            except Exception as exc:  # their parser on our payloads: say so, go on
                error = f"{type(exc).__name__}: {exc}"[:80]
        rows.append(ParserRates(carrier, len(answers), numbers, rate(OURS[carrier], answers, seconds),
                                rate(loads_and_walk, answers, seconds), theirs, error))  # fmt: skip
    return rows
