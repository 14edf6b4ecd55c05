"""The zone lookup of releases before schema 20, kept for the migration that re-dates what
they stored (trackwatch.store.zonefix): every country outside the US took the first zone
tzdb's zone.tab lists for it, which for Canada is Newfoundland's (America/St_Johns), for
Australia Lord Howe's, for Brazil Noronha's, for Russia Kaliningrad's. Not for new code:
trackwatch.zones is the lookup.
"""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo

from trackwatch.zones import _country_zones, iso_country, us_zone_name


@lru_cache(maxsize=4096)
def legacy_zone_name_for(
    country: str | None, postal_code: str | None = None, state: str | None = None
) -> str:
    """zones.zone_name_for as it was: US places by state or ZIP, the rest by zone.tab."""
    code = iso_country(country or "")
    if code in ("", "US"):
        return us_zone_name(code, postal_code, state)
    return _country_zones().get(code, "UTC")


@lru_cache(maxsize=4096)
def legacy_zone_for(
    country: str | None, postal_code: str | None = None, state: str | None = None
) -> ZoneInfo:
    return ZoneInfo(legacy_zone_name_for(country, postal_code, state))
