"""Issue 17, second review, finding 9: the daily digest lists what asks something of staff,
info-level or not, and leaves out heads-ups alone. Real SQLite, a real HTTP sink for chat
and a real SMTP server for staff email; FrozenClock."""

from __future__ import annotations

from pathlib import Path

from tests.rulekit import at
from tests.test_delivery import open_alert, open_rig, settings_for
from trackwatch.config import NoticeSettings
from trackwatch.model import Severity
from trackwatch.sandbox.sinks import HttpSink
from trackwatch.sandbox.smtp import SmtpServer

ROOT = Path(__file__).resolve().parent.parent


async def test_a_returns_refund_reminder_reaches_chat_in_the_digest_a_heads_up_does_not(
    tmp_path: Path, sink: HttpSink, smtp: SmtpServer
) -> None:
    """A return's refund reminder is info-level until the refund is overdue, and chat's floor
    is warning: with info alerts left out of the digest, a store that reads chat alone heard
    nothing until the refund was late. A risky delivery is a heads-up and stays out."""
    rig = await open_rig(settings_for(str(tmp_path / "tw.db"), sink, smtp))
    try:
        await open_alert(rig, await rig.add(), "risky_delivery", Severity.INFO)
        await open_alert(rig, await rig.add("1Z879E930346834440"), "returns", Severity.INFO)
        rig.clock.set(at(11, 24, 9))
        assert await rig.digests().run_once() == 2  # staff chat and staff email
        await rig.send(at(11, 24, 9))
    finally:
        await rig.store.close()
    (chat,) = [r for r in sink.received if r.path == "/chat" and "open alert" in r.body["title"]]
    assert chat.body["title"] == "[Jetoy] 1 open alert on Tue 24 Nov"
    assert "- returns · order A1" in chat.body["message"]
    assert "risky" not in chat.body["message"]


def test_the_settings_say_what_reaches_chat_through_the_digest() -> None:
    """The texts said "info alerts reach chat only in the digest" when none did."""
    field = NoticeSettings.model_fields["staff_chat_min_severity"].description or ""
    toml = (ROOT / "deploy" / "trackwatch.toml").read_text(encoding="utf-8").splitlines()
    (at_key,) = [n for n, x in enumerate(toml) if x.startswith("staff_chat_min_severity")]
    comment = " ".join(x for x in toml[at_key - 2 : at_key + 1])  # the key and its comment
    for text in (field, comment):
        assert "digest" in text and "refund reminder" in text and "heads-up" in text, text
