"""The hotline's key press: the region's key map, no key no rating, clear 4xx otherwise."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from haoping.channels.models import ChannelPolicy
from haoping.evaluations.models import Evaluation


@pytest.fixture
def call(world: dict[str, Any], record_payload: Any) -> Any:
    """A hotline call registered as a record at its platform, the agent's number as staff_no."""

    def make() -> str:
        body = record_payload(institution_code=None, window_code=None, platform_code="P-WEB", mode="online")
        res = world["hotline_api"].post("/records", body)
        assert res.status_code == 201, res.content
        return str(body["record_no"])

    return make


def press(world: dict[str, Any], record_no: str, digits: str, **extra: Any) -> Any:
    return world["hotline_api"].post("/ivr/keypress", {"record_no": record_no, "digits": digits, **extra})


def test_default_key_map_rates_on_channel_phone(world: dict[str, Any], call: Any) -> None:
    record_no = call()
    res = press(world, record_no, "2")
    assert res.status_code == 201, res.content
    assert res.json()["level"] == 4
    ev = Evaluation.objects.get(record__record_no=record_no)
    assert (ev.level, ev.channel, ev.source) == (4, "phone", "active")


def test_region_key_map_three_keys(world: dict[str, Any], call: Any) -> None:
    ChannelPolicy.objects.create(region=world["district"], key_map={"1": 5, "2": 3, "3": 1})
    levels = {}
    for digits in ("1", "2#", "3"):
        record_no = call()
        assert press(world, record_no, digits).status_code == 201
        levels[digits] = Evaluation.objects.get(record__record_no=record_no).level
    assert levels == {"1": 5, "2#": 3, "3": 1}
    # A bad rating by key press opens its case, without reasons (no screen).
    assert Evaluation.objects.filter(level=1, reasons=[]).count() == 1
    res = press(world, call(), "4")
    assert res.status_code == 422 and res.json()["error"] == "unknown_key" and "1、2、3" in res.json()["detail"]


def test_no_key_press_is_no_rating(world: dict[str, Any], call: Any) -> None:
    record_no = call()
    for digits in ("", " ", "#"):
        res = press(world, record_no, digits)
        assert res.status_code == 422 and res.json()["error"] == "no_key_press"
    assert not Evaluation.objects.exists()


def test_unknown_or_already_rated_call_is_a_clear_4xx(world: dict[str, Any], call: Any) -> None:
    res = press(world, "NO-SUCH-CALL", "1")
    assert res.status_code == 404 and res.json()["error"] == "not_found"
    record_no = call()
    assert press(world, record_no, "1").status_code == 201
    res = press(world, record_no, "5")
    assert res.status_code == 409 and res.json()["error"] == "already_rated"
    assert list(Evaluation.objects.values_list("level", flat=True)) == [5]


def test_retried_call_counts_once(world: dict[str, Any], call: Any) -> None:
    record_no = call()
    first = press(world, record_no, "1", call_ref="c-1")
    again = press(world, record_no, "1", call_ref="c-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["receipt"] == again.json()["receipt"] and Evaluation.objects.count() == 1


def test_another_regions_call_does_not_exist(world: dict[str, Any], record_payload: Any) -> None:
    body = record_payload(institution_code="H-QH", window_code="W-QH-01", staff_no="S-QH", item_code="ITEM-QH")
    assert world["other_api"].post("/records", body).status_code == 201
    res = press(world, body["record_no"], "9")
    assert res.status_code == 404


def test_key_map_is_validated(world: dict[str, Any]) -> None:
    for bad in ({"1": 6}, {"A": 5}, {}, {"1": True}):
        with pytest.raises(ValidationError):
            ChannelPolicy(region=world["district"], key_map=bad).full_clean()
    ChannelPolicy(region=world["district"], key_map={"1": 5, "*": 1}).full_clean()
