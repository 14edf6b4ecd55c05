"""The collector is set once per process, by the commands that run the daemon's loops."""

from __future__ import annotations

import subprocess
import sys

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
