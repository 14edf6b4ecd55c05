"""`trackwatch bench-import`: rows per second and peak memory of `trackwatch import`, for a
fresh import and a re-import of the same rows (every one already watched), on SQLite.

Each import runs as its own child process (`python -m trackwatch.cli import ...`), so its
peak resident set (`ru_maxrss`, from wait4) is the import's alone and not this process's.
It is started by a small launcher process (`python -m trackwatch.importing.bench CSV
CONFIG`), not by the caller: Linux carries a process's peak across exec, so a child forked
from `trackwatch bench` (hundreds of MB by its import section) would report the bench's
peak as its own.
`measure_import` is what `trackwatch bench` calls; the figures are measured, never asserted.
"""

from __future__ import annotations

import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

CARRIERS = ("ups", "usps", "fedex", "dhl")
HEADER = ("store", "order_id", "carrier", "tracking_number", "shipped_at", "customer_name",
          "customer_email", "destination_country", "destination_postal_code")  # fmt: skip


def write_rows(path: Path, rows: int, seed: int = 1, today: date | None = None) -> None:
    """`rows` distinct valid shipments of store `shop` in trackwatch's own CSV format,
    shipped in the few days before `today` (default: the real today, as the import that
    reads them judges dates by it)."""
    # The simulator is a tool: `import` must not load it (tests/test_layers.py).
    from trackwatch.sim.numbers import make_number  # noqa: PLC0415

    rnd = random.Random(seed)
    today = today or datetime.now(UTC).date()
    seen: set[str] = set()
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(HEADER)
        n = 0
        while n < rows:
            carrier = CARRIERS[n % len(CARRIERS)]
            number = make_number(carrier, rnd)
            if number in seen:
                continue
            seen.add(number)
            n += 1
            shipped = today - timedelta(days=n % 5)
            out.writerow(["shop", f"B{n}", carrier, number, shipped.isoformat(),
                          f"Customer {n}", f"c{n}@example.com", "US", f"{10000 + n % 89999}"])  # fmt: skip


def _run_import(csv_path: Path, config: Path) -> tuple[float, float, float, int]:
    """`_import_child`'s figures, measured by the small launcher (see the module's doc)."""
    done = subprocess.run([sys.executable, "-m", "trackwatch.importing.bench", str(csv_path),
                           str(config)], capture_output=True, text=True, check=True)  # fmt: skip
    seconds, cpu, peak, status = done.stdout.split()
    return float(seconds), float(cpu), float(peak), int(status)


def _import_child(csv_path: Path, config: Path) -> tuple[float, float, float, int]:
    """(seconds, CPU seconds, peak RSS in MB, exit status) of one `trackwatch import` child:
    on a machine shared with other work, CPU seconds are what compare from run to run."""
    command = [sys.executable, "-m", "trackwatch.cli", "import", str(csv_path), "--config",
               str(config)]  # fmt: skip
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait again
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, cpu, usage.ru_maxrss / 1024, child.returncode  # Linux: ru_maxrss in KiB


def measure_import(rows: int) -> dict[str, float | int]:
    """Import `rows` generated rows into a fresh SQLite database, then the same file again;
    for each run: seconds, rows per second (wall clock) and per CPU-second, peak RSS (MB),
    and its exit status."""
    with tempfile.TemporaryDirectory(prefix="trackwatch-bench-import-") as tmp:
        base = Path(tmp)
        config = base / "trackwatch.toml"
        config.write_text(f'[daemon]\ndatabase = "{base / "bench.db"}"\n'
                          '[stores.shop]\nname = "Bench Shop"\n')  # fmt: skip
        data = base / "orders.csv"
        write_rows(data, rows)
        fresh = _run_import(data, config)
        again = _run_import(data, config)
    figures: dict[str, float | int] = {"rows": rows}
    for name, (seconds, cpu, peak, status) in (("fresh", fresh), ("reimport", again)):
        figures[f"{name}_seconds"] = round(seconds, 2)
        figures[f"{name}_rows_per_s"] = round(rows / seconds) if seconds else 0
        figures[f"{name}_rows_per_cpu_s"] = round(rows / cpu) if cpu else 0
        figures[f"{name}_peak_rss_mb"] = round(peak, 1)
        figures[f"{name}_exit"] = status
    return figures


if __name__ == "__main__":
    print(*_import_child(Path(sys.argv[1]), Path(sys.argv[2])))
