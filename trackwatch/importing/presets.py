"""The exports `trackwatch import` reads as they are, and which of their columns is which
field. tests/fixtures/imports/README.md says where each header comes from.

A preset names, per field, the header names the export uses for it (matched without regard
to case or surrounding spaces); `required` fields must have a column. The format of a file is
the one preset whose required columns its header has (or the one given with --format).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from trackwatch.ingest import FIELDS, REQUIRED

# Every field a column can fill: the validator's, and `service`, the label's service, which
# says whose label a reseller's is (a Stamps.com label for UPS Ground is UPS's).
OPTIONAL_FIELDS = ("customer_phone", "destination_city", "ordered_at")
# `first_name` and `last_name` make the customer's name when no column holds it whole;
# `status` says whether a row ships anything (a cancelled fulfillment does not).
IMPORT_FIELDS = (*FIELDS, *OPTIONAL_FIELDS, "service", "status", "first_name", "last_name")
DATE_FIELDS = ("shipped_at", "ordered_at", "promised_by")


@dataclass(frozen=True)
class Preset:
    """How one export names its columns and writes its values.

    `native` is trackwatch's own format: values go to the validator exactly as written (ISO
    dates, `shipped_at` without a time is midnight UTC). Otherwise values are read as the
    export writes them (trackwatch.importing.values): dates in `date_formats` or ISO, in the
    store's zone when they carry none; carrier names of label tools; country names. Rows
    whose `status` is in `skip_status`, or that have no tracking number, ship nothing here
    and are skipped."""

    name: str
    columns: Mapping[str, tuple[str, ...]]
    required: frozenset[str]
    date_formats: tuple[str, ...] = ()
    native: bool = False
    skip_status: frozenset[str] = field(default_factory=frozenset)


TRACKWATCH = Preset(
    "trackwatch",
    {name: (name,) for name in (*FIELDS, *OPTIONAL_FIELDS)},
    REQUIRED,
    native=True,
)

# ShipStation's Shipments export (one row per shipment, or per item of it): "Group - Field"
# headers; dates as `11/21/2026 4:00:00 AM` in the account's zone.
SHIPSTATION = Preset(
    "shipstation",
    {
        "order_id": ("Order - Number",),
        "tracking_number": ("Shipment - Tracking Number",),
        "carrier": ("Shipment - Carrier", "Carrier - Name"),
        "service": ("Shipment - Service", "Service - Name"),
        "shipped_at": ("Date - Shipped Date", "Date - Ship Date"),
        "ordered_at": ("Date - Order Date",),
        "customer_name": ("Ship To - Name",),
        "customer_email": ("Customer - Email",),
        "destination_postal_code": ("Ship To - Postal Code",),
        "destination_city": ("Ship To - City",),
        "destination_country": ("Ship To - Country",),
    },
    frozenset({"order_id", "tracking_number", "shipped_at"}),
    ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M", "%m/%d/%Y"),
)

# WooCommerce Shipment Tracking's CSV import (Advanced Shipment Tracking): the file a
# merchant already keeps to load tracking into WooCommerce. Dates DD-MM-YYYY by default (the
# plugin's other choice, MM-DD-YYYY, is --date-format %m-%d-%Y).
WOOCOMMERCE = Preset(
    "woocommerce",
    {
        "order_id": ("order_id",),
        "tracking_number": ("tracking_number",),
        "carrier": ("tracking_provider",),
        "shipped_at": ("date_shipped",),
    },
    frozenset({"order_id", "tracking_number", "carrier", "shipped_at"}),
    ("%d-%m-%Y",),
)

# Shopify orders exported with their fulfillments (Matrixify's Orders export: one row per
# line of an order, the order's own columns on its top row; a fulfillment's rows carry its
# tracking). Cancelled or failed fulfillments ship nothing.
SHOPIFY = Preset(
    "shopify-fulfillments",
    {
        "order_id": ("Name",),
        "tracking_number": ("Fulfillment: Tracking Number",),
        "carrier": ("Fulfillment: Tracking Company",),
        "shipped_at": ("Fulfillment: Created At", "Fulfillment: Processed At"),
        "ordered_at": ("Created At", "Processed At"),
        "status": ("Fulfillment: Status",),
        "customer_email": ("Customer: Email", "Email"),
        "first_name": ("Shipping: First Name",),
        "last_name": ("Shipping: Last Name",),
        "destination_postal_code": ("Shipping: Zip",),
        "destination_city": ("Shipping: City",),
        "destination_country": ("Shipping: Country Code", "Shipping: Country"),
    },
    frozenset({"order_id", "tracking_number", "shipped_at"}),
    ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S"),
    skip_status=frozenset({"cancelled", "failure", "error"}),
)

PRESETS: dict[str, Preset] = {p.name: p for p in (SHIPSTATION, WOOCOMMERCE, SHOPIFY, TRACKWATCH)}
