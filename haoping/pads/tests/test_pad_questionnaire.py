"""The pad offers the reason tags of what it shows (R8, R9): a window service's, or the hall's."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client
from django.utils import timezone

from haoping.evaluations.models import Evaluation
from haoping.evaluations.tests.test_questionnaires import own_set
from haoping.pads.models import HallRating
from haoping.pads.tests.support import bound_pad, manager, visit
from haoping.records.models import RatingSlot


def offered(html: str) -> list[str]:
    return re.findall(r'name="reasons" id="(?:hall-)?reason-[^"]+" value="([^"]+)"', html)


def test_the_pad_offers_the_sets_of_the_window_service_it_shows(world: dict[str, Any], record_payload: Any) -> None:
    own_set(world["district"], "staff", ("reason", "rude_at_window", "窗口人员冷漠"))
    tablet = bound_pad(manager("xw", world["district"]), "W-XW-01")
    visit(world["api"], record_payload, "PAD-Q", at=timezone.now().isoformat())
    slot = RatingSlot.objects.get(record__record_no="PAD-Q", kind="visit")
    page = tablet.get("/pad/").content.decode()
    # The unit's, the district's staff set (in place of the default's) and on-site service's; no platform's.
    tags = offered(page)
    assert {"attitude", "rude_at_window", "environment"} <= set(tags) and "窗口人员冷漠" in page
    assert "competence" not in tags and "system" not in tags
    refused = tablet.post("/pad/rate/", {"slot": slot.public_id, "level": "2", "reasons": ["system"]})
    assert refused.status_code == 422 and "system" in refused.content.decode()
    done = tablet.post("/pad/rate/", {"slot": slot.public_id, "level": "2", "reasons": ["rude_at_window"]})
    assert done.status_code == 302
    assert Evaluation.objects.get().reasons == ["rude_at_window"]


def test_the_hall_as_a_whole_is_asked_the_units_and_on_site_services(world: dict[str, Any]) -> None:
    own_set(world["district"], "onsite", ("reason", "no_seats", "等候区座位不足"))
    tablet = bound_pad(manager("xw", world["district"]), "W-XW-01")
    page = tablet.get("/pad/hall/").content.decode()
    tags = offered(page)
    assert "no_seats" in tags and "attitude" in tags
    # Nothing of a staff member or a platform: the hall is rated, not a window.
    assert "competence" not in tags and "system" not in tags
    public = Client().get(f"/h/{world['hall'].code}/").content.decode()
    assert offered(public) == tags
    refused = tablet.post("/pad/hall/", {"level": "1", "reasons": ["competence"]})
    assert refused.status_code == 422 and not HallRating.objects.exists()
    assert tablet.post("/pad/hall/", {"level": "1", "reasons": ["no_seats"]}).status_code == 200
    assert HallRating.objects.get().reasons == ["no_seats"]
