"""Notices from Jinja2 templates: `<rule>.<audience>.<event>.<kind>.j2`, falling back to
`default.<audience>.<event>.<kind>.j2` (kind `txt` for email and chat, `sms` for text
messages). A template's first line is the title. A store's `templates_dir` is searched
first, so a store can replace any built-in template by giving a file the same name."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateNotFound,
)

from trackwatch.model import Audience
from trackwatch.notify.links import tracking_url


class Renderer:
    def __init__(self, overrides: Mapping[str, Path] | None = None) -> None:
        self._builtin = PackageLoader("trackwatch", "notify/templates")
        self._overrides = dict(overrides or {})
        self._envs: dict[str, Environment] = {}

    def _env(self, store: str) -> Environment:
        env = self._envs.get(store)
        if env is None:
            loader: BaseLoader = self._builtin
            if store in self._overrides:
                loader = ChoiceLoader([FileSystemLoader(self._overrides[store]), self._builtin])
            env = Environment(
                loader=loader,
                undefined=StrictUndefined,
                autoescape=False,  # plain text; the HTML part escapes it (notify.email)
                trim_blocks=True,
                lstrip_blocks=True,
            )
            env.globals["tracking_url"] = tracking_url
            self._envs[store] = env
        return env

    def render(
        self, store_id: str, rule: str, audience: Audience, event: str,
        context: Mapping[str, Any], kind: str = "txt",
    ) -> tuple[str, str]:  # fmt: skip
        names = [
            f"{rule}.{audience.value}.{event}.{kind}.j2",
            f"default.{audience.value}.{event}.{kind}.j2",
        ]
        env = self._env(store_id)
        for name in names:
            try:
                template = env.get_template(name)
            except TemplateNotFound:
                continue
            text = template.render(context).strip()
            title, _, body = text.partition("\n")
            return title.strip(), body.strip()
        raise TemplateNotFound(names[-1])
