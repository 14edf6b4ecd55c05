"""Carriers' public tracking pages, for the link every customer notice carries."""

from __future__ import annotations

from urllib.parse import quote

TRACKING_PAGES = {
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
    "ups": "https://www.ups.com/track?tracknum={number}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={number}",
    "dhl": "https://www.dhl.com/global-en/home/tracking/tracking-parcel.html?tracking-id={number}",
}


def tracking_url(carrier: str, number: str) -> str:
    page = TRACKING_PAGES.get(carrier)
    return page.format(number=quote(number, safe="")) if page else ""
