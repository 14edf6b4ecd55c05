from __future__ import annotations

from trackwatch.sandbox.demo import run_demo


async def test_demo_shows_a_stall_and_its_resolution() -> None:
    lines: list[str] = []
    assert await run_demo(lines.append, seconds=8) == 0
    text = "\n".join(lines)
    assert "has had no carrier update for 3 business days" in text
    assert "Resolved: stalled for order 1003" in text
    assert "holidays skipped: 2026-11-26 Thanksgiving Day" in text
    summary, calls = lines[-2], lines[-1]
    assert summary.startswith("summary: 6 shipments") and summary.endswith("-> OK")
    for carrier in ("usps", "ups", "fedex", "dhl"):
        assert f"{carrier}:track=" in calls
