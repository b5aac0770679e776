"""Reads for the channels: a region's channel policy, an invitation by its short code."""

from __future__ import annotations

import datetime as dt

from haoping.channels.models import ChannelPolicy, Invitation, sms_template_ids
from haoping.directory.models import Region


def channel_policy_for(region: Region) -> ChannelPolicy:
    """The nearest channel policy on the way up to the root; the defaults if there is none."""
    codes = [code for code in region.path.strip("/").split("/") if code]
    found = {p.region.code: p for p in ChannelPolicy.objects.filter(region__code__in=codes).select_related("region")}
    for code in reversed(codes):
        if code in found:
            return found[code]
    return ChannelPolicy(region=region)


def sms_templates_for(region: Region | None, deployment: dict[str, str]) -> dict[str, str]:
    """The provider template ids for `region`'s texts: each template the nearest region's that
    names it, on the way up to the root, else the deployment's (`deployment`)."""
    ids = dict(deployment)
    if region is None:
        return ids
    codes = [code for code in region.path.strip("/").split("/") if code]
    found = dict(ChannelPolicy.objects.filter(region__code__in=codes).values_list("region__code", "sms_templates"))
    for code in codes:  # root first: the nearer region's overrides
        ids.update(sms_template_ids(found.get(code, "")))
    return ids


def paper_grace_for(region: Region) -> dt.timedelta:
    """R2, R3: how long after a service's window closed its paper forms may still be keyed in."""
    return dt.timedelta(days=channel_policy_for(region).paper_grace_days)


def invitation_for_code(code: str) -> Invitation | None:
    if len(code) != 8:
        return None
    return Invitation.objects.select_related("slot").filter(code=code).first()
