"""`trackwatch staff add|remove|passwd`: the console's accounts. Passwords come from a
prompt (typed twice) or, with --password-stdin, from the first line of standard input;
never from the command line, where `ps` and shell history would show them."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from datetime import UTC, datetime

from trackwatch.cli.common import opened, settings_for
from trackwatch.config import Settings
from trackwatch.errors import InputError
from trackwatch.staff import checked_login, checked_password, hash_password
from trackwatch.store.records import OPERATOR, STAFF, StaffAccount


def read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return checked_password(sys.stdin.readline().rstrip("\r\n"))
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise InputError("password", "the two entries differ")
    return checked_password(first)


def run_staff(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    login = checked_login(args.login)
    if args.staff_command == "add" and args.store is not None and args.store not in settings.stores:
        raise InputError("store", f"{args.store!r} is not a configured store")
    password = None if args.staff_command == "remove" else read_password(args)
    return asyncio.run(_run(args, settings, login, password))


async def _run(
    args: argparse.Namespace, settings: Settings, login: str, password: str | None
) -> int:
    action = args.staff_command
    async with opened(settings, create=action == "add") as store:
        if action == "add":
            role = OPERATOR if args.operator else STAFF
            account = StaffAccount(login, role, args.store, hash_password(password or ""))
            if not await store.add_staff(account, datetime.now(UTC)):
                raise InputError("login", f"{login!r} is taken")
            print(f"added {role} {login}" + (f" of store {args.store}" if args.store else ""))
        elif action == "remove":
            if not await store.remove_staff(login):
                raise InputError("login", f"no account {login!r}")
            print(f"removed {login}; their sessions end at their next request")
        else:
            if not await store.set_staff_password(login, hash_password(password or "")):
                raise InputError("login", f"no account {login!r}")
            print(f"new password for {login}; their other sessions are signed out")
    return 0
