"""The indicator tests' hand-computed district, rated on a clock fixed in June 2026, with one more
rating in May for the comparison with the previous month."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from haoping.accounts.access import Actor, actor_for_user
from haoping.accounts.models import Membership
from haoping.indicators.tests.conftest import W1, district  # noqa: F401  (the fixture, reused)
from haoping.rectification.tests.support import at

JUNE = dt.date(2026, 6, 1)


@pytest.fixture
def june(world: dict[str, Any], record_payload: Any, monkeypatch: pytest.MonkeyPatch, request: Any) -> dt.date:
    """May 2026: one rating of 5. June 2026 (the 16th, 10:00): the district of the indicator tests."""
    clock = {"now": at(2026, 5, 20, 10)}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"])
    api = world["api"]
    assert api.post("/records", record_payload(record_no="MAY-1", **W1)).status_code == 201
    assert api.post("/evaluations", {"record_no": "MAY-1", "level": 5, "channel": "pad"}).status_code == 201
    clock["now"] = at(2026, 6, 16, 10)
    request.getfixturevalue("district")
    return JUNE


def person(username: str, **membership: Any) -> tuple[Any, Client]:
    """A console user with a role (or none), and a client signed in as them."""
    user = get_user_model().objects.create_user(username=username, password="x", last_name="周", first_name="明")
    if membership:
        Membership.objects.create(user=user, **membership)
    client = Client()
    client.force_login(user)
    return user, client


def actor(user: Any) -> Actor:
    found = actor_for_user(user)
    assert found is not None
    return found
