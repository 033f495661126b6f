"""The time zone picker's list: every IANA zone, grouped by region and sorted."""

from __future__ import annotations

from functools import cache

from blendkit.lti import time_zone_names

#: Zone name prefixes shown as their own group; the rest (UTC, Etc/…, legacy names) go last.
REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)
OTHER = "Other"


@cache
def zone_groups() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``(region, zones)`` pairs: the regions in order, then the other names; zones sorted."""
    groups: dict[str, list[str]] = {region: [] for region in (*REGIONS, OTHER)}
    for name in time_zone_names():
        region = name.split("/", 1)[0]
        groups[region if region in groups and "/" in name else OTHER].append(name)
    return tuple((region, tuple(sorted(zones))) for region, zones in groups.items() if zones)
