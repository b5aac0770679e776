"""R10: a rated staff member never learns who rated them. Every console page and export a staff
member can reach is read as they get it: none shows the record number, the receipt, the minute of
the rating (or a time counted from it) or the channel; they get the item, the day, the reasons and
the comment with personal data removed."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone, translation

from haoping.directory.models import Department, Staff
from haoping.evaluations.models import Evaluation
from haoping.rectification.models import BadReviewCase, Evidence
from haoping.rectification.tests.conftest import Clock
from haoping.rectification.tests.support import at
from haoping.rectification.tests.test_console import PNG, login
from haoping.rectification.workflow import ACTIONS

# What a handler or manager may write about the evaluator: the rated staff member reads none of it.
PERSONAL = "李四（电话 138-1234-5678，身份证 320102 19900101 1234）"
# An odd minute, so that any time counted from the rating is recognisable on a page.
RATED = (2026, 9, 29, 10, 37)


def console_routes() -> list[str]:
    """Every route of the console, as written in the URL configuration."""
    found: list[str] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                found.append(prefix + str(p.pattern))

    walk(get_resolver().url_patterns, "")
    return [r for r in found if r.startswith("console/")]


@pytest.fixture
def rated_case(world: dict[str, Any], record_payload: Any, clock: Clock, settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path
    clock.set(at(*RATED))
    api = world["api"]
    assert api.post("/records", record_payload(record_no="PRIV-7781")).status_code == 201
    res = api.post(
        "/evaluations",
        {
            "record_no": "PRIV-7781",
            "level": 1,
            "channel": "pad",
            "comment": "我叫李四，窗口态度差，电话 13812345678",
            "reasons": ["attitude"],
        },
    )
    assert res.status_code == 201
    case = BadReviewCase.objects.get(record__record_no="PRIV-7781")
    return case


def test_no_page_a_staff_member_reaches_shows_what_names_the_rater(
    world: dict[str, Any], rated_case: BadReviewCase, clock: Clock, django_capture_on_commit_callbacks: Any
) -> None:
    case = rated_case
    evaluation = Evaluation.objects.get(pk=case.evaluation_id)
    handler = login("handler", "handler", department=Department.objects.get(code="D-MKT"))
    staff = login("staff", "staff", staff=Staff.objects.get(staff_no="S001"))
    manager = login("manager", "manager", region=world["district"])
    clock.advance(minutes=20)
    photo = io.BytesIO(PNG)
    photo.name = "通话记录.png"
    with django_capture_on_commit_callbacks(execute=True):
        contacted = handler.post(
            f"/console/cases/{case.pk}/act/contact/",
            {"note": f"已电话联系评价人{PERSONAL}", "evidence": photo, "personal_ok": "1"},
        )
    assert contacted.status_code == 302, contacted.content.decode()[:2000]
    appeal_file = io.BytesIO(PNG)
    appeal_file.name = "申诉材料.png"
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            staff.post(
                f"/console/cases/{case.pk}/appeal/", {"reasons": "当时系统故障", "evidence": appeal_file}
            ).status_code
            == 302
        )
    unit_file = Evidence.objects.get(appeal__isnull=True)
    own_file = Evidence.objects.get(appeal__isnull=False)
    # The decision comes back to the staff member's inbox.
    decided = manager.post(
        f"/console/appeals/{case.appeals.get().pk}/decide/",
        {"upheld": "no", "note": f"经核实，评价人{PERSONAL}所述属实，驳回", "personal_ok": "1"},
    )
    assert decided.status_code == 302, decided.content.decode()[:2000]
    assert "李四" in case.appeals.get().decision_note  # stored as written, numbers masked
    # Spot checks and reports are managers' pages: the staff member gets 404 whatever the number.

    values = {
        "case_id": case.pk,
        "appeal_id": case.appeals.get().pk,
        "check_id": 1,
        "staff_no": "S001",
        "code": "H-XW",
        "kind": "window",
        "report_id": 1,
        # Social comments are their unit's and managers' pages: 404 for the staff member.
        "comment_id": 1,
        # Paper forms are keyed in by managers and handlers: 404 for the staff member.
        "form_id": 1,
    }
    urls: list[tuple[str, str]] = []
    for route in console_routes():
        if route == "console/logout/":
            continue  # read last
        if "<str:action>" in route:
            urls += [
                ("post", "/" + route.replace("<str:action>", a).replace("<int:case_id>", str(case.pk))) for a in ACTIONS
            ]
            continue
        if "<int:evidence_id>" in route:
            for f in (unit_file, own_file):
                urls.append(("get", "/" + route.replace("<int:evidence_id>", str(f.pk))))
            continue
        url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)
        urls += [("get", "/" + url), ("post", "/" + url)]
    urls += [("get", f"/console/?record_no={case.record.record_no}"), ("get", "/console/my/?period=all")]

    with translation.override("zh-hans"):
        channel = str(Evaluation.Channel.PAD.label)
    rated = timezone.localtime(evaluation.rated_at)
    secrets = {
        "record number": case.record.record_no,
        "receipt": evaluation.receipt,
        "rating minute": rated.strftime("%H:%M"),
        "contact due minute": timezone.localtime(case.contact_due).strftime("%H:%M"),
        "channel": channel,
        "name in the comment": "李四",
        "phone": "13812345678",
        "masked phone": "138****5678",
        "ID number": "3201",
    }
    reached = []
    for method, url in urls:
        res = staff.get(url) if method == "get" else staff.post(url, {})
        assert res.status_code < 500, (method, url, res.status_code)
        if res.status_code >= 400 or res.status_code in (301, 302):
            continue
        body = b"".join(res.streaming_content) if res.streaming else res.content
        if url.startswith(f"/console/evidence/{unit_file.pk}/"):
            pytest.fail("the unit's evidence reached the staff member")
        text = body.decode("utf-8", "replace")
        reached.append(url)
        for what, secret in secrets.items():
            assert secret not in text, f"{method.upper()} {url} shows the {what}"
    # The pages that matter were read, not skipped: the queue, the case page, the inbox, their own ratings.
    # The appeal's decision (with its note) is on the case page, their appeals page and in the inbox.
    for must in ("/console/", f"/console/cases/{case.pk}/", "/console/messages/", "/console/my/", "/console/appeals/"):
        assert must in reached, must
    assert f"/console/evidence/{own_file.pk}/" in reached
    # They do read the decision, without what names the evaluator.
    for url in (f"/console/cases/{case.pk}/", "/console/appeals/", "/console/messages/"):
        assert "所述属实，驳回" in staff.get(url).content.decode(), url


def test_the_staff_member_still_sees_the_item_day_reasons_and_redacted_comment(
    world: dict[str, Any], rated_case: BadReviewCase
) -> None:
    staff = login("staff", "staff", staff=Staff.objects.get(staff_no="S001"))
    page = staff.get(f"/console/cases/{rated_case.pk}/").content.decode()
    assert "企业开办" in page
    assert "2026-09-29" in page
    assert "态度" in page  # the reason and the comment
    assert "窗口态度差" in page
    # A handler, who must call the evaluator, still gets the record and the minute.
    handler = login("handler", "handler", department=Department.objects.get(code="D-MKT"))
    page = handler.get(f"/console/cases/{rated_case.pk}/").content.decode()
    assert "PRIV-7781" in page, page[page.index("kv") :][:1500]
    assert "10:37" in page
