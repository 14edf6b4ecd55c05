"""Configuration: one TOML file, overridden by TRACKWATCH_* environment variables.

Nested keys use `__` in the environment (TRACKWATCH_CARRIERS__UPS__CLIENT_ID). Any secret
may instead be given as `<key>_file`, a path whose contents are the secret (systemd's
LoadCredential puts them in $CREDENTIALS_DIRECTORY); list-valued secrets read one item per
line. Every error names the key and the reason, never the value.
"""

from __future__ import annotations

import contextvars
import os
import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from trackwatch.model import Severity
from trackwatch.policy import (
    WEEKDAYS,
    StorePolicy,
    Weekday,
    check_working_week,
    weekday_numbers,
)


class ConfigError(Exception):
    """A broken configuration; `problems` are 'key: reason' lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


SecretFiles = Literal["read", "defer"]
# How `<key>_file` secrets are read by the load under way (load_settings sets it).
_SECRET_FILES: contextvars.ContextVar[SecretFiles] = contextvars.ContextVar(
    "secret_files", default="read"
)


class UnreadSecret(SecretStr):
    """A `<key>_file` secret that could not be read, in settings loaded with
    `secrets="defer"`: the load goes on without it, and reading its value raises the
    ConfigError the strict load would have (a command fails where it uses the secret, and
    only then)."""

    def __init__(self, problem: str) -> None:
        super().__init__("")
        self.problem = problem

    def get_secret_value(self) -> str:
        raise ConfigError([self.problem])


def unread(value: object) -> bool:
    """Whether `value` (a secret, or a list of them) holds a secret left unread."""
    items = value if isinstance(value, list) else [value]
    return any(isinstance(item, UnreadSecret) for item in items)


def check_read(value: object) -> None:
    """Raise the ConfigError of a secret in `value` (a secret, or a list of them) left
    unread: for a use that needs every item, such as counting a store's channels."""
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, UnreadSecret):
            item.get_secret_value()


def _unset_variable(path: str) -> str:
    """The first `$VARIABLE` os.path.expandvars left in `path` (it was not set), or ""."""
    found = re.search(r"\$\{?(\w+)", path)
    return found.group(1) if found else ""


def _read_secret_file(key: str, path: str) -> str | UnreadSecret:
    # "$CREDENTIALS_DIRECTORY/x": systemd's LoadCredential decides that directory at start.
    given, path = path, os.path.expandvars(path)
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        unset = _unset_variable(path)
        why = f"{unset} is not set" if unset else exc.strerror
        problem = f"{key}_file: cannot read {given}: {why}"
    if _SECRET_FILES.get() == "defer":
        return UnreadSecret(problem)
    raise ValueError(problem)


class _Section(BaseModel):
    """A config table: unknown keys are errors, and `<secret>_file` keys are read."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _secret_files(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for key in list(out):
            base = key.removesuffix("_file")
            if base == key or base not in cls.model_fields or key in cls.model_fields:
                continue
            text = _read_secret_file(base, str(out.pop(key)))
            listed = str(cls.model_fields[base].annotation).startswith("list")
            if isinstance(text, UnreadSecret):
                out[base] = [text] if listed else text
            else:
                out[base] = text.splitlines() if listed else text
        return out


def _long_enough(value: SecretStr | None, minimum: int) -> SecretStr | None:
    if value is not None and not unread(value) and len(value.get_secret_value()) < minimum:
        raise ValueError(f"must be at least {minimum} characters (try: openssl rand -hex 32)")
    return value


class DaemonSettings(_Section):
    database: str = Field(
        "trackwatch.db",
        description="a SQLite file (a path, or sqlite:///path) or a postgresql:// URL",
    )
    upgrade: Literal["backup", "auto", "manual"] = Field(
        "backup",
        description="a database of an older release, at start: backup: migrate it after a "
        "backup (SQLite; PostgreSQL, which trackwatch cannot back up, is refused: pg_dump, "
        "then `trackwatch db upgrade`); auto: migrate it (PostgreSQL: no backup by "
        "trackwatch); manual: refuse, `trackwatch db upgrade` does it",
    )
    min_poll_minutes: float = Field(15, gt=0)
    schedule: Literal["smart", "fixed"] = Field(
        "smart",
        description="smart: deadlines, carrier hours and quotas (scheduler.py); fixed: every "
        "transit_poll_hours (the simulator's baseline)",
    )
    transit_polls_per_day: int = Field(
        2, ge=1, le=24, description="polls per carrier working day while a parcel moves, for "
        "a carrier that does not set its own (from its headroom: [carriers.<name>])",
    )  # fmt: skip
    delivery_polls_per_day: int = Field(
        4, ge=1, le=24, description="polls per carrier working day while a parcel is out for "
        "delivery, until the delivery scan",
    )  # fmt: skip
    delivered_confirm_hours: float = Field(
        48, gt=0, description="after delivery, one more poll this much later, then none"
    )
    pre_transit_poll_hours: float = Field(6, gt=0)
    transit_poll_hours: float = Field(4, gt=0)
    poll_lead_minutes: float = Field(10, ge=0)
    fresh_data_minutes: float = Field(60, gt=0)
    monitor_interval_minutes: float = Field(15, gt=0)
    outbox_interval_seconds: float = Field(30, gt=0)
    notice_max_attempts: int = Field(8, ge=1)
    notice_lease_seconds: float = Field(120, gt=0)
    notice_concurrency: int = Field(8, ge=1, le=64, description="notices sent at once")
    daemons: int = Field(
        1, ge=1, le=64,
        description="daemons sharing this database: each takes its share of every carrier's "
        "short-window rate and calls in flight (the long-window quotas are shared exactly)",
    )  # fmt: skip
    carrier_backoff_max_minutes: float = Field(
        60, gt=0, description="a failing carrier is probed at doubling intervals up to this"
    )
    carrier_alert_after_minutes: float = Field(
        30,
        ge=0,
        description="an outage this long raises a staff alert (rejected credentials: at once)",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    stop_timeout_seconds: float = Field(
        60, gt=0, description="on SIGTERM, work in flight gets this long (under TimeoutStopSec)"
    )
    http_host: str = Field("127.0.0.1", description="where the daemon's HTTP app listens")
    http_port: int = Field(8750, ge=0, le=65535, description="0: any free port")
    public_url: str = Field(
        "", description="how customers reach the HTTP app (links in emails); empty: http_host"
    )
    forwarded_by: list[str] = Field(
        default_factory=list,
        description="addresses of the reverse proxies in front of the HTTP app: from these, "
        "X-Forwarded-For names the client (the tracking page limits lookups per client); "
        "from anyone else it is ignored, so a client cannot pick its own address",
    )
    http_max_body_kib: int = Field(
        256, ge=1, le=16384, description="larger request bodies are refused (413)"
    )
    link_secret: SecretStr | None = Field(
        None, description="signs customer links; empty: one generated and kept in the database"
    )

    @field_validator("database", mode="before")
    @classmethod
    def _database(cls, value: object) -> str:
        text = str(value).strip()
        scheme = text.split("://", 1)[0] if "://" in text else ""
        if scheme not in ("", "sqlite", "postgresql", "postgres"):
            raise ValueError(f"{scheme}:// is not a database trackwatch knows: give a SQLite "
                             "path (or sqlite:///path) or a postgresql:// URL")  # fmt: skip
        if not text:
            raise ValueError("is empty")
        return text

    @field_validator("link_secret")
    @classmethod
    def _long_secret(cls, value: SecretStr | None) -> SecretStr | None:
        return _long_enough(value, 16)

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class RetentionSettings(_Section):
    """How long data past its use is kept, in days (README: Retention and erasure). 0 keeps
    it forever. The daemon applies these once a day and at start."""

    notice_bodies_days: int = Field(
        30, ge=0,
        description="a notice's body (a customer's email text) is blanked this long after it "
        "was queued, once sent, dead or cancelled; the row stays (idempotency, when told)",
    )  # fmt: skip
    finished_days: int = Field(
        180, ge=0,
        description="a shipment polling stopped for this long (delivered and confirmed, "
        "expired, lost, stopped by hand) with no open alert, nothing to send and no deadline "
        "left is deleted with its events, alerts and notices; so are store alerts resolved "
        "and digests sent this long ago",
    )  # fmt: skip
    batch_rows: int = Field(
        1000, ge=1, le=100_000, description="rows a transaction of the retention pass touches"
    )

    def kept(self, days: int) -> timedelta | None:
        """A setting's span; None: forever."""
        return timedelta(days=days) if days else None


class PushSettings(_Section):
    """A carrier's push (webhooks, trackwatch.push), off unless enabled: the carrier calls
    the daemon's /push/<carrier> when a parcel is scanned, and polling eases off while pushes
    come (deadlines are still verified by polling, and a push gone quiet is polled for).
    Which keys a carrier needs: deploy/trackwatch.toml."""

    enabled: bool = False
    base_url: str = Field(
        "", description="the carrier's subscription API; empty: the carrier's base_url"
    )
    listener_url: str = Field(
        "", description="where the carrier reaches /push/<carrier>; empty: public_url's"
    )
    quiet_hours: float = Field(
        36, gt=0, description="a moving parcel with no push this long is polled again"
    )
    quiet_pre_transit_hours: float = Field(
        72, gt=0, description="a parcel not yet picked up with no push this long is polled"
    )
    # UPS Track Alert: UPS fetches a token from the daemon's /push/ups/token with these
    # (set the same on developer.ups.com, Manage Webhook Credentials) and names the id in
    # x-api-key on every push.
    webhook_client_id: str = ""
    webhook_client_secret: SecretStr | None = None
    subscription_type: Literal["standard", "enhanced"] = "standard"
    # USPS: 1 to 3 addresses USPS writes to about the subscriptions (required by USPS).
    admin_emails: list[str] = Field(default_factory=list, max_length=3)
    # DHL: the product the shipments travel with (parcel-de, express, ecommerce-europe, ...).
    service: str = "parcel-de"
    # FedEx AIV: the security token entered in the FedEx portal's webhook project.
    security_token: SecretStr | None = None
    replay_window_minutes: float = Field(
        2880, gt=0, description="USPS: a push whose envelope timestamp is older is refused"
    )

    def needs(self, carrier: str) -> list[str]:
        """The keys `carrier`'s push needs that are not set (enabled only)."""
        wanted = {"ups": ("webhook_client_id", "webhook_client_secret"),
                  "usps": ("admin_emails",), "fedex": ("security_token",), "dhl": ()}  # fmt: skip
        return [k for k in wanted.get(carrier, ()) if self.enabled and not getattr(self, k)]


class CarrierSettings(_Section):
    enabled: bool = True
    base_url: str
    client_id: str = ""
    client_secret: SecretStr | None = None
    api_key: SecretStr | None = None
    rate_limit: int = Field(5, ge=1, description="calls per rate_period_seconds")
    rate_period_seconds: float = Field(1.0, gt=0)
    max_in_flight: int = Field(4, ge=1, le=64)
    timeout_seconds: float = Field(20, gt=0)
    retry_attempts: int = Field(3, ge=1, le=10)
    max_inline_wait_seconds: float = Field(30, ge=0)
    quota_calls: int | None = Field(None, ge=1, description="calls allowed per quota_window")
    quota_window: Literal["hour", "day"] = "day"
    quota_spare: int = Field(
        0, ge=0, description="calls of each window kept back (for token calls and by hand)"
    )
    weekdays: list[Weekday] = Field(
        default_factory=lambda: list(WEEKDAYS[:6]),
        description="days the carrier scans parcels (local to the destination)",
    )
    day_starts: int = Field(8, ge=0, le=23, description="local hour the carrier's day begins")
    day_ends: int = Field(20, ge=1, le=24, description="local hour the carrier's day ends")
    transit_polls_per_day: int | None = Field(
        None, ge=1, le=24, description="polls per working day of a moving parcel, as the "
        "carrier's headroom affords (empty: [daemon] transit_polls_per_day)",
    )  # fmt: skip
    push: PushSettings = Field(default_factory=PushSettings)

    @model_validator(mode="after")
    def _hours(self) -> Self:
        check_working_week(self.weekdays, self.day_starts, self.day_ends)
        return self

    def days(self) -> frozenset[int]:
        return weekday_numbers(self.weekdays)

    def for_account(self, account: CarrierAccount) -> CarrierSettings:
        """These settings with a store's own account laid over them."""
        given = account.model_dump(exclude_none=True, exclude_defaults=True)
        return self.model_copy(update=given)

    def shared_by(self, daemons: int) -> CarrierSettings:
        """This daemon's share of the carrier's short-window limits when `daemons` run on
        one database: the same calls over a period `daemons` times longer, and a share of
        the calls in flight (the quota in the database is shared exactly, not divided)."""
        if daemons <= 1:
            return self
        return self.model_copy(update={
            "rate_period_seconds": self.rate_period_seconds * daemons,
            "max_in_flight": max(1, -(-self.max_in_flight // daemons)),
        })  # fmt: skip


# Each carrier's published facts (shared/CARRIERS.md §1.7, §3.5, §4.5; UPS publishes none).
# A configured section is laid over these, so `[carriers.dhl] api_key_file = "…"` alone keeps
# DHL's 1 call per second and 250 per day.
# Polls per working day of a moving parcel, from each carrier's headroom: four (a poll every
# three hours of a 12-hour day: an exception is seen within three hours) where calls are
# plentiful (UPS publishes no quota; FedEx 100,000 a day, 30 numbers a call; USPS 60 an hour,
# 35 numbers a call: 50,000 numbers a day), three for DHL (250 calls a day, one number each:
# about 80 parcels on the move; the poller defers routine polls when a quota runs short).
CARRIER_DEFAULTS: dict[str, dict[str, Any]] = {
    "usps": {"base_url": "https://apis.usps.com", "quota_calls": 60, "quota_window": "hour",
             "quota_spare": 1,  # its token requests reportedly count toward the quota
             "transit_polls_per_day": 4},
    "ups": {"base_url": "https://onlinetools.ups.com", "transit_polls_per_day": 4},
    "fedex": {"base_url": "https://apis.fedex.com", "rate_limit": 1400,
              "rate_period_seconds": 10.0, "quota_calls": 100_000, "quota_window": "day",
              "transit_polls_per_day": 4},
    "dhl": {"base_url": "https://api-eu.dhl.com", "rate_limit": 1, "rate_period_seconds": 1.0,
            "quota_calls": 250, "quota_window": "day", "transit_polls_per_day": 3},
}  # fmt: skip


class CarrierAccount(_Section):
    """A store's own account with a carrier: its credentials and, where the account's
    contract differs, its quota. Everything else comes from [carriers.<name>]."""

    client_id: str = ""
    client_secret: SecretStr | None = None
    api_key: SecretStr | None = None
    quota_calls: int | None = Field(None, ge=1, description="this account's calls per window")
    quota_window: Literal["hour", "day"] | None = None


class CarriersSettings(_Section):
    usps: CarrierSettings = CarrierSettings(**CARRIER_DEFAULTS["usps"])
    ups: CarrierSettings = CarrierSettings(**CARRIER_DEFAULTS["ups"])
    fedex: CarrierSettings = CarrierSettings(**CARRIER_DEFAULTS["fedex"])
    dhl: CarrierSettings = CarrierSettings(**CARRIER_DEFAULTS["dhl"])

    @model_validator(mode="before")
    @classmethod
    def _carrier_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        merged = dict(data)
        for name, defaults in CARRIER_DEFAULTS.items():
            given = data.get(name)
            if isinstance(given, dict):
                merged[name] = {**defaults, **given}
        return merged

    @model_validator(mode="after")
    def _push_keys(self) -> Self:
        for name in CARRIER_DEFAULTS:
            missing = self.get(name).push.needs(name)
            if missing:
                raise ValueError(f"{name}.push: enabled without {', '.join(missing)}")
        return self

    def get(self, carrier: str) -> CarrierSettings:
        value = getattr(self, carrier, None)
        if not isinstance(value, CarrierSettings):
            raise KeyError(carrier)
        return value


class Channels(_Section):
    """Apprise URLs per audience. They hold secrets: never logged, never stored in the DB."""

    staff_chat: list[SecretStr] = Field(default_factory=list)
    staff_email: list[SecretStr] = Field(default_factory=list)
    # A mailto:// or mailtos:// URL for the store's SMTP account; each notice adds its one
    # recipient, the store's name and its Reply-To.
    customer_email: list[SecretStr] = Field(default_factory=list, max_length=1)
    # Optional text messages: an Apprise SMS or WhatsApp URL with `{phone}` where the
    # customer's number goes, e.g. twilio://SID:TOKEN@+15550001111/{phone}.
    customer_sms: list[SecretStr] = Field(default_factory=list, max_length=1)

    @field_validator("customer_sms")
    @classmethod
    def _phone_slot(cls, value: list[SecretStr]) -> list[SecretStr]:
        if any(not unread(url) and "{phone}" not in url.get_secret_value() for url in value):
            raise ValueError("needs {phone} where the customer's number goes")
        return value


class NoticeSettings(_Section):
    """Pacing of customer notices, and which staff alerts reach which staff channel."""

    customer_day_starts: int = Field(8, ge=0, le=23, description="local hour, customer's zone")
    customer_day_ends: int = Field(20, ge=1, le=24)
    customer_window_hours: float = Field(
        24, ge=0, description="at most one customer notice per shipment in this many hours"
    )

    staff_chat_min_severity: Severity = Field(
        Severity.WARNING,
        description="quieter alerts reach staff chat only through the daily digest, which "
        "lists those that ask something of staff (a return's refund reminder), not a heads-up "
        "such as a risky delivery",
    )
    staff_email_min_severity: Severity = Severity.INFO

    @model_validator(mode="after")
    def _day(self) -> NoticeSettings:
        if self.customer_day_starts >= self.customer_day_ends:
            raise ValueError("customer_day_starts must be before customer_day_ends")
        return self


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def read_policy_file(path: Path) -> dict[str, Any]:
    """A policy file: the keys of [stores.<id>.policy], at its top level."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ValueError(f"policy_file: cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"policy_file: {path} is not valid TOML: {exc}") from None


_HEX_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_PHONE = re.compile(r"\+?[0-9][0-9 ().-]{3,30}")


class TrackingPageSettings(_Section):
    """The store's own tracking page (trackwatch.web.tracking): off unless enabled. Customer
    notices link to it when it is on, to the carrier's page otherwise. The page fetches
    nothing from elsewhere except the logo, and that only from the store's https URL."""

    enabled: bool = False
    brand_colour: str = Field("#1f3a5f", description="headings and buttons, #rgb or #rrggbb")
    background_colour: str = Field("#ffffff", description="the page, #rgb or #rrggbb")
    text_colour: str = Field("#1a1a1a", description="body text, #rgb or #rrggbb")
    logo_url: str = Field("", description="an https:// URL of the store's logo; empty: none")
    contact_email: str = Field("", description="shown to customers; empty: the store's")
    contact_phone: str = Field("", description="shown to customers; empty: none")
    link_days: int = Field(
        90, ge=1, le=365, description="how long the signed link in a notice opens the page"
    )
    lookups_per_client_per_hour: int = Field(
        20, ge=1, le=10_000, description="order lookups one client address may make an hour"
    )
    lookups_per_order_per_hour: int = Field(
        10, ge=1, le=10_000, description="lookups of one order number an hour, from anywhere"
    )

    @field_validator("brand_colour", "background_colour", "text_colour")
    @classmethod
    def _colour(cls, value: str) -> str:
        if not _HEX_COLOUR.fullmatch(value.strip()):
            raise ValueError("must be a hex colour such as #1f3a5f or #fff")
        return value.strip().lower()

    @field_validator("logo_url")
    @classmethod
    def _logo(cls, value: str) -> str:
        text = value.strip()
        # Quotes, spaces and angle brackets would break out of the attribute or the CSP.
        if text and (not text.startswith("https://") or re.search(r"[\s\"'<>\\]", text)
                     or len(text) < 9):  # fmt: skip
            raise ValueError("must be an https:// URL (no spaces or quotes), or empty")
        return text

    @field_validator("contact_email")
    @classmethod
    def _email(cls, value: str) -> str:
        text = value.strip()
        if text and not re.fullmatch(r"[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+", text):
            raise ValueError("must be an email address such as help@store.example")
        return text

    @field_validator("contact_phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        text = value.strip()
        if text and not _PHONE.fullmatch(text):
            raise ValueError("must be a phone number: digits, spaces, + ( ) . -")
        return text


_SHOP_DOMAIN = re.compile(r"[a-z0-9][a-z0-9-]{0,62}(\.[a-z0-9][a-z0-9-]{0,62})+")


class ShopifyAdminSettings(_Section):
    """The store's Shopify Admin API (GraphQL): `trackwatch shopify backfill` reads its
    fulfillments, and, with `write_back`, the outbox records a fulfillment event on the
    order when a case opens or closes (trackwatch.shopify). The token is a secret: give it
    as `access_token_file` (systemd's credentials directory) rather than in the file."""

    shop_domain: str = Field("", description="the shop's myshopify.com domain, e.g. "
                             "example.myshopify.com")  # fmt: skip
    access_token: SecretStr | None = Field(
        None, description="the Admin API access token (shpat_…) with read_orders, and "
        "write_fulfillments for write_back",
    )  # fmt: skip
    api_version: str = Field("2025-10", pattern=r"^\d{4}-\d{2}$|^unstable$")
    admin_url: str = Field(
        "", description="where the Admin API answers; empty: https://<shop_domain> (the "
        "sandbox gives its own 127.0.0.1 address)",
    )  # fmt: skip
    write_back: bool = Field(
        False, description="record a fulfillment event on the order when a delay, "
        "exception, delivered-not-received or lost case opens or closes",
    )  # fmt: skip
    page_size: int = Field(
        10, ge=1, le=17, description="orders per backfill page (17 keeps a page's requested "
        "cost under Shopify's 1,000-point ceiling for one query)",
    )  # fmt: skip

    @field_validator("shop_domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        text = value.strip().lower().removeprefix("https://").rstrip("/")
        if text and not _SHOP_DOMAIN.fullmatch(text):
            raise ValueError("must be a domain name such as example.myshopify.com")
        return text

    @field_validator("admin_url")
    @classmethod
    def _admin_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.write_back and (not self.shop_domain or self.access_token is None):
            raise ValueError("write_back needs shop_domain and access_token (or "
                             "access_token_file)")  # fmt: skip
        return self

    @property
    def configured(self) -> bool:
        """Whether the Admin API can be called: a shop and a token."""
        return bool(self.shop_domain) and self.access_token is not None

    def endpoint(self) -> str:
        """The GraphQL endpoint (Shopify's path, on the shop's domain or `admin_url`)."""
        base = self.admin_url or f"https://{self.shop_domain}"
        return f"{base}/admin/api/{self.api_version}/graphql.json"


class StoreSettings(_Section):
    name: str = Field(min_length=1)
    contact_email: str = ""
    api_token: SecretStr | None = Field(
        None, description="the store's bearer token for /api/v1 (sees this store only)"
    )
    shopify_secret: SecretStr | None = Field(
        None, description="the Shopify app's secret that signs webhooks to /webhooks/shopify/<id>"
    )
    policy_file: Path | None = Field(
        None, description="a policy file (deploy/policies/*.toml); [policy] keys override it"
    )
    policy: StorePolicy = Field(default_factory=StorePolicy)
    templates_dir: Path | None = Field(
        None, description="templates here replace the built-in ones of the same name"
    )
    channels: Channels = Field(default_factory=Channels)
    notices: NoticeSettings = Field(default_factory=NoticeSettings)
    tracking_page: TrackingPageSettings = Field(default_factory=TrackingPageSettings)
    shopify: ShopifyAdminSettings = Field(default_factory=ShopifyAdminSettings)
    carriers: dict[str, CarrierAccount] = Field(
        default_factory=dict,
        description="the store's own carrier accounts, by carrier; others use [carriers.<name>]",
    )

    @field_validator("carriers")
    @classmethod
    def _known_carriers(cls, value: dict[str, CarrierAccount]) -> dict[str, CarrierAccount]:
        unknown = sorted(set(value) - set(CARRIER_DEFAULTS))
        if unknown:
            raise ValueError(f"{', '.join(unknown)}: not one of {', '.join(CARRIER_DEFAULTS)}")
        return value

    @model_validator(mode="before")
    @classmethod
    def _policy_file(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not data.get("policy_file"):
            return data
        base = read_policy_file(Path(data["policy_file"]))
        given = data.get("policy") or {}
        if not isinstance(given, dict):
            return data
        return {**data, "policy": _deep_merge(base, given)}

    @field_validator("api_token")
    @classmethod
    def _token(cls, value: SecretStr | None) -> SecretStr | None:
        return _long_enough(value, 24)

    @field_validator("templates_dir")
    @classmethod
    def _templates_dir(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"{value} is not a directory")
        return value


_TOML_DATA: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("toml_data")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TRACKWATCH_", env_nested_delimiter="__", extra="forbid"
    )

    daemon: DaemonSettings = Field(default_factory=DaemonSettings)
    carriers: CarriersSettings = Field(default_factory=CarriersSettings)
    stores: dict[str, StoreSettings] = Field(default_factory=dict)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = InitSettingsSource(settings_cls, init_kwargs=_TOML_DATA.get({}))
        return (init_settings, env_settings, toml)

    @model_validator(mode="after")
    def _distinct_tokens(self) -> Self:
        seen: dict[str, str] = {}
        for store_id, store in self.stores.items():
            if store.api_token is None or unread(store.api_token):
                continue
            token = store.api_token.get_secret_value()
            if token in seen:
                raise ValueError(f"stores.{store_id}.api_token: the same token as "
                                 f"stores.{seen[token]}: each store needs its own")  # fmt: skip
            seen[token] = store_id
        return self

    def store(self, store_id: str) -> StoreSettings:
        """A store's settings; one that is not configured gets the default policy and no
        channels, so its shipments are still judged (and shown) rather than crashing a loop."""
        return self.stores.get(store_id) or StoreSettings(name=store_id)


def _problems(exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors(include_input=False, include_url=False):
        key = ".".join(str(part) for part in err["loc"]) or "(top level)"
        lines.append(f"{key}: {err['msg']}")
    return lines


def build_settings(data: dict[str, Any]) -> Settings:
    """Settings from a dict shaped like the TOML file, with the environment on top."""
    token = _TOML_DATA.set(data)
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError(_problems(exc)) from None
    finally:
        _TOML_DATA.reset(token)


def _anchor_store_paths(data: dict[str, Any], base: Path) -> None:
    """Relative policy_file and templates_dir paths are relative to the configuration file."""
    stores = data.get("stores")
    if not isinstance(stores, dict):
        return
    for store in stores.values():
        for key in ("policy_file", "templates_dir"):
            if isinstance(store, dict) and isinstance(store.get(key), str):
                store[key] = str(base / store[key])


def load_settings(path: Path | None, secrets: SecretFiles = "read") -> Settings:
    """Read the TOML file at `path` (or none: defaults and environment only).

    `secrets="defer"` (commands that use few of them, away from the service's credentials):
    a `<key>_file` that cannot be read is not an error; its value is an UnreadSecret, which
    raises that error when it is used. The daemon and check-config read them all."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        except FileNotFoundError:
            raise ConfigError([f"{path}: no such file"]) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
        _anchor_store_paths(data, path.parent)
    token = _SECRET_FILES.set(secrets)
    try:
        settings = build_settings(data)
    finally:
        _SECRET_FILES.reset(token)
    _name_unread(settings, "")
    return settings


def _name_unread(value: object, parent: str) -> None:
    """Prefix each UnreadSecret's problem with the table it sits in (`stores.shop.channels.`),
    which its section's validator cannot know."""
    if isinstance(value, UnreadSecret):
        value.problem = parent + value.problem
    elif isinstance(value, BaseModel | dict):
        items = value.items() if isinstance(value, dict) else (
            (name, getattr(value, name)) for name in type(value).model_fields)  # fmt: skip
        for name, child in items:
            nested = isinstance(child, BaseModel | dict)
            _name_unread(child, f"{parent}{name}." if nested else parent)
    elif isinstance(value, list):
        for child in value:
            _name_unread(child, parent)
