"""The fuzz phase's Hypothesis runs, one per way in, each `examples` long and seeded; the
client (fuzz_client.py) sends each example and judges the answer. Nothing here raises on a
bad answer: it is tallied, so that one run reports every kind of failure it met.

Imported only once Hypothesis is known to be installed (fuzz.py checks).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as seeded
from hypothesis import strategies as st

from trackwatch.chaos.fuzz_client import FuzzClient
from trackwatch.chaos.fuzz_inputs import (
    ASCII,
    TOPICS,
    api_bodies,
    csv_files,
    link_tokens,
    webhook_bodies,
)

WHO = st.sampled_from(["a", "b", "a", "b", "stranger", "none"])
CONTENT_TYPES = st.sampled_from(
    ["application/json", "text/plain", "application/x-www-form-urlencoded"]
)


def _run(test: Callable[..., None], examples: int, seed: int) -> None:
    """Run a @given test `examples` times: no shrinking (nothing fails inside), no database
    of examples, no deadline (the daemon's answers take real time)."""
    configured = settings(max_examples=examples, deadline=None, database=None,
                          phases=(Phase.generate,), suppress_health_check=list(HealthCheck))  # fmt: skip
    seeded(seed)(configured(test))()


def fuzz_api(client: FuzzClient, examples: int, seed: int) -> None:
    @given(api_bodies(), WHO, CONTENT_TYPES)
    def post(body: bytes, who: str, content_type: str) -> None:
        client.post_shipment(body, who, content_type)

    _run(post, examples, seed)
    ids = st.one_of(st.sampled_from([str(i) for i in client.ids("a") + client.ids("b")] or ["1"]),
                    st.text(max_size=20), st.integers(-5, 10**12).map(str))  # fmt: skip

    @given(ids, WHO)
    def get(text: str, who: str) -> None:
        client.get_shipment(text, who)

    @given(st.text(ASCII, max_size=40), WHO)
    def alerts(query: str, who: str) -> None:
        client.list_alerts(query, who)

    @given(ids, WHO, st.one_of(st.just(b""), api_bodies()))
    def report(text: str, who: str, body: bytes) -> None:
        client.report_missing(text, who, body)

    for test in (get, alerts, report):
        _run(test, examples, seed)


def fuzz_shopify(client: FuzzClient, examples: int, seed: int) -> None:
    stores = st.sampled_from(["a", "b", "a", "b", "nowhere"])

    @given(stores, webhook_bodies(), stores, TOPICS, st.text(ASCII, max_size=20))
    def deliver(store: str, body: bytes, signer: str, topic: str, delivery: str) -> None:
        client.webhook(store, body, signer, topic, delivery)

    _run(deliver, examples, seed)


def fuzz_links(client: FuzzClient, examples: int, seed: int) -> None:
    @given(st.sampled_from(["GET", "POST"]), link_tokens(client.genuine_links()))
    def follow(method: str, token: str) -> None:
        client.report_link(method, token)

    _run(follow, examples, seed)


def fuzz_csv(client: FuzzClient, files: int, seed: int) -> None:
    @given(csv_files())
    def load(content: bytes) -> None:
        client.import_csv(content)

    _run(load, files, seed)


def sweep(client: FuzzClient) -> None:
    """Store b's token against every shipment of store a, and a's webhook signed by b."""
    for shipment_id in client.ids("a"):
        client.get_shipment(str(shipment_id), "b")
        client.report_missing(str(shipment_id), "b", b"")
    client.list_alerts("state=all&limit=1000", "b")
    client.webhook("a", b'{"id": 1}', "b", "fulfillments/create", "sweep-1")


def fuzz_everything(client: FuzzClient, examples: int, seed: int) -> dict[str, Any]:
    fuzz_api(client, examples, seed)
    fuzz_shopify(client, examples, seed)
    fuzz_links(client, examples, seed)
    fuzz_csv(client, max(3, examples // 20), seed)
    sweep(client)
    return dict(client.tally.requests)
