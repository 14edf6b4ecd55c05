"""The fuzz phase: the real daemon (`trackwatch run`, two stores, each with an API token and
a Shopify secret) sent Hypothesis-generated requests over HTTP: API bodies, correctly
signed Shopify webhooks, report-link paths; and generated CSV files to `trackwatch import`.

Checks: no answer 5xx (nor no answer at all, nor an import that crashes), nothing stored on
refusal (row counts before and after each request; a success stores exactly what its answer
says), store b's token never sees store a's shipments, and the daemon is alive at the end.
"""

from __future__ import annotations

import asyncio
import importlib.util
import time
from pathlib import Path

from trackwatch.chaos.carriers import ChaosSandbox
from trackwatch.chaos.fuzz_client import FuzzClient, Tally
from trackwatch.chaos.process import DaemonProcess, free_port, to_toml, until
from trackwatch.chaos.report import PhaseResult
from trackwatch.clock import SystemClock
from trackwatch.config import build_settings
from trackwatch.errors import InputError
from trackwatch.sandbox.world import World

STORES = ("a", "b")
LINK_SECRET = "chaos-link-secret-0123456789"


def require_hypothesis() -> None:
    if importlib.util.find_spec("hypothesis") is None:
        raise InputError("phases", "the fuzz phase needs Hypothesis, a dev dependency: "
                         "pip install -e '.[dev]' (or leave fuzz out of --phases)")  # fmt: skip


def write_config(workdir: Path, carriers_url: str, port: int) -> FuzzClient:
    tokens = {s: f"chaos-token-{s}-" + s * 24 for s in STORES}
    secrets = {s: f"chaos-shopify-{s}-" + s * 16 for s in STORES}
    carriers = {name: {"base_url": carriers_url, "client_id": "chaos",
                       "client_secret": "chaos-secret", "api_key": "chaos-key"}
                for name in ("usps", "ups", "fedex", "dhl")}  # fmt: skip
    stores = {s: {"name": f"Store {s.upper()}", "api_token": tokens[s],
                  "shopify_secret": secrets[s]} for s in STORES}  # fmt: skip
    db = workdir / "fuzz.db"
    data = {"daemon": {"database": str(db), "http_port": port, "link_secret": LINK_SECRET},
            "carriers": carriers, "stores": stores}  # fmt: skip
    build_settings(data)
    config = workdir / "fuzz.toml"
    config.write_text(to_toml(data))
    return FuzzClient(f"http://127.0.0.1:{port}", db, config, tokens, secrets,
                      LINK_SECRET.encode(), workdir)  # fmt: skip


async def run_fuzz(examples: int, seed: int, workdir: Path) -> PhaseResult:
    require_hypothesis()
    # Imported here, not at the top: Hypothesis is a dev dependency, and `trackwatch chaos`
    # without the fuzz phase runs without it.
    runs = importlib.import_module("trackwatch.chaos.fuzz_runs")

    started = time.monotonic()
    sandbox = await ChaosSandbox(World(), SystemClock()).start()
    try:
        client = write_config(workdir, sandbox.base_url, free_port())
        daemon = DaemonProcess(client.config, workdir / "fuzz.log")
        await daemon.start()
        ready = await until(lambda: asyncio.to_thread(client.ready), 60, every=0.2)
        if ready:
            await asyncio.to_thread(runs.fuzz_everything, client, examples, seed)
        alive = daemon.alive
        health = await asyncio.to_thread(client.health)
        status = await daemon.stop()
    finally:
        await sandbox.stop()
    result = verdict(client.tally, ready and alive, health, status)
    result.seconds = time.monotonic() - started
    return result


def verdict(tally: Tally, alive: bool, health: int, status: int | None) -> PhaseResult:
    result = PhaseResult("fuzz")
    result.figures.update({
        "requests": dict(tally.requests), "answers": dict(sorted(tally.statuses.items())),
        "csv_imports": dict(tally.imports), "shipments_stored": tally.stored,
        "healthz_at_the_end": health, "exit_status_on_sigterm": status,
    })  # fmt: skip
    result.target("5xx answers (or none, or a crashed import)", "0",
                  {"count": len(tally.server_errors), "examples": tally.server_errors[:5]},
                  not tally.server_errors)  # fmt: skip
    result.target("rows stored on refusal", "0",
                  {"count": len(tally.stored_on_refusal),
                   "examples": tally.stored_on_refusal[:5]},
                  not tally.stored_on_refusal)  # fmt: skip
    result.target("cross-store access", "0",
                  {"count": len(tally.cross_store), "examples": tally.cross_store[:5]},
                  not tally.cross_store)  # fmt: skip
    result.target("the daemon never exits", "alive after the fuzzing, exit 0 on SIGTERM",
                  {"alive": alive, "exit": status}, alive and status == 0)  # fmt: skip
    return result
