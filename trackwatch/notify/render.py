"""Notices from Jinja2 templates: `<rule>.<audience>.<event>.<kind>.j2`, falling back to
`default.<audience>.<event>.<kind>.j2` (kind `txt` for email and chat, `sms` for text
messages). A template's first line is the title. A store's `templates_dir` is searched
first, so a store can replace any built-in template by giving a file the same name.

What a template receives (customer and staff alike):
- `shipment`: the Shipment (order_id, carrier, tracking_number, customer_name, ...);
- `store`: the store's settings (`name`, `contact_email`, `policy`);
- `alert`: when opened or escalated, the rule's Finding (`rule`, `summary`, `action`,
  `explanation`, and `facts`, the plain values written for customers: see each rule);
  when resolved, the stored Alert (the same, without `facts`);
- `reason` (resolved notices): why the alert closed; `report_url` (customer notices): the
  "didn't receive it?" link or None; `headline` (text messages): the email's title;
- `track_url`: where the customer follows the parcel: the store's tracking page (a signed
  link) when the store enables it, else the carrier's page (the default here, when the
  caller gives none); `tracking_url(carrier, number)` stays for templates that want the
  carrier's page whatever the store has;
- added here, from the store's policy: `policy` (its StorePolicy: `policy.promised(key)`
  gives the store's own words for a setting, or None), and `remedies`, the store's own terms
  per situation (`remedies.of("lost")`, "" when it offers nothing: then offer only help).
Filters: `carrier` ("fedex" → "FedEx"), `day` (an ISO date → "Tuesday 24 November"),
`rule_label` ("exceptions" → "carrier exception").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
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

from carriers.names import label
from trackwatch.model import Audience
from trackwatch.notify.links import tracking_url

# What staff call each alert, for titles and resolutions ("the carrier exception alert",
# not "is no longer exceptions").
RULE_LABELS = {
    "not_picked_up": "not picked up",
    "stalled": "stalled",
    "late": "late",
    "lost": "lost",
    "exceptions": "carrier exception",
    "delivered": "delivered check-in",
    "risky_delivery": "risky delivery",
    "delivered_not_received": "delivered but not received",
    "returns": "refund reminder",
    "expired": "tracking expired",
}


def rule_label(rule: str) -> str:
    return RULE_LABELS.get(rule, rule.replace("_", " "))


def long_day(value: str | date | datetime) -> str:
    """A day as a person writes it: "Tuesday 24 November" (ISO text, a date or a datetime,
    whose own date is taken)."""
    day = value
    if isinstance(day, str):
        day = date.fromisoformat(day[:10])
    if isinstance(day, datetime):
        day = day.date()
    return f"{day:%A} {day.day} {day:%B}"


def _policy_context(context: Mapping[str, Any]) -> dict[str, Any]:
    """`policy` and `remedies` from the store in `context`, unless the caller gave them."""
    policy = getattr(context.get("store"), "policy", None)
    if policy is None:
        return {}
    return {"policy": policy, "remedies": policy.remedies}


def _carrier_page(context: Mapping[str, Any]) -> dict[str, Any]:
    """`track_url` as the carrier's page, for callers that give none (the preview, tests)."""
    shipment = context.get("shipment")
    if shipment is None:
        return {}
    return {"track_url": tracking_url(shipment.carrier, shipment.tracking_number)}


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
            env.filters.update(carrier=label, day=long_day, rule_label=rule_label)
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
        values = {**_policy_context(context), **_carrier_page(context), **context}
        for name in names:
            try:
                template = env.get_template(name)
            except TemplateNotFound:
                continue
            text = template.render(values).strip()
            title, _, body = text.partition("\n")
            return title.strip(), body.strip()
        raise TemplateNotFound(names[-1])

    def has_template(self, store_id: str, rule: str, audience: Audience, event: str) -> bool:
        """Whether `rule` has its own template for this audience and event (not the
        default's): the preview shows resolutions only where one exists."""
        try:
            self._env(store_id).get_template(f"{rule}.{audience.value}.{event}.txt.j2")
        except TemplateNotFound:
            return False
        return True
