from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

CHINA = ZoneInfo("Asia/Shanghai")


def china(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment in December 2026, China time."""
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=CHINA)


@pytest.fixture
def register(world: dict[str, Any], record_payload: Any) -> Any:
    """Register a record completed at `at` (China time) for `phone`; return its completion slot."""
    from haoping.records.models import RatingSlot

    def make(at: dt.datetime, phone: str = "13812345678", **overrides: Any) -> RatingSlot:
        body = record_payload(
            accepted_at=(at - dt.timedelta(minutes=30)).isoformat(),
            completed_at=at.isoformat(),
            **overrides,
        )
        body["applicant"] = {**body["applicant"], "phone": phone}
        res = world["api"].post("/records", body)
        assert res.status_code == 201, res.content
        return RatingSlot.objects.get(record__record_no=body["record_no"], kind="completion")

    return make
