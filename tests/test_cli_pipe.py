"""`trackwatch list | head`: a reader that stops early ends the command quietly.

The pipe's reading end is closed before the command starts, so its first write fails with
EPIPE every time (as when `head` has read its ten lines): no traceback, no "Exception
ignored" line on stderr.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from trackwatch.cli import main

COMMAND = Path(sys.executable).parent / "trackwatch"


def test_a_closed_pipe_ends_list_quietly(tmp_path: Path) -> None:
    config = tmp_path / "trackwatch.toml"
    config.write_text(
        f'[daemon]\ndatabase = "{tmp_path / "cli.db"}"\n[stores.shop]\nname = "Shop"\n'
    )
    for number in ("1Z5R89390357567127", "1Z879E930346834440"):
        assert main(["add", "--config", str(config), "--store", "shop", "--carrier", "ups",
                     "--tracking-number", number, "--order-id", number[-4:],
                     "--customer-email", "c@example.com",
                     "--shipped-at", "2026-11-23T09:00-05:00"]) == 0  # fmt: skip
    reader, writer = os.pipe()
    os.close(reader)  # the reader has gone before the first line is written
    try:
        done = subprocess.run([str(COMMAND), "list", "--config", str(config)], stdout=writer,
                              stderr=subprocess.PIPE, text=True, timeout=60, check=False)  # fmt: skip
    finally:
        os.close(writer)
    assert done.stderr == ""
    assert done.returncode == 1  # as Python's documentation does on EPIPE; the shell ignores it
