"""The daemon and its configuration: run, check-config, migrate-store. `run` and
`check-config` read every secret: the daemon uses them, and check-config vouches for them."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from carriers import CARRIERS
from trackwatch.cli.common import config_path, emit, settings_for
from trackwatch.config import Settings, load_settings
from trackwatch.store import redacted
from trackwatch.views import policy_lines


def run(args: argparse.Namespace) -> int:
    from trackwatch import collector
    from trackwatch.clock import SystemClock
    from trackwatch.logs import configure as configure_logging
    from trackwatch.service import run_forever

    path = config_path(args)
    settings = load_settings(path)
    configure_logging(settings.daemon.log_level, settings)
    if args.own_process:
        collector.tune()
    asyncio.run(run_forever(settings, SystemClock(), path))
    return 0


def check_config(args: argparse.Namespace) -> int:
    """The positional FILE, or the configuration every command finds (--config, ...)."""
    if args.file is not None:
        args.config = args.file
    path = config_path(args)
    settings = settings_for(args, secrets="read")
    if args.json:
        emit(_config_document(settings, path))
    else:
        _print_config(settings, path)
    return 0


def _channel_counts(settings: Settings, store_id: str) -> dict[str, int]:
    channels = settings.stores[store_id].channels
    return {kind: len(urls) for kind, urls in channels.model_dump().items()}


def _config_document(settings: Settings, path: Path) -> dict[str, Any]:
    """The effective settings without a secret: channels are counted, not shown."""
    carriers = {name: {"enabled": settings.carriers.get(name).enabled,
                       "base_url": settings.carriers.get(name).base_url} for name in CARRIERS}  # fmt: skip
    stores = {
        store_id: {"name": store.name, "channels": _channel_counts(settings, store_id),
                   "policy_file": str(store.policy_file) if store.policy_file else None,
                   "policy": store.policy.model_dump(mode="json")}
        for store_id, store in settings.stores.items()
    }  # fmt: skip
    return {"config": str(path), "ok": True, "database": redacted(settings.daemon.database),
            "carriers": carriers, "stores": stores}  # fmt: skip


def _print_config(settings: Settings, path: Path) -> None:
    print(f"{path}: OK")
    print(f"database: {redacted(settings.daemon.database)}")
    for name in CARRIERS:
        carrier = settings.carriers.get(name)
        state = "enabled" if carrier.enabled else "disabled"
        print(f"carrier {name}: {state}, {carrier.base_url}")
    for store_id, store in settings.stores.items():
        source = f" from {store.policy_file}" if store.policy_file else ""
        print(f"store {store_id} ({store.name}): channels {_channel_counts(settings, store_id)}")
        print(f"  effective policy{source}:")
        for line in policy_lines(store.policy):
            print(f"    {line}")


def migrate(args: argparse.Namespace) -> int:
    from trackwatch.store.transfer import migrate_store

    copied = asyncio.run(migrate_store(args.source, args.target))
    rows = ", ".join(f"{n} {table}" for table, n in copied.items())
    print(f"copied {redacted(args.source)} to {redacted(args.target)}: {rows}")
    print(f"point [daemon] database at {redacted(args.target)} and start the daemons")
    return 0
