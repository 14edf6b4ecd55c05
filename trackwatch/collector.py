"""CPython's garbage collector set for a long-running daemon, once per process.

Each carrier response allocates thousands of short-lived containers (the parsed JSON, the
events, the rows read back for judging), and the default threshold (a young collection every
700 net allocations) ran several collections per response, each walking the young objects,
and a full one every hundred, walking everything the daemon keeps (modules, settings, caches).
Four back-to-back pairs of `python -m trackwatch.cli bench --e2e-only` (tuned) and the same
through `main()` called in-process (defaults), on a quiet machine: the four-carrier mix at
624 responses per CPU-second against 572 on average (1.09x), DHL 1,158 against 1,083
(1.07x); single runs vary by about 20%, so a single pair shows little.

What is alive when the command starts (modules, settings) is frozen (never walked again: it
lives as long as the process), and young collections come every YOUNG allocations.
Reference counting still frees almost everything at once; only cycles wait longer, and
they are few.

Called by the commands that run the daemon's loops for long (`run`, `simulate`, `bench`)
when they own their process (the `trackwatch` script, `python -m trackwatch.cli`; the
simulator's baseline process), never when a test calls them in its own: a test process that
froze its heap would keep its garbage, and later tests would run under other thresholds."""

from __future__ import annotations

import gc
from functools import cache

YOUNG = 100_000


@cache  # once per process: a second freeze would keep the garbage made since the first
def tune() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, 50, 100)
