"""A small district with known ratings, a default, an invalidation, answers, a rectification and a
revisit; its six rates per object written out by hand; the API must return exactly those."""

from __future__ import annotations

from typing import Any

import pytest

from haoping.indicators.services import rollups_rebuild
from haoping.indicators.tests.test_rollup_properties import rows as rollup_rows


def get(api: Any, period: dict[str, str], **query: str) -> Any:
    params = "&".join(f"{k}={v}" for k, v in {**query, **period}.items())
    return api.get(f"/indicators?{params}")


EXPECTED = {
    # total 7 (6 active + 1 default); good R1 R2; bad R3 R4 R5, R4 invalid; replied R3 R5; R3 rectified,
    # revisited and satisfied.
    ("region", "320102"): (
        dict(
            total=7,
            active=6,
            defaults=1,
            active_good=2,
            bad=3,
            invalid_bad=1,
            valid_bad=2,
            replied=2,
            rectified=1,
            satisfied=1,
        ),
        dict(
            good_rate=5 / 7,
            active_good_rate=2 / 5,
            unrated_rate=2 / 7,
            reply_rate=2 / 3,
            rectification_rate=1 / 2,
            rectification_satisfaction_rate=1.0,
        ),
    ),
    ("department", "D-MKT"): (
        dict(
            total=7,
            active=6,
            defaults=1,
            active_good=2,
            bad=3,
            invalid_bad=1,
            valid_bad=2,
            replied=2,
            rectified=1,
            satisfied=1,
        ),
        dict(
            good_rate=5 / 7,
            active_good_rate=2 / 5,
            unrated_rate=2 / 7,
            reply_rate=2 / 3,
            rectification_rate=1 / 2,
            rectification_satisfaction_rate=1.0,
        ),
    ),
    # R1 R2 R3 R7
    ("window", "W-XW-01"): (
        dict(
            total=4,
            active=4,
            defaults=0,
            active_good=2,
            bad=1,
            invalid_bad=0,
            valid_bad=1,
            replied=1,
            rectified=1,
            satisfied=1,
        ),
        dict(
            good_rate=3 / 4,
            active_good_rate=2 / 4,
            unrated_rate=0.0,
            reply_rate=1.0,
            rectification_rate=1.0,
            rectification_satisfaction_rate=1.0,
        ),
    ),
    # R4 (invalid) R5 R6 (default): nothing rectified after revisit, so satisfaction has no data.
    ("staff", "S002"): (
        dict(
            total=3,
            active=2,
            defaults=1,
            active_good=0,
            bad=2,
            invalid_bad=1,
            valid_bad=1,
            replied=1,
            rectified=0,
            satisfied=0,
        ),
        dict(
            good_rate=2 / 3,
            active_good_rate=0.0,
            unrated_rate=2 / 3,
            reply_rate=1 / 2,
            rectification_rate=0.0,
            rectification_satisfaction_rate=None,
        ),
    ),
}


@pytest.mark.parametrize(("kind", "code"), list(EXPECTED))
def test_the_api_returns_the_hand_computed_rates(
    world: dict[str, Any], district: dict[str, str], kind: str, code: str
) -> None:
    res = get(world["api"], district, object=kind, code=code)
    assert res.status_code == 200, res.json()
    counts, rates = EXPECTED[(kind, code)]
    body = res.json()
    assert body["counts"] == counts
    assert body["rates"] == pytest.approx(rates)
    assert (body["from"], body["to"]) == (district["from"], district["to"])


def test_one_channel(world: dict[str, Any], district: dict[str, str]) -> None:
    # pad: R1 (5), R3 (2, rectified, satisfied), R4 (1, invalid), R7 (3)
    body = get(world["api"], district, object="region", code="320102", channel="pad").json()
    assert body["counts"] == dict(
        total=4,
        active=4,
        defaults=0,
        active_good=1,
        bad=2,
        invalid_bad=1,
        valid_bad=1,
        replied=1,
        rectified=1,
        satisfied=1,
    )
    assert body["rates"] == pytest.approx(
        dict(
            good_rate=3 / 4,
            active_good_rate=1 / 3,
            unrated_rate=1 / 4,
            reply_rate=1 / 2,
            rectification_rate=1.0,
            rectification_satisfaction_rate=1.0,
        )
    )


def test_a_period_with_nothing_is_no_data_not_zero(world: dict[str, Any], district: dict[str, str]) -> None:
    body = get(world["api"], {"from": "2026-01-01", "to": "2026-01-31"}, object="window", code="W-XW-01").json()
    assert body["counts"]["total"] == 0
    assert set(body["rates"].values()) == {None}


def test_the_city_sees_the_district_and_the_other_district_does_not(
    world: dict[str, Any], district: dict[str, str]
) -> None:
    assert get(world["city_api"], district, object="region", code="320100").json()["counts"]["total"] == 7
    assert get(world["city_api"], district, object="window", code="W-XW-01").json()["counts"]["total"] == 4
    for kind, code in [("region", "320102"), ("window", "W-XW-01"), ("staff", "S002"), ("department", "D-MKT")]:
        res = get(world["other_api"], district, object=kind, code=code)
        assert res.status_code == 404, (kind, res.json())
    assert get(world["other_api"], district, object="region", code="320104").json()["counts"]["total"] == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"object": "galaxy", "code": "X"}, "object"),
        ({"object": "window", "code": "W-XW-01", "from": "2026-13-01"}, "from"),
        ({"object": "window", "code": "W-XW-01", "from": "2026-02-01", "to": "2026-01-01"}, "to"),
        ({"object": "window", "code": "W-XW-01", "channel": "pigeon"}, "channel"),
    ],
)
def test_bad_queries_are_422_naming_the_field(
    world: dict[str, Any], district: dict[str, str], query: dict[str, str], field: str
) -> None:
    res = get(world["api"], {}, **{**district, **query})
    assert res.status_code == 422
    assert field in res.json()["detail"] or res.json().get("field") == field


def test_unknown_codes_are_404(world: dict[str, Any], district: dict[str, str]) -> None:
    assert get(world["api"], district, object="window", code="NOPE").status_code == 404


def test_incremental_rollups_equal_a_rebuild(world: dict[str, Any], district: dict[str, str]) -> None:
    incremental = rollup_rows()
    assert incremental
    rollups_rebuild()
    assert rollup_rows() == incremental
