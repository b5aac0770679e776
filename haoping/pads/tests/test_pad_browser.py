"""In Chromium, against the production server: a pad is bound and open; a visit registered at its
window over the API shows on it within a second; 2 stars with a reason are tapped; the record
holds the rating on channel `pad`. A screenshot of each of the pad's states."""

from __future__ import annotations

import http.client
import time
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from haoping.accounts.access import Actor
from haoping.browser import ARTIFACTS, chromium_page
from haoping.evaluations.models import Evaluation
from haoping.pads.models import HallRating, StaffPhoto
from haoping.pads.selectors import pad_cookie_value
from haoping.pads.services import pad_bind, pad_register
from haoping.pads.tests.served import api_post, served
from haoping.pads.tests.test_pads import _png

PORT = 8171
TABLET = {"viewport": {"width": 1280, "height": 800}, "has_touch": True}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_visit_registered_over_the_api_is_rated_at_the_pad(
    world: dict[str, Any], record_payload: Any, tmp_path: Path
) -> None:
    manager = Actor(label="周明", roles=frozenset({"manager"}), region=world["district"])
    _pad, code = pad_register(actor=manager, window=world["window"])
    StaffPhoto.objects.create(
        staff=world["staff"], image=_png((360, 480)), uploaded_at=timezone.now(), uploaded_by_label="周明"
    )
    key = world["api"].key
    body = record_payload(record_no="PAD-B-1", on_the_spot=False, completed_at=None)
    with served(tmp_path, PORT) as base, chromium_page(**TABLET) as page:
        page.goto(base + "/pad/")
        page.screenshot(path=str(ARTIFACTS / "pad-0-bind.png"))
        page.locator("#code").fill(code)
        page.get_by_role("button", name="绑定").click()
        page.locator("#idle").wait_for()
        assert "王芳" in page.locator("#staff-on-duty").inner_text()
        assert page.locator("#staff-on-duty img.photo").evaluate("img => img.naturalWidth") > 0
        page.screenshot(path=str(ARTIFACTS / "pad-1-idle.png"))
        # The stream is open (the page asked for it) before the service is registered.
        time.sleep(0.5)
        assert api_post(base, key, "/records", body)[0] == 201
        started = time.monotonic()
        status, _answer = api_post(
            base,
            key,
            "/records/PAD-B-1/visits",
            {"window_code": "W-XW-01", "staff_no": "S001", "at": timezone.now().isoformat()},
        )
        assert status == 201
        page.locator("#rating").wait_for(timeout=1000)
        shown_after = time.monotonic() - started
        assert shown_after < 1.0, f"the pad showed the visit after {shown_after:.2f} s"
        page.screenshot(path=str(ARTIFACTS / "pad-2-rating.png"))
        page.locator("label[for=level-2]").click()
        page.locator("label[for=reason-efficiency]").click()
        page.screenshot(path=str(ARTIFACTS / "pad-3-two-stars.png"))
        page.locator("#submit-rating").click()
        page.locator("#thanks").wait_for()
        receipt = page.locator("#receipt").inner_text().strip()
        page.screenshot(path=str(ARTIFACTS / "pad-4-thanks.png"))
        # Back to idle by itself.
        page.locator("#idle").wait_for(timeout=12_000)
        # The hall as a whole, from the idle screen (R11).
        page.locator("#rate-hall").click()
        page.locator("#hall-rating").wait_for()
        page.screenshot(path=str(ARTIFACTS / "pad-5-hall.png"))
        page.locator("label[for=hall-level-5]").click()
        page.locator("#submit-hall").click()
        page.locator("#thanks").wait_for()
        # Large text, as an older applicant may ask for it.
        page.goto(base + "/pad/")
        page.locator("#text-size").click()
        page.locator("body.large #idle").wait_for()
        page.screenshot(path=str(ARTIFACTS / "pad-6-idle-large-text.png"))
    stored = Evaluation.objects.get()
    assert (stored.channel, stored.level, stored.reasons, stored.receipt) == ("pad", 2, ["efficiency"], receipt)
    record = world["api"].get("/records/PAD-B-1").json()
    assert [(e["channel"], e["level"]) for e in record["evaluations"]] == [("pad", 2)]
    assert list(HallRating.objects.values_list("level", "channel")) == [(5, "pad")]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_where_the_stream_breaks_the_pad_polls(world: dict[str, Any], record_payload: Any, tmp_path: Path) -> None:
    manager = Actor(label="周明", roles=frozenset({"manager"}), region=world["district"])
    _pad, code = pad_register(actor=manager, window=world["window"])
    key = world["api"].key
    body = record_payload(record_no="PAD-B-2", on_the_spot=False, completed_at=None)
    with served(tmp_path, PORT + 1) as base, chromium_page(**TABLET) as page:
        # A proxy that refuses event streams.
        page.context.route("**/pad/events/**", lambda route: route.abort())
        page.goto(base + "/pad/")
        page.locator("#code").fill(code)
        page.get_by_role("button", name="绑定").click()
        page.locator("#idle").wait_for()
        assert api_post(base, key, "/records", body)[0] == 201
        visit = {"window_code": "W-XW-01", "staff_no": "S001", "at": timezone.now().isoformat()}
        assert api_post(base, key, "/records/PAD-B-2/visits", visit)[0] == 201
        page.locator("#rating").wait_for(timeout=8000)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_open_streams_do_not_hold_the_database_pool(world: dict[str, Any], record_payload: Any, tmp_path: Path) -> None:
    """More pads than the worker has pooled connections: every stream is served, and so is the API."""
    manager = Actor(label="周明", roles=frozenset({"manager"}), region=world["district"])
    cookies = []
    for _n in range(5):
        _pad, code = pad_register(actor=manager, window=world["window"])
        cookies.append(pad_cookie_value(pad_bind(code=code)))
    with served(tmp_path, PORT + 2, DB_POOL_SIZE="2") as base:
        host, port = base.removeprefix("http://").split(":")
        streams = []
        for cookie in cookies:
            conn = http.client.HTTPConnection(host, int(port), timeout=15)
            conn.request("GET", "/pad/events/", headers={"Cookie": f"haoping_pad={cookie}"})
            answer = conn.getresponse()
            assert answer.status == 200
            streams.append((conn, answer))
        # Each stream has looked once (its first ": waiting"), and holds no connection since.
        for _conn, answer in streams:
            assert any(answer.fp.readline().startswith(b": waiting") for _line in range(8))
        started = time.monotonic()
        assert api_post(base, world["api"].key, "/records", record_payload(record_no="POOL-1"))[0] == 201
        assert time.monotonic() - started < 5
        for conn, _answer in streams:
            conn.close()
