"""The command line: the parser, the dispatch to a command's handler, and the exit status."""

from __future__ import annotations

import argparse
import importlib
import os
import select
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trackwatch.cli import parsers, shopify, tools
from trackwatch.cli.parsers import CONFIG_HELP, Register

if TYPE_CHECKING:
    from trackwatch.clock import Clock

DESCRIPTION = ("trackwatch watches shipped parcels with USPS, UPS, FedEx and DHL and alerts "
               "customers and staff. Bad input exits with status 2 and a line naming the "
               "field, one per problem.")  # fmt: skip
USAGE_ERROR = 2
PIPE_CLOSED = 1  # what Python itself exits with on EPIPE; a shell pipeline ignores it

# Every sub-command, in the order `--help` lists them. A new one is an `add_parser(sub)`
# function here whose parser sets `handler="module:function"`.
COMMANDS: list[Register] = [*parsers.COMMANDS, shopify.add_shopify, *tools.COMMANDS]

Handler = Callable[[argparse.Namespace], int]


class _Version(argparse.Action):
    """`--version`: trackwatch.__version__ (tests check it is the distribution's)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        from trackwatch import __version__

        print(f"trackwatch {__version__}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trackwatch", description=DESCRIPTION)
    parser.add_argument("--version", action=_Version)
    parser.add_argument("--config", type=Path, default=None, help=CONFIG_HELP)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in COMMANDS:
        register(sub)
    return parser


def handler_of(args: argparse.Namespace) -> Handler:
    """The function a sub-command's "module:function" names, imported now."""
    module, _, name = str(args.handler).partition(":")
    found: Handler = getattr(importlib.import_module(module), name)
    return found


def _stdout_closed() -> bool:
    """Whether standard output's reader has gone (`trackwatch list | head` after ten lines):
    poll reports an error on a pipe with no reader left. If so, stdout now writes to
    /dev/null, so that the interpreter's own flush at exit does not fail again (Python's
    documented way to end quietly on EPIPE)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    if not any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0)):
        return False
    os.dup2(os.open(os.devnull, os.O_WRONLY), fd)
    return True


def entry() -> int:
    """The `trackwatch` script and `python -m trackwatch.cli`: a process of the command's
    own, whose garbage collector the long commands may set (trackwatch.collector)."""
    return main(own_process=True)


def main(
    argv: Sequence[str] | None = None, clock: Clock | None = None, own_process: bool = False
) -> int:
    """Run one command; `clock` (tests) is the time `add` and `import` judge dates by;
    `own_process`: the command owns the process (not a test calling it in its own)."""
    args = build_parser().parse_args(argv)
    args.own_process = own_process
    # Imported once a command runs: `--help` and `--version` have exited by now.
    from trackwatch.clock import SystemClock
    from trackwatch.config import ConfigError
    from trackwatch.errors import InputError
    from trackwatch.store import StoreInUse
    from trackwatch.store.versions import SchemaMismatch

    args.clock = clock or SystemClock()  # `shopify backfill` waits on it for Shopify's limit
    args.now = args.clock.now()
    try:
        status = handler_of(args)(args)
        sys.stdout.flush()  # a reader gone shows here, not in the interpreter's exit
        return status
    except BrokenPipeError:
        if not _stdout_closed():
            raise  # a broken pipe of something else (a socket) is a real error
        return PIPE_CLOSED
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"config error: {problem}", file=sys.stderr)
        return USAGE_ERROR
    except InputError as exc:
        for each in exc.problems:
            print(f"error: {each}", file=sys.stderr)
        return USAGE_ERROR
    except (StoreInUse, SchemaMismatch) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
