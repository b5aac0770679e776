from __future__ import annotations

from django.db import connection

from haoping.directory.models import Region, RegionPolicy


def region_contains(ancestor: Region, region: Region) -> bool:
    return region.path.startswith(ancestor.path)


def _policies_sql(count: int) -> str:
    qn = connection.ops.quote_name
    policy, region = qn(RegionPolicy._meta.db_table), qn(Region._meta.db_table)
    return (
        f"SELECT p.*, r.{qn('code')} AS region_code FROM {policy} p"
        f" JOIN {region} r ON r.{qn('id')} = p.{qn('region_id')} WHERE r.{qn('code')} IN ({', '.join(['%s'] * count)})"
    )


def policy_for_region(region: Region) -> RegionPolicy:
    """The nearest policy on the way up to the root; the national defaults if there is none.

    Read on every bad rating and every record registered: plain SQL, which the ORM need not write
    anew each time. The policy's `region` loads on first use.
    """
    codes = [code for code in region.path.strip("/").split("/") if code]
    if not codes:
        return RegionPolicy(region=region)
    found = RegionPolicy.objects.raw(_policies_sql(len(codes)), codes)
    policies = {getattr(p, "region_code"): p for p in found}  # noqa: B009 (the query's extra column)
    for code in reversed(codes):
        if code in policies:
            return policies[code]
    return RegionPolicy(region=region)
