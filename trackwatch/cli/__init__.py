"""The `trackwatch` command. Bad input exits with status 2 and a line naming the field, one
per problem.

Building the parser imports nothing heavy (argparse and pathlib): each sub-command names its
handler as "module:function", imported only when that command runs, so `trackwatch --help`
and the database commands never load the demo, the simulator, the chaos suite or Apprise.
"""

from __future__ import annotations

from trackwatch.cli.app import build_parser, entry, main

__all__ = ["build_parser", "entry", "main"]
