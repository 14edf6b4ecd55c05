"""`trackwatch bench-console` at a small size: every console page answered 200 for both
viewers and timed (figures printed, never asserted: speed is measured, not tested)."""

from __future__ import annotations

from trackwatch.bench_console import pages, run_bench_console


async def test_bench_console_times_every_page_for_both_viewers() -> None:
    table, _ = await run_bench_console(200, 20, None, runs=2, warm=1)
    lines = table.splitlines()
    assert lines[0].startswith("bench-console: SQLite, 200 shipments, 20 open alerts")
    timed = [line.split()[:2] for line in lines[2:-2]]
    expected = len(pages(1, 1))
    assert [viewer for _, viewer in timed] == ["root"] * expected + ["ann"] * expected
    assert "/console/report" in {path for path, _ in timed}
    assert lines[-1].startswith("the report card's reading of every store's last 30 days: ")
