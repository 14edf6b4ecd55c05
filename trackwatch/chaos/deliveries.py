"""What the sinks received, matched to the notices the daemon stored: lost, duplicated, and
duplicated without the id that lets a receiver drop the copy.

A staff webhook copy is matched by its Idempotency-Key; a customer email by its recipient
and subject (the notice's title), whatever its Message-ID, so that the Message-ID can then be
judged: every copy of one notice must carry the Message-ID of its first copy.

The sinks record a request before they answer it, after a short delay: a daemon killed in
that delay never hears the answer and sends again, as it would to a slow real server.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import Message
from email.utils import parseaddr

from aiohttp import web

from trackwatch.model import Notice
from trackwatch.notify.outbox import IDEMPOTENCY_HEADER
from trackwatch.sandbox.sinks import HttpSink, Received
from trackwatch.sandbox.smtp import SmtpServer

Group = tuple[str, ...]


class SlowSink(HttpSink):
    """An HTTP sink that records each request, then takes `delay` seconds to answer."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def _handle(self, request: web.Request) -> web.Response:
        try:
            response = await super()._handle(request)
        except ConnectionResetError:  # the daemon was killed while sending the body
            return web.Response(status=499)
        await asyncio.sleep(self.delay)
        return response


class SlowSmtp(SmtpServer):
    """aiosmtpd that keeps each message, then takes `delay` seconds to say 250."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        reply = await super().handle_DATA(server, session, envelope)  # type: ignore[arg-type]
        await asyncio.sleep(self.delay)
        return reply


@dataclass(frozen=True)
class Copy:
    """One request a sink received: which notice it is, and the id a receiver dedupes on."""

    group: Group
    ident: str


def header(headers: Mapping[str, str], name: str) -> str:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), "")


def webhook_copies(received: Iterable[Received]) -> list[Copy]:
    return [Copy(("webhook", key := header(r.headers, IDEMPOTENCY_HEADER)), key)
            for r in received]  # fmt: skip


def _text(value: str | None) -> str:
    return str(make_header(decode_header(value))) if value else ""


def email_copies(messages: Iterable[Message]) -> list[Copy]:
    return [Copy(("email", parseaddr(_text(m["To"]))[1].lower(), _text(m["Subject"])),
                 _text(m["Message-ID"])) for m in messages]  # fmt: skip


def group_of(notice: Notice) -> Group:
    if notice.recipient is None:
        return ("webhook", notice.idempotency_key)
    return ("email", notice.recipient.lower(), notice.title)


@dataclass
class Deliveries:
    notices: int = 0
    copies: int = 0
    lost: list[int] = field(default_factory=list)  # notice ids never received
    duplicates: int = 0  # copies beyond one per notice
    undeduplicable: int = 0  # copies whose id differs from their notice's first copy's
    strays: int = 0  # copies that match no stored notice

    def figures(self) -> dict[str, int]:
        return {"notices": self.notices, "copies_received": self.copies,
                "lost": len(self.lost), "duplicates": self.duplicates,
                "duplicates_without_the_first_copys_id": self.undeduplicable,
                "copies_matching_no_notice": self.strays}  # fmt: skip


def match(notices: Sequence[Notice], copies: Sequence[Copy]) -> Deliveries:
    """Each notice's copies (in arrival order): a group of n notices with the same recipient
    and title is delivered when it has n copies, deduplicable when they carry n ids."""
    wanted: dict[Group, list[Notice]] = defaultdict(list)
    for notice in notices:
        wanted[group_of(notice)].append(notice)
    got: dict[Group, list[str]] = defaultdict(list)
    for copy in copies:
        got[copy.group].append(copy.ident)
    out = Deliveries(notices=len(notices), copies=len(copies))
    for group, idents in got.items():
        if group not in wanted:
            out.strays += len(idents)
    for group, mine in wanted.items():
        idents = got.get(group, [])
        out.lost += [n.id for n in mine[len(idents) :]]
        out.duplicates += max(0, len(idents) - len(mine))
        out.undeduplicable += max(0, len(set(idents)) - len(mine))
    return out
