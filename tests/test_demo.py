from __future__ import annotations

from trackwatch.sandbox.demo import PARCELS, run_demo

KINDS = ("not_picked_up", "stalled", "late", "lost", "exceptions", "delivered",
         "risky_delivery", "delivered_not_received", "returns")  # fmt: skip


async def test_demo_shows_every_alert_kind_with_its_explanation() -> None:
    # At the README's speed (about 41,000 times real time).
    lines: list[str] = []
    status = await run_demo(lines.append, seconds=20)
    assert status == 0, "\n".join(lines)
    text = "\n".join(lines)
    assert "has had no carrier update for 3 business days" in text
    assert "Resolved: stalled for order 1003" in text
    assert "- holidays skipped: 2026-11-26 Thanksgiving Day" in text
    examples = text.split("one alert of each kind")[1]
    for kind in KINDS:
        assert f"\n  {kind} (" in examples, kind
    assert "- threshold: 2 business days (pickup.business_days)" in examples
    assert "- staff escalation:" in examples and "- refund deadline:" in examples
    summary, calls = lines[-2], lines[-1]
    assert summary.startswith(f"summary: {len(PARCELS)} shipments") and summary.endswith("-> OK")
    for carrier in ("usps", "ups", "fedex", "dhl"):
        assert f"{carrier}:track=" in calls
