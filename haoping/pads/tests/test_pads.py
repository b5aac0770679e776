"""Window pads: binding by a one-time device code, what the pad shows, rating on channel `pad`."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from PIL import Image

from haoping.evaluations.models import Evaluation
from haoping.pads.models import Pad, StaffPhoto
from haoping.pads.tests.support import bound_pad, device_code, manager, visit
from haoping.records.links import token_for
from haoping.records.models import RatingSlot


def _now() -> str:
    return timezone.now().isoformat()


def _showing(tablet: Client) -> str:
    return tablet.get("/pad/state/").json()["service"]


def test_a_device_code_binds_one_tablet_once(world: dict[str, Any]) -> None:
    console = manager("xw", world["district"])
    code = device_code(console, "W-XW-01")
    pad = Pad.objects.get()
    # Only its keyed digest is stored, never the code.
    assert code.replace("-", "") not in str(Pad.objects.values().get())
    tablet = Client()
    assert tablet.post("/pad/bind/", {"code": code.lower().replace("-", " ")}).status_code == 302
    idle = tablet.get("/pad/")
    assert idle.status_code == 200 and 'id="idle"' in idle.content.decode() and "1号窗口" in idle.content.decode()
    # Spent: a second tablet cannot use it.
    again = Client().post("/pad/bind/", {"code": code})
    assert again.status_code == 404 and "设备码" in again.content.decode()
    assert Pad.objects.get(pk=pad.pk).code_digest == ""


def test_an_expired_or_mistyped_code_binds_nothing(world: dict[str, Any]) -> None:
    console = manager("xw", world["district"])
    code = device_code(console, "W-XW-01")
    Pad.objects.update(code_expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert Client().post("/pad/bind/", {"code": code}).status_code == 404
    short = Client().post("/pad/bind/", {"code": "ABC"})
    assert short.status_code == 422 and "8" in short.content.decode()
    assert Pad.objects.filter(bound_at__isnull=False).count() == 0


def test_a_revoked_pad_stops_at_once(world: dict[str, Any]) -> None:
    console = manager("xw", world["district"])
    tablet = bound_pad(console, "W-XW-01")
    assert tablet.get("/pad/state/").status_code == 200
    pad = Pad.objects.get()
    assert console.post("/console/pads/", {"revoke": pad.pk}).status_code == 302
    assert tablet.get("/pad/state/").status_code == 403
    assert 'name="code"' in tablet.get("/pad/").content.decode()


def test_managers_register_pads_only_for_their_own_windows(world: dict[str, Any]) -> None:
    console = manager("xw", world["district"])
    assert console.post("/console/pads/", {"window": "W-QH-01"}).status_code == 404
    other = manager("qh", world["other"])
    device_code(console, "W-XW-01")
    pad = Pad.objects.get()
    assert other.post("/console/pads/", {"revoke": pad.pk}).status_code == 404
    assert Pad.objects.get().revoked_at is None
    assert "W-XW-01" not in other.get("/console/pads/").content.decode()


def test_the_pad_shows_a_visit_registered_at_its_window_and_rates_it_on_channel_pad(
    world: dict[str, Any], record_payload: Any
) -> None:
    tablet = bound_pad(manager("xw", world["district"]), "W-XW-01")
    assert _showing(tablet) == ""
    visit(world["api"], record_payload, "PAD-1", at=_now())
    slot = RatingSlot.objects.get(record__record_no="PAD-1", kind="visit")
    assert _showing(tablet) == slot.public_id
    page = tablet.get("/pad/").content.decode()
    assert 'id="rating"' in page and "企业开办" in page and "张三" not in page
    # 2 stars without a reason: refused, nothing stored, the choice kept on the screen.
    refused = tablet.post("/pad/rate/", {"slot": slot.public_id, "level": "2"})
    assert refused.status_code == 422 and 'id="pad-error"' in refused.content.decode()
    assert 'id="level-2" value="2" checked' in refused.content.decode()
    assert not Evaluation.objects.exists()
    done = tablet.post("/pad/rate/", {"slot": slot.public_id, "level": "2", "reasons": ["efficiency"]})
    assert done.status_code == 302
    receipt = re.search(r"done=([0-9A-Z-]+)", done["Location"]).group(1)  # type: ignore[union-attr]
    thanks = tablet.get(done["Location"]).content.decode()
    assert receipt in thanks and 'id="thanks"' in thanks and 'data-thanks-ms="8000"' in thanks
    ev = Evaluation.objects.get()
    assert (ev.channel, ev.level, ev.reasons, ev.slot_id, ev.receipt) == ("pad", 2, ["efficiency"], slot.pk, receipt)
    # The same tap sent again counts once and answers with the same receipt.
    again = tablet.post("/pad/rate/", {"slot": slot.public_id, "level": "2", "reasons": ["efficiency"]})
    assert receipt in again["Location"] and Evaluation.objects.count() == 1
    # Rated: the pad is idle again, and the record shows the rating on channel pad.
    assert _showing(tablet) == ""
    record = world["api"].get("/records/PAD-1").json()
    assert [e["channel"] for e in record["evaluations"]] == ["pad"]


def test_a_pad_rates_nothing_of_another_window(world: dict[str, Any], record_payload: Any) -> None:
    tablet = bound_pad(manager("xw", world["district"]), "W-XW-02")
    visit(world["api"], record_payload, "PAD-2", at=_now())
    slot = RatingSlot.objects.get(record__record_no="PAD-2", kind="visit")
    assert _showing(tablet) == ""
    answer = tablet.post("/pad/rate/", {"slot": slot.public_id, "level": "5"})
    assert answer.status_code == 302 and answer["Location"] == "/pad/"
    assert not Evaluation.objects.exists()


def test_an_unbound_device_rates_nothing(world: dict[str, Any], record_payload: Any) -> None:
    visit(world["api"], record_payload, "PAD-3", at=_now())
    slot = RatingSlot.objects.get(record__record_no="PAD-3", kind="visit")
    forged = Client()
    forged.cookies["haoping_pad"] = "1:forged"
    assert forged.post("/pad/rate/", {"slot": slot.public_id, "level": "5"}).status_code == 403
    assert forged.get("/pad/events/").status_code == 403
    assert not Evaluation.objects.exists()


def test_set_aside_the_service_stays_ratable_by_link(world: dict[str, Any], record_payload: Any) -> None:
    tablet = bound_pad(manager("xw", world["district"]), "W-XW-01")
    visit(world["api"], record_payload, "PAD-4", at=_now())
    slot = RatingSlot.objects.get(record__record_no="PAD-4", kind="visit")
    assert tablet.post("/pad/dismiss/", {"slot": slot.public_id}).status_code == 302
    assert _showing(tablet) == ""
    page = Client().get(f"/r/{token_for(slot.public_id)}/")
    assert page.status_code == 200 and 'name="level"' in page.content.decode()


def test_an_old_service_is_not_asked_for(world: dict[str, Any], record_payload: Any, settings: Any) -> None:
    settings.HAOPING_PAD_SHOW_MINUTES = 10
    tablet = bound_pad(manager("xw", world["district"]), "W-XW-01")
    visit(world["api"], record_payload, "PAD-5", at=(timezone.now() - dt.timedelta(minutes=11)).isoformat())
    assert _showing(tablet) == ""
    visit(world["api"], record_payload, "PAD-6", at=(timezone.now() - dt.timedelta(minutes=9)).isoformat())
    assert _showing(tablet) == RatingSlot.objects.get(record__record_no="PAD-6", kind="visit").public_id


def test_a_completion_at_the_window_is_shown_too(world: dict[str, Any], record_payload: Any) -> None:
    tablet = bound_pad(manager("xw", world["district"]), "W-XW-01")
    body = record_payload(record_no="PAD-7", completed_at=_now())
    assert world["api"].post("/records", body).status_code == 201
    assert _showing(tablet) == RatingSlot.objects.get(record__record_no="PAD-7").public_id


def _png(size: tuple[int, int] = (800, 1000)) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    image.save(out, format="PNG", exif=exif)
    return out.getvalue()


def test_a_staff_photo_is_shown_small_and_without_metadata(world: dict[str, Any]) -> None:
    console = manager("xw", world["district"])
    tablet = bound_pad(console, "W-XW-01")
    assert 'class="photo"' not in tablet.get("/pad/").content.decode()
    upload = io.BytesIO(_png())
    upload.name = "me.png"
    assert console.post("/console/pads/", {"photo_staff": "S001", "photo": upload}).status_code == 302
    stored = bytes(StaffPhoto.objects.get(staff=world["staff"]).image)
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG" and image.size[0] <= 360 and image.size[1] <= 480
        assert not image.getexif()
    idle = tablet.get("/pad/").content.decode()
    assert 'class="photo"' in idle and "王芳" in idle and "S001" in idle
    assert tablet.get("/pad/staff/S001/photo.jpg").content == stored
    # Nobody else sees it.
    assert Client().get("/pad/staff/S001/photo.jpg").status_code == 404
    assert manager("qh", world["other"]).get("/pad/staff/S001/photo.jpg").status_code == 404


def test_a_file_that_is_not_an_image_is_refused(world: dict[str, Any]) -> None:
    console = manager("xw", world["district"])
    upload = io.BytesIO(b"%PDF-1.4 not a photo")
    upload.name = "me.jpg"
    answer = console.post("/console/pads/", {"photo_staff": "S001", "photo": upload})
    assert answer.status_code == 422 and "照片" in answer.content.decode()
    assert not StaffPhoto.objects.exists()


@pytest.mark.parametrize("level", ["0", "6", "x", ""])
def test_a_level_out_of_range_is_refused(world: dict[str, Any], record_payload: Any, level: str) -> None:
    tablet = bound_pad(manager("xw", world["district"]), "W-XW-01")
    visit(world["api"], record_payload, "PAD-8", at=_now())
    slot = RatingSlot.objects.get(record__record_no="PAD-8", kind="visit")
    answer = tablet.post("/pad/rate/", {"slot": slot.public_id, "level": level})
    assert answer.status_code == 400 and 'id="pad-error"' in answer.content.decode()
    assert not Evaluation.objects.exists()
