"""What the database commands share: which configuration, the settings a command needs, the
store (never created by a command that only reads it), JSON output and the filters."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from carriers.names import UnsupportedCarrier, carrier_named
from trackwatch.config import ConfigError, SecretFiles, Settings, load_settings
from trackwatch.errors import InputError
from trackwatch.store import POSTGRES_SCHEMES, Store, open_store, redacted, sqlite_path

DEFAULT_CONFIG = Path("/etc/trackwatch/trackwatch.toml")
CONFIG_VARIABLE = "TRACKWATCH_CONFIG"
DEFAULT_LIMIT = 1000
E = TypeVar("E", bound=StrEnum)
EVERY = 2**62  # "no limit" for the store's LIMIT, on both backends
# A customer's contact details: the text views leave them out, and so does JSON output.
CUSTOMER_FIELDS = frozenset({"customer_email", "customer_name", "customer_phone", "recipient"})


def config_path(args: argparse.Namespace) -> Path:
    """`--config`, else $TRACKWATCH_CONFIG, else /etc/trackwatch/trackwatch.toml; a missing
    file is a ConfigError that says which of the three named it."""
    given: Path | None = getattr(args, "config", None)
    if given is not None:
        path, source = given, "--config"
    elif os.environ.get(CONFIG_VARIABLE):
        path, source = Path(os.environ[CONFIG_VARIABLE]), f"${CONFIG_VARIABLE}"
    else:
        path, source = DEFAULT_CONFIG, f"the default, without --config or ${CONFIG_VARIABLE}"
    if not path.is_file():
        raise ConfigError([f"{path}: no such file (the configuration named by {source})"])
    return path


def settings_for(args: argparse.Namespace, secrets: SecretFiles = "defer") -> Settings:
    """The settings of the command's configuration. Commands read secrets on use ("defer"):
    away from the service's credentials directory a read or an `add` needs none."""
    return load_settings(config_path(args), secrets)


@asynccontextmanager
async def opened(settings: Settings, create: bool = False) -> AsyncIterator[Store]:
    """The configured store. Unless `create` (`add`, `import`), a SQLite file that does not
    exist is an error naming it, not a new empty database; so is a missing PostgreSQL one."""
    database = settings.daemon.database
    path = sqlite_path(database)
    if path is not None and not create and not path.exists():
        where = "" if path.is_absolute() else f" (relative to {Path.cwd()})"
        raise InputError("database", f"{path}{where}: no such file; check [daemon] database "
                         "or TRACKWATCH_DAEMON__DATABASE (only the daemon, add and import "
                         "create it)")  # fmt: skip
    try:
        store = await open_store(database)
    except _refusals(database) as exc:
        raise InputError("database", f"cannot open {redacted(database)}: {exc}") from None
    try:
        yield store
    finally:
        await store.close()


def _refusals(database: str) -> tuple[type[Exception], ...]:
    """What opening `database` raises when it is missing or we may not use it. asyncpg is
    imported only for a PostgreSQL URL: the daemon imports this module, and on SQLite it
    would keep asyncpg resident for nothing (issue 21: the daemon's RSS)."""
    if not str(database).startswith(POSTGRES_SCHEMES):
        return (OSError,)
    import asyncpg

    return (asyncpg.InvalidCatalogNameError, asyncpg.InvalidAuthorizationSpecificationError,
            OSError)  # fmt: skip


def fields(model: BaseModel, *leave_out: str) -> dict[str, Any]:
    """A model as JSON fields, named as the model names them, without customer contacts
    (and without `leave_out`)."""
    hidden = set((CUSTOMER_FIELDS | set(leave_out)) & set(type(model).model_fields))
    return model.model_dump(mode="json", exclude=hidden)


def emit(document: dict[str, Any]) -> None:
    """One JSON document on stdout."""
    print(json.dumps(document, indent=2, ensure_ascii=False))


def one_of(kind: type[E], value: str | None, field: str) -> E | None:
    """`value` as a member of `kind`, or InputError listing the members."""
    if value is None:
        return None
    try:
        return kind(value.strip().lower())
    except ValueError:
        known = ", ".join(member.value for member in kind)
        raise InputError(field, f"{value!r} is not one of {known}") from None


def known_name(value: str | None, names: Iterable[str], field: str) -> str | None:
    if value is None or value in names:
        return value
    raise InputError(field, f"{value!r} is not one of {', '.join(sorted(names))}")


def carrier_filter(value: str | None) -> str | None:
    """The carrier `--carrier` names (usps, ups, fedex, dhl), as a label would name it."""
    if value is None:
        return None
    try:
        carrier = carrier_named(value)
    except UnsupportedCarrier as exc:
        raise InputError("carrier", str(exc)) from None
    if carrier is None:
        raise InputError("carrier", f"{value!r} names no carrier")
    return carrier


def limit_of(args: argparse.Namespace) -> int:
    return int(args.limit or DEFAULT_LIMIT)
