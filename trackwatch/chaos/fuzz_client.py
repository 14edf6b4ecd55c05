"""The fuzz phase's hands and eyes: requests to the daemon's HTTP app (blocking, from a
worker thread), `trackwatch import` runs, row counts of its database, and the tally of what
went wrong."""

from __future__ import annotations

import http.client
import json
import re
import sqlite3
import subprocess
import urllib.error
import urllib.request
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from trackwatch.chaos.process import command
from trackwatch.web.shopify import signature
from trackwatch.web.signing import ReportLinks

Counts = tuple[int, int, int]  # shipments, webhook receipts, missing reports
_COUNTS = (
    "SELECT (SELECT COUNT(*) FROM shipments), (SELECT COUNT(*) FROM webhook_receipts),"
    " (SELECT COUNT(*) FROM shipments WHERE missing_reported_at IS NOT NULL)"
)
_ADDED = re.compile(r": (\d+) added, ")


@dataclass
class Tally:
    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    imports: Counter[str] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    stored_on_refusal: list[str] = field(default_factory=list)
    cross_store: list[str] = field(default_factory=list)
    stored: int = 0


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


@dataclass
class FuzzClient:
    base: str
    db: Path
    config: Path
    tokens: dict[str, str]
    secrets: dict[str, str]
    link_secret: bytes
    workdir: Path
    tally: Tally = field(default_factory=Tally)
    last_failure: str = ""  # why the latest request got no answer
    _files: int = 0

    def send(self, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, bytes]:  # fmt: skip
        """(status, body); status 0 when the daemon gave no answer at all."""
        request = urllib.request.Request(self.base + path, data=body, method=method,
                                         headers=headers or {})  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                return int(response.status), response.read()
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.read()
        except (OSError, http.client.HTTPException) as exc:
            self.last_failure = f"{type(exc).__name__}: {exc}"
            return 0, b""

    def ready(self) -> bool:
        return self.health() != 0

    def health(self) -> int:
        return self.send("GET", "/healthz")[0]

    def counts(self) -> Counts:
        with closing(sqlite3.connect(self.db, timeout=10)) as conn:
            row = conn.execute(_COUNTS).fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    def owner(self, shipment_id: int) -> str | None:
        with closing(sqlite3.connect(self.db, timeout=10)) as conn:
            row = conn.execute("SELECT store FROM shipments WHERE id=?", (shipment_id,)).fetchone()
        return str(row[0]) if row else None

    def ids(self, store: str) -> list[int]:
        with closing(sqlite3.connect(self.db, timeout=10)) as conn:
            rows = conn.execute("SELECT id FROM shipments WHERE store=?", (store,)).fetchall()
        return [int(r[0]) for r in rows]

    def judge(self, what: str, status: int, before: Counts, created: int) -> None:
        """One answer: never 5xx; a refusal stores nothing; a success stores exactly the
        shipments its answer says it created, and no report unless it says so."""
        after = self.counts()
        self.tally.requests[what.split(" ", maxsplit=1)[0]] += 1
        self.tally.statuses[status] += 1
        if status == 0 or status >= 500:
            failure = status or f"no answer ({self.last_failure})"
            self.tally.server_errors.append(f"{what}: {failure}")
        stored = (after[0] - before[0], after[1] - before[1], after[2] - before[2])
        self.tally.stored += stored[0]
        if status >= 400 and stored != (0, 0, 0):
            self.tally.stored_on_refusal.append(f"{what}: {status} yet stored {stored}")
        elif status < 400 and (stored[0] != created or stored[2] != 0):
            self.tally.stored_on_refusal.append(f"{what}: {status} said {created} new, "
                                                f"stored {stored}")  # fmt: skip

    def bearer(self, who: str) -> dict[str, str]:
        token = self.tokens.get(who, "not-a-token-" + who)
        return {} if who == "none" else {"Authorization": f"Bearer {token}"}

    def post_shipment(self, body: bytes, who: str, content_type: str) -> None:
        before = self.counts()
        status, raw = self.send("POST", "/api/v1/shipments", body,
                                {**self.bearer(who), "Content-Type": content_type})  # fmt: skip
        answer = _json(raw)
        if status in (200, 201) and isinstance(answer, dict):
            self.leak(who, answer.get("shipment", {}).get("store"), "POST shipments")
        self.judge(f"api POST shipments as {who}", status, before, int(status == 201))

    def get_shipment(self, text: str, who: str) -> None:
        before = self.counts()
        status, raw = self.send("GET", f"/api/v1/shipments/{quote(text, safe='')}",
                                headers=self.bearer(who))  # fmt: skip
        answer = _json(raw)
        if status == 200 and isinstance(answer, dict):
            self.leak(who, answer.get("store"), f"GET shipment {text!r}")
        self.judge(f"api GET shipment as {who}", status, before, 0)

    def list_alerts(self, query: str, who: str) -> None:
        before = self.counts()
        path = f"/api/v1/alerts?{quote(query, safe='=&')}"
        status, raw = self.send("GET", path, headers=self.bearer(who))
        answer = _json(raw)
        if status == 200 and isinstance(answer, dict):
            for alert in answer.get("alerts", []):
                self.leak(who, self.owner(int(alert.get("shipment_id") or 0)), "GET alerts")
        self.judge(f"api GET alerts as {who}", status, before, 0)

    def report_missing(self, text: str, who: str, body: bytes) -> None:
        before = self.counts()
        path = f"/api/v1/shipments/{quote(text, safe='')}/report-missing"
        status, _ = self.send("POST", path, body, self.bearer(who))
        if status == 200 and text.isdigit():
            self.leak(who, self.owner(int(text)), f"report-missing {text}")
        self.judge(f"api POST report-missing as {who}", status, before, 0)

    def leak(self, who: str, store: Any, what: str) -> None:
        if who in self.tokens and store is not None and store != who:
            self.tally.cross_store.append(f"{what}: store {who}'s token saw store {store}'s")

    def webhook(self, store: str, body: bytes, signer: str, topic: str, delivery: str) -> None:
        headers = {"Content-Type": "application/json", "X-Shopify-Topic": topic,
                   "X-Shopify-Hmac-Sha256": signature(self.secrets.get(signer, "x"), body)}  # fmt: skip
        if delivery:
            headers["X-Shopify-Webhook-Id"] = delivery
        before = self.counts()
        status, raw = self.send("POST", f"/webhooks/shopify/{quote(store, safe='')}", body,
                                headers)  # fmt: skip
        answer = _json(raw)
        made = answer.get("shipments", []) if status == 200 and isinstance(answer, dict) else []
        created = sum(1 for s in made if isinstance(s, dict) and s.get("created"))
        for item in made if isinstance(made, list) else []:
            self.leak(store, self.owner(int(item.get("id") or 0)), "shopify webhook")
        if status == 200 and signer != store:
            self.tally.cross_store.append(f"webhook to {store} signed with {signer}'s secret: 200")
        self.judge(f"shopify webhook to {store}", status, before, created)

    def genuine_links(self) -> list[str]:
        links = ReportLinks(self.link_secret, self.base)
        later = datetime.now(UTC) + timedelta(days=30)
        return [links.token(i, later) for i in [*self.ids("a")[:5], *self.ids("b")[:5], 999_999]]

    def report_link(self, method: str, token: str) -> None:
        before = self.counts()
        status, _ = self.send(method, f"/report-missing/{quote(token, safe='')}",
                              b"" if method == "POST" else None)  # fmt: skip
        self.judge(f"link {method}", status, before, 0)

    def import_csv(self, content: bytes) -> None:
        self._files += 1
        path = self.workdir / f"fuzz-{self._files}.csv"
        path.write_bytes(content)
        before = self.counts()
        run = subprocess.run(command("import", str(path), "--config", str(self.config)),
                             capture_output=True, timeout=120, check=False)  # fmt: skip
        self.tally.imports[f"exit {run.returncode}"] += 1
        crashed = b"Traceback" in run.stderr or run.returncode not in (0, 1, 2)
        if crashed:
            tail = run.stderr.decode(errors="replace").strip().splitlines()[-1:]
            self.tally.server_errors.append(f"import {path.name} crashed: {tail}")
        added = _ADDED.search(run.stdout.decode(errors="replace"))
        status = 500 if crashed else (400 if run.returncode == 2 else 200)
        self.judge(f"csv import {path.name}", status, before, int(added[1]) if added else 0)
