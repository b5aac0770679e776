"""In Chromium: a call recording uploaded with the rectification plays on the case page, fetched
through the guarded evidence view under the page's content security policy."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from haoping.accounts.models import Membership
from haoping.browser import ARTIFACTS, chromium_page
from haoping.directory.models import Department
from haoping.rectification.models import Evidence
from haoping.rectification.tests import media_files
from haoping.rectification.tests.support import bad_case, to_handling


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_call_recording_plays_on_the_case_page(
    world: dict[str, Any], record_payload: Any, live_server: Any, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    case = bad_case(world, record_payload)
    to_handling(world["api"], case.pk, "general")
    user = get_user_model().objects.create_user(username="wangli", password="demo-pass-123", last_name="王")
    Membership.objects.create(user=user, role="handler", department=Department.objects.get(code="D-MKT"))
    recording = tmp_path / "回访通话录音.wav"
    recording.write_bytes(media_files.wav(seconds=2.0))
    refused: list[str] = []

    with chromium_page(viewport={"width": 1280, "height": 900}) as page:
        page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(live_server.url + "/console/login/")
        page.get_by_label("用户名").fill("wangli")
        page.get_by_label("密码").fill("demo-pass-123")
        page.get_by_role("button", name="登录").click()
        page.goto(f"{live_server.url}/console/cases/{case.pk}/")
        page.locator("#rectify-description").fill("已调取回访通话录音，确认窗口人员已致歉并整改。")
        page.locator("input[type=file][name=evidence]").first.set_input_files(str(recording))
        page.get_by_role("button", name="整改", exact=True).click()
        audio = page.locator("ul.evidence audio")
        audio.wait_for()
        # Polled from here: a predicate evaluated in the page would need the 'unsafe-eval' the CSP refuses.
        deadline = time.monotonic() + 10
        while audio.evaluate("a => a.readyState") < 1 and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        # The player read the file's header through the view: it knows the recording lasts 2 s.
        assert audio.evaluate("a => a.duration") == pytest.approx(2.0, abs=0.05)
        assert audio.evaluate("a => a.error") is None
        page.locator("section.card", has=page.locator("#timeline")).screenshot(
            path=str(ARTIFACTS / "case-evidence-recording.png")
        )
    assert refused == []
    assert Evidence.objects.get().content_type == "audio/wav"
