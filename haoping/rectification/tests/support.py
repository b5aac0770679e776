"""Helpers for the bad-review tests: Shanghai wall-clock moments, evaluators, bad ratings through the
API, case actions through the API, and console actors built from real users."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model

from haoping.accounts.access import Actor, actor_for_user
from haoping.accounts.models import Membership
from haoping.directory.models import Region, RegionPolicy
from haoping.rectification.models import BadReviewCase

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    """A Shanghai wall-clock moment, built without the code under test."""
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


def eod(year: int, month: int, day: int) -> dt.datetime:
    """23:59:59 in Shanghai: where every day-counted deadline ends."""
    return at(year, month, day, 23, 59, 59)


def parse(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def person(n: int, *, phone: str | None = None, id_number: str | None = None) -> dict[str, Any]:
    """A distinct evaluator, so that blocking one person blocks no one else."""
    return {
        "kind": "person",
        "name": f"评价人{n}",
        "phone": phone if phone is not None else f"139{n:08d}",
        "id_number": id_number if id_number is not None else f"3201021990{n:08d}",
    }


def register(api: Any, body: dict[str, Any]) -> dict[str, Any]:
    res = api.post("/records", body)
    assert res.status_code == 201, res.json()
    data: dict[str, Any] = res.json()
    return data


def rate(api: Any, **body: Any) -> Any:
    body.setdefault("level", 5)
    body.setdefault("channel", "pad")
    if body["level"] <= 2:
        body.setdefault("reasons", ["attitude"])
    return api.post("/evaluations", body)


def rated(api: Any, record_payload: Any, *, level: int, applicant: dict[str, Any] | None = None, **extra: Any) -> str:
    """Register one record and rate it; returns the record number."""
    body = record_payload(**extra)
    if applicant is not None:
        body["applicant"] = applicant
    register(api, body)
    res = rate(api, record_no=body["record_no"], level=level)
    assert res.status_code == 201, res.json()
    record_no: str = body["record_no"]
    return record_no


def bad_case(world: dict[str, Any], record_payload: Any, *, level: int = 1, **extra: Any) -> BadReviewCase:
    """A bad rating through the API, and the case it opened."""
    record_no = rated(world["api"], record_payload, level=level, **extra)
    return BadReviewCase.objects.get(record__record_no=record_no)


def act(api: Any, case_id: int, action: str, **fields: Any) -> Any:
    return api.post(f"/cases/{case_id}/actions", {"action": action, **fields})


def act_ok(api: Any, case_id: int, action: str, **fields: Any) -> dict[str, Any]:
    res = act(api, case_id, action, **fields)
    assert res.status_code == 200, (action, res.json())
    data: dict[str, Any] = res.json()
    return data


def detail(api: Any, case_id: int) -> dict[str, Any]:
    res = api.get(f"/cases/{case_id}")
    assert res.status_code == 200, res.json()
    data: dict[str, Any] = res.json()
    return data


def to_handling(api: Any, case_id: int, category: str = "general") -> dict[str, Any]:
    act_ok(api, case_id, "contact", note="已电话联系评价人，核实属实")
    return act_ok(api, case_id, "classify", category=category)


def to_replied(api: Any, case_id: int, category: str = "general") -> dict[str, Any]:
    to_handling(api, case_id, category)
    act_ok(api, case_id, "rectify", description="已约谈窗口人员并整改")
    return act_ok(api, case_id, "reply", answer="您反映的问题已整改。")


def console_actor(username: str, role: str, **scope: Any) -> Actor:
    """A console user with one membership, as the console sees them."""
    user = get_user_model().objects.create_user(username=username, password="pw-" + username, first_name=username)
    Membership.objects.create(user=user, role=role, **scope)
    actor = actor_for_user(get_user_model().objects.get(pk=user.pk))
    assert actor is not None
    return actor


def set_policy(region: Region, **fields: Any) -> RegionPolicy:
    policy, _created = RegionPolicy.objects.update_or_create(region=region, defaults=fields)
    return policy
