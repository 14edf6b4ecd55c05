"""`trackwatch bench-daemons` (stub)."""

from __future__ import annotations

import argparse
from typing import Any


def add_bench_parser(sub: Any) -> None:
    sub.add_parser("bench-daemons")


def run_bench_daemons(args: argparse.Namespace) -> int:
    return 0
