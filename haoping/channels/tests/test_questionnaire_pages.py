"""The SMS short link's page and the paper form offer the options of the region's sets (R8, R9)."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client

from haoping.channels.models import Invitation
from haoping.channels.services import invitations_send
from haoping.channels.tests.test_invitations import day_at, served
from haoping.channels.tests.test_paper import signed_in
from haoping.evaluations.tests.test_questionnaires import own_set


def test_the_short_links_page_asks_the_regions_questions(world: dict[str, Any], register: Any) -> None:
    own_set(
        world["district"], "onsite", ("question", "seats_enough", "等候座位充足"), ("reason", "no_seats", "座位不足")
    )
    at = served()
    slot = register(at)
    invitations_send(now=day_at(at, 1, 10))
    client = Client()
    page = client.get(client.get(f"/s/{Invitation.objects.get(slot=slot).code}/")["Location"]).content.decode()
    assert "等候座位充足" in page and 'name="q_seats_enough"' in page
    assert "座位不足" in page and 'value="no_seats"' in page
    # The default on-site options are replaced by the district's own.
    assert "大厅环境整洁、设施齐全（环境）" not in page and 'value="environment"' not in page


def test_the_paper_form_offers_a_hall_services_tags_of_the_managers_region(world: dict[str, Any]) -> None:
    own_set(world["district"], "staff", ("reason", "rude_at_window", "窗口人员冷漠"))
    page = signed_in("hall-manager", "manager", region=world["district"]).get("/console/paper/").content.decode()
    tags = set(re.findall(r'name="reasons_0" value="([a-z_]+)"', page))
    assert {"attitude", "rude_at_window", "environment", "process"} <= tags
    assert "competence" not in tags and "system" not in tags
    other = signed_in("other-manager", "manager", region=world["other"]).get("/console/paper/").content.decode()
    assert "rude_at_window" not in other and 'value="competence"' in other
    # A handler keys forms for their unit's region.
    handler = signed_in("unit-handler", "handler", department=world["item"].department)
    assert 'value="rude_at_window"' in handler.get("/console/paper/").content.decode()
