"""Customer email: one recipient per notice, the store's name and Reply-To, text and HTML.

The store's mailto:// URL names its SMTP account; the recipient is added per notice, so one
configured URL serves every customer and no address is ever written into configuration.
Apprise sends an HTML body as multipart/alternative with a plain-text part derived from it.
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_LINK = re.compile(r"https?://[^\s<>\"]+")


def customer_url(base: str, recipient: str, store_name: str, reply_to: str) -> str:
    parts = urlsplit(base)
    query = {k: v for k, v in parse_qsl(parts.query) if k not in {"to", "name", "reply"}}
    query["to"] = recipient
    query["name"] = store_name
    if reply_to:
        query["reply"] = reply_to
    return urlunsplit(parts._replace(query=urlencode(query)))


def to_html(title: str, body: str) -> str:
    """The text notice as plain, well-formed HTML: paragraphs, line breaks, live links."""
    paragraphs = []
    for block in body.strip().split("\n\n"):
        escaped = html.escape(block)
        linked = _LINK.sub(lambda m: f'<a href="{m[0]}">{m[0]}</a>', escaped)
        paragraphs.append("<p>" + linked.replace("\n", "<br>\n") + "</p>")
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}'
        "</title></head><body>\n" + "\n".join(paragraphs) + "\n</body></html>"
    )
