"""In Chromium, at 1280 px and 375 px: the dispatch form's unit picker keeps every unit's whole name
inside its card, narrows to what the manager types, and dispatches to the unit chosen."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from haoping.accounts.models import Membership
from haoping.browser import ARTIFACTS, chromium_page
from haoping.directory.models import Department
from haoping.rectification.models import BadReviewCase
from haoping.rectification.tests.support import bad_case

LONG = "示例市自然资源和规划局（不动产登记中心）不动产登记受理与权籍调查科"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("width", [1280, 375])
def test_the_unit_picker_fits_its_card_and_filters(
    world: dict[str, Any], record_payload: Any, live_server: Any, width: int
) -> None:
    case = bad_case(world, record_payload)
    Department.objects.create(code="D-ZRZY-BDC-DJSL", name=LONG, region=world["city"])
    user = get_user_model().objects.create_user(username="kongwen", password="demo-pass-123")
    Membership.objects.create(user=user, role="manager", region=world["city"])
    with chromium_page(viewport={"width": width, "height": 900}) as page:
        page.goto(live_server.url + "/console/login/")
        page.get_by_label("用户名").fill("kongwen")
        page.get_by_label("密码").fill("demo-pass-123")
        page.get_by_role("button", name="登录").click()
        page.goto(live_server.url + f"/console/cases/{case.pk}/")
        form = page.locator("details.action", has=page.locator('input[name="unit"]'))
        form.evaluate("details => { details.open = true; }")
        picker = form.locator(".picker")
        card = page.locator("section.card", has=picker)
        option = picker.locator("label.option", has_text=LONG)
        # The whole name is on the page, wrapped within the card: nothing sticks out or is cut.
        assert LONG in option.inner_text()
        inside = picker.evaluate("p => p.scrollWidth <= p.clientWidth")
        card_box, option_box = card.bounding_box(), option.bounding_box()
        assert inside and card_box is not None and option_box is not None
        assert option_box["x"] + option_box["width"] <= card_box["x"] + card_box["width"]
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        # Typing part of a name leaves that unit alone in the list.
        form.get_by_role("searchbox", name="承办单位").fill("不动产")
        visible = [t for t in picker.locator("label.option:visible").all_inner_texts()]
        assert visible == [f"{LONG}（D-ZRZY-BDC-DJSL）"]
        page.screenshot(path=str(ARTIFACTS / f"unit-picker-{width}.png"), full_page=True)
        option.click()
        form.get_by_role("button", name="派发到单位").click()
        page.wait_for_load_state()
    case.refresh_from_db()
    assert BadReviewCase.objects.get(pk=case.pk).unit.code == "D-ZRZY-BDC-DJSL"
