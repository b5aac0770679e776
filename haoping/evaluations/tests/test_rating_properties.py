"""Property: whatever the order, channel or party of submissions, each service counts once (R4–R7)."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from haoping.evaluations.models import Evaluation

TARGETS = ["visit1", "visit2", "mixed", "batch1", "batch2", "theme1", "theme2", "theme"]
CHANNELS = ["pc", "mobile", "qrcode", "pad", "kiosk", "phone", "sms", "paper"]
_run = itertools.count()

submissions = st.lists(
    st.tuples(
        st.sampled_from(TARGETS),
        st.integers(1, 5),
        st.sampled_from(CHANNELS),
        st.sampled_from(["applicant", "agent"]),
    ),
    min_size=1,
    max_size=12,
)


def expected_group(target: str, rated: set[str]) -> set[str]:
    """What the standard says one submission rates, given what is rated already (empty: 409)."""
    if target == "theme":  # R6: the overall rating covers the linked records not rated on their own
        return {"theme1", "theme2"} - rated
    if target in rated:
        return set()
    if target.startswith("batch"):  # R5: one rating for the whole batch
        return {"batch1", "batch2"} - rated
    return {target}


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(plan=submissions)
def test_each_service_counts_once(world: dict[str, Any], record_payload: Any, plan: list[Any]) -> None:
    api = world["api"]
    n = next(_run)
    agent = {"kind": "person", "name": "代办", "phone": "13900000000", "id_number": ""}
    names = {t: f"P{n}-{t}" for t in TARGETS if t != "theme"}
    api.post(
        "/records",
        record_payload(record_no=names["mixed"], mode="mixed", on_the_spot=False, completed_at=None, agent=agent),
    )
    visits = {}
    for key, window in (("visit1", "W-XW-01"), ("visit2", "W-XW-02")):
        res = api.post(
            f"/records/{names['mixed']}/visits", {"window_code": window, "at": record_payload()["completed_at"]}
        )
        visits[key] = res.json()["visit_id"]
    api.post(f"/records/{names['mixed']}/complete", {"completed_at": record_payload()["completed_at"]})
    for key in ("batch1", "batch2"):
        api.post(
            "/records",
            record_payload(record_no=names[key], agent=agent, bundle={"kind": "batch", "bundle_no": f"B{n}"}),
        )
    for key in ("theme1", "theme2"):
        api.post(
            "/records",
            record_payload(record_no=names[key], agent=agent, bundle={"kind": "theme", "bundle_no": f"T{n}"}),
        )

    rated: set[str] = set()
    for target, level, channel, rated_by in plan:
        body: dict[str, Any] = {"level": level, "channel": channel, "rated_by": rated_by, "reasons": ["other"]}
        if target == "theme":
            body["bundle_no"] = f"T{n}"
        elif target.startswith("visit"):
            body |= {"record_no": names["mixed"], "visit_id": visits[target]}
        else:
            body["record_no"] = names[target]
        group = expected_group(target, rated)
        res = api.post("/evaluations", body)
        assert res.status_code == (201 if group else 409), (target, rated, res.json())
        if group:
            returned = {(e["record_no"], e["visit_id"]) for e in res.json()["evaluations"]}
            assert len(returned) == len(group)
            rated |= group
    stored = Evaluation.objects.filter(record__record_no__startswith=f"P{n}-")
    assert stored.count() == len(rated)
    assert stored.values("slot").distinct().count() == len(rated)
