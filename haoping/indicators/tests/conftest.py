"""The hand-computed district shared by the indicator tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from conftest import iso
from haoping.evaluations.services import defaults_record
from haoping.indicators.services import rollups_update
from haoping.rectification.models import BadReviewCase
from haoping.rectification.workflow import DECISIONS

W1 = {"window_code": "W-XW-01", "staff_no": "S001"}
W2 = {"window_code": "W-XW-02", "staff_no": "S002"}


def act(api: Any, record_no: str, *steps: tuple[str, dict[str, Any]], decider: Any = None) -> None:
    """Take the steps with `api`; decisions with `decider`, since who asked never decides."""
    case = BadReviewCase.objects.get(record__record_no=record_no)
    for action, fields in steps:
        acting = decider if action in DECISIONS else api
        res = acting.post(f"/cases/{case.pk}/actions", {"action": action, **fields})
        assert res.status_code == 200, (action, res.json())


@pytest.fixture
def district(world: dict[str, Any], record_payload: Any) -> dict[str, Any]:
    api = world["api"]
    ratings = [
        ("R1", W1, 5, "pad"),
        ("R2", W1, 4, "mobile"),
        ("R3", W1, 2, "pad"),
        ("R4", W2, 1, "pad"),
        ("R5", W2, 2, "phone"),
        ("R7", W1, 3, "pad"),
    ]
    for record_no, where, level, channel in ratings:
        assert api.post("/records", record_payload(record_no=record_no, **where)).status_code == 201
        body: dict[str, Any] = {"record_no": record_no, "level": level, "channel": channel}
        if level <= 2 and channel != "phone":
            body["reasons"] = ["efficiency"]
        assert api.post("/evaluations", body).status_code == 201
    # R6 was never rated: its 7 days are over, and the sweep records the default.
    now = timezone.now()
    late = record_payload(
        record_no="R6", accepted_at=iso(now - dt.timedelta(days=9)), completed_at=iso(now - dt.timedelta(days=8)), **W2
    )
    assert api.post("/records", late).status_code == 201
    assert defaults_record() == 1

    act(
        api,
        "R3",
        ("contact", {"note": "已联系"}),
        ("classify", {"category": "general"}),
        ("rectify", {"description": "已整改"}),
        ("reply", {"answer": "已整改完毕"}),
        ("revisit", {"satisfied": True}),
    )
    act(
        api,
        "R4",
        ("contact", {"note": "已联系"}),
        ("classify", {"category": "mistaken"}),
        ("request_invalidation", {"reason": "误点差评"}),
        ("approve_invalidation", {"note": "同意"}),
        decider=world["manager_api"],
    )
    act(
        api,
        "R5",
        ("contact", {"note": "已联系"}),
        ("classify", {"category": "general"}),
        ("rectify", {"description": "已整改"}),
        ("reply", {"answer": "已整改完毕"}),
    )
    rollups_update()
    today = timezone.localdate()
    return {"from": (today - dt.timedelta(days=10)).isoformat(), "to": today.isoformat()}
