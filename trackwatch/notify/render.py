"""Notices from Jinja2 templates: `<rule>.<audience>.<event>.txt.j2`, falling back to
`default.<audience>.<event>.txt.j2`. A template's first line is the title."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateNotFound

from trackwatch.model import Audience
from trackwatch.notify.links import tracking_url


class Renderer:
    def __init__(self) -> None:
        self._env = Environment(
            loader=PackageLoader("trackwatch", "notify/templates"),
            undefined=StrictUndefined,
            autoescape=False,  # plain-text notices; HTML parts get their own templates
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.globals["tracking_url"] = tracking_url

    def render(self, rule: str, audience: Audience, event: str, **context: Any) -> tuple[str, str]:
        names = [
            f"{rule}.{audience.value}.{event}.txt.j2",
            f"default.{audience.value}.{event}.txt.j2",
        ]
        for name in names:
            try:
                template = self._env.get_template(name)
            except TemplateNotFound:
                continue
            text = template.render(**context).strip()
            title, _, body = text.partition("\n")
            return title.strip(), body.strip()
        raise TemplateNotFound(names[-1])
