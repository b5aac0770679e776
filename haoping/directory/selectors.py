from __future__ import annotations

from haoping.directory.models import Region, RegionPolicy


def region_contains(ancestor: Region, region: Region) -> bool:
    return region.path.startswith(ancestor.path)


def policy_for_region(region: Region) -> RegionPolicy:
    """The nearest policy on the way up to the root; the national defaults if there is none."""
    codes = [code for code in region.path.strip("/").split("/") if code]
    policies = {p.region.code: p for p in RegionPolicy.objects.filter(region__code__in=codes).select_related("region")}
    for code in reversed(codes):
        if code in policies:
            return policies[code]
    return RegionPolicy(region=region)
