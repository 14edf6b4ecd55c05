"""Customer email: one recipient per notice, the store's name and Reply-To, text and HTML.

The store's mailto:// URL names its SMTP account; the recipient is added per notice, so one
configured URL serves every customer and no address is ever written into configuration.
Apprise sends an HTML body as multipart/alternative with a plain-text part derived from it.

The store's name is not passed in the URL: Apprise reads a query value without turning `+`
into a space, unquotes it twice (`100%41` became `100A`) and refuses a name with quotes, so
`sign_as` sets it on the plugin, which formats the From header itself (RFC 5322 quoting,
RFC 2047 for accents).
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from apprise.plugins.email import NotifyEmail

_LINK = re.compile(r"https?://[^\s<>\"]+")


def customer_url(base: str, recipient: str, reply_to: str) -> str:
    """The store's URL sent to `recipient`; a `name` in it is dropped (`sign_as` names the
    sender)."""
    parts = urlsplit(base)
    query = {k: v for k, v in parse_qsl(parts.query) if k not in {"to", "name", "reply"}}
    query["to"] = recipient
    if reply_to:
        query["reply"] = reply_to
    # %20, not +: Apprise does not read + as a space.
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote, safe="@")))


def sign_as(plugin: Any, name: str) -> bool:
    """Make `name`, exactly, the display name of an email plugin's From header; False for
    any other plugin (it has no sender name)."""
    if not isinstance(plugin, NotifyEmail):
        return False
    address = plugin.from_addr[1]
    plugin.from_addr = [name, address]
    plugin.names[address] = name
    return True


def to_html(title: str, body: str) -> str:
    """The text notice as plain, well-formed HTML: paragraphs, line breaks, live links."""
    paragraphs = []
    for block in body.strip().split("\n\n"):
        escaped = html.escape(block)
        linked = _LINK.sub(lambda m: f'<a href="{m[0]}">{m[0]}</a>', escaped)
        # "<br>" alone: Apprise derives the plain-text part from this HTML, and the newline
        # after a "<br>\n" would begin the next line with a space.
        paragraphs.append("<p>" + linked.replace("\n", "<br>") + "</p>")
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}'
        "</title></head><body>\n" + "\n".join(paragraphs) + "\n</body></html>"
    )
