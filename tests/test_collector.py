"""The collector is set once per process, by the commands that run the daemon's loops."""

from __future__ import annotations

import gc
import subprocess
import sys

from trackwatch.cli import main

PROBE = """
import gc
from trackwatch import collector
before = gc.get_threshold()
collector.tune()
frozen = gc.get_freeze_count()
gc.collect()
collector.tune()  # a second call changes nothing: the garbage made since stays collectable
print(before, gc.get_threshold(), frozen > 0, gc.get_freeze_count() == frozen)
"""


def test_tuning_freezes_the_start_up_heap_once_and_raises_the_young_threshold() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          check=True)  # fmt: skip
    assert done.stdout.split("\n")[0] == "(700, 10, 10) (100000, 50, 100) True True"


def test_a_command_sets_the_collector_only_when_it_owns_the_process() -> None:
    """A test calling `main` in its own process keeps the collector as it was; the script
    (`entry`: own_process) sets it. Bad arguments stop both before any simulating."""
    before = (gc.get_threshold(), gc.get_freeze_count())
    assert main(["simulate", "--shipments", "0", "--days", "1"]) == 2
    assert (gc.get_threshold(), gc.get_freeze_count()) == before
    probe = ("import gc; from trackwatch.cli.app import main; "
             "main(['simulate', '--shipments', '0', '--days', '1'], own_process=True); "
             "print(gc.get_threshold())")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert done.stdout.strip().endswith("(100000, 50, 100)"), done.stdout + done.stderr
