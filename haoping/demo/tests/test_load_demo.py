"""The demo loader: a realistic city whose data obeys the same rules as data from the API."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.utils import timezone

from haoping.accounts.models import ApiClient, Membership
from haoping.demo import services as demo_services
from haoping.demo.catalog import CITY_CODE
from haoping.demo.ratings import KEEP_OPEN
from haoping.directory.models import Region, ServiceItem
from haoping.directory.services import region_create
from haoping.evaluations.chain import chain_verify
from haoping.evaluations.models import BlockedEvaluator, ChainSeal, Evaluation
from haoping.evaluations.questionnaire_defaults import default_labels
from haoping.evaluations.views import RECEIPT_FORMAT
from haoping.fields import lookup_digest
from haoping.records.models import Applicant, Bundle, RatingSlot, ServiceRecord, Visit
from haoping.records.rules import rated_per_visit
from haoping.rectification.models import Appeal, BadReviewCase, Consultation, SpotCheckItem

RECORDS = 300
WINDOW = dt.timedelta(days=7)  # the national default rating window (R2)


def run(**options: Any) -> str:
    out = io.StringIO()
    call_command("load_demo", stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def loaded(db: Any, settings: Any, tmp_path: Any) -> dict[str, Any]:
    settings.VAR_DIR = tmp_path
    calls = mock.patch.object(demo_services, "record_create", wraps=demo_services.record_create)
    with calls as record_create:
        output = run(records=RECORDS, seed=7)
    return {"output": output, "var": tmp_path, "through_services": record_create.call_count}


def test_directory_is_a_whole_city(loaded: dict[str, Any]) -> None:
    city = Region.objects.get(code=CITY_CODE)
    districts = Region.objects.filter(parent=city)
    assert districts.count() == 3
    for district in districts:
        assert 2 <= Region.objects.filter(parent=district).count() <= 3
        assert district.institutions.filter(kind="hall").exists()
    assert Region.objects.filter(path__startswith=city.path).count() == Region.objects.count()
    assert city.institutions.filter(kind="center").exists()
    assert ServiceItem.objects.count() >= 40
    assert set(city.platforms.values_list("kind", flat=True)) >= {"web", "mobile", "kiosk", "hotline"}


def test_records_cover_every_mode_and_bundle(loaded: dict[str, Any]) -> None:
    records = ServiceRecord.objects.all()
    assert records.count() == RECORDS
    assert set(records.values_list("mode", flat=True)) == {"onsite", "online", "mixed"}
    assert records.filter(mode="onsite", on_the_spot=True).exists()
    assert records.filter(mode="onsite", on_the_spot=False).exists()
    assert records.filter(agent__isnull=False).exists()
    for batch in Bundle.objects.filter(kind="batch"):
        assert batch.records.count() >= 2
        assert batch.records.values("item").distinct().count() == 1  # R5
    themes = Bundle.objects.filter(kind="theme").annotate(items=Count("records__item", distinct=True))
    assert themes.filter(items__gte=2).exists()
    assert Bundle.objects.filter(kind="batch").exists()
    # Recent records went through the records services, older ones in bulk.
    assert 0 < loaded["through_services"] < RECORDS


def test_ratable_services_open_as_the_records_services_open_them(loaded: dict[str, Any]) -> None:
    """Both registration paths (services and bulk) must give R2/R4/R6 slots exactly."""
    for record in ServiceRecord.objects.prefetch_related("slots", "visits__slot"):
        completion = [s for s in record.slots.all() if s.kind == "completion"]
        if record.status == "completed":
            assert len(completion) == 1
            assert completion[0].opens_at == record.completed_at
            assert completion[0].closes_at == record.completed_at + WINDOW
        else:
            assert completion == []
        for visit in record.visits.all():
            slot = getattr(visit, "slot", None)
            if rated_per_visit(record.mode, record.on_the_spot):
                assert slot is not None and slot.opens_at == visit.at and slot.closes_at == visit.at + WINDOW
            else:
                assert slot is None
    for theme in Bundle.objects.filter(kind="theme"):
        slot = RatingSlot.objects.get(kind="theme", bundle=theme)
        first = theme.records.order_by("accepted_at").first()
        assert first is not None
        assert slot.opens_at == first.accepted_at and slot.closes_at is None
    assert Visit.objects.filter(record__mode="online").count() == 0


def test_applicants_are_encrypted_with_lookup_digests(loaded: dict[str, Any]) -> None:
    applicant = Applicant.objects.filter(kind="person").first()
    assert applicant is not None and applicant.name and re.fullmatch(r"1\d{10}", applicant.phone)
    assert applicant.phone_digest == lookup_digest("phone", applicant.phone)
    assert applicant.id_digest == lookup_digest("id", applicant.id_number)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT phone, id_number FROM {Applicant._meta.db_table} WHERE id = %s", [applicant.pk])
        stored = cursor.fetchone()
    assert all(value.startswith("sm4gcm1:") for value in stored)


def test_ratings_follow_the_rules(loaded: dict[str, Any]) -> None:
    now = timezone.now()
    assert not Evaluation.objects.values("slot").annotate(n=Count("id")).filter(n__gt=1).exists()  # R4
    active = Evaluation.objects.filter(source="active").select_related("slot")
    assert active.exists()
    recent = []
    for ev in active:
        assert ev.slot.opens_at <= ev.rated_at <= ev.slot.closes_at  # R3
        assert ev.rated_at <= now
        if ev.slot.opens_at > now - KEEP_OPEN:
            recent.append(ev)
        assert set(ev.reasons) <= set(default_labels("reason"))
        if ev.rated_by == "agent":
            assert ev.record.agent_id is not None  # R7
    # Recent services are left for people to rate, but for the two bad reviews the casework submits
    # live through the rating service, which take the newest open services when no older one is open.
    assert len(recent) <= 2 and all(ev.level <= 2 for ev in recent)
    bad = active.filter(level__lte=2)
    assert bad.exclude(comment="").exists()
    assert all(ev.reasons for ev in bad)
    assert active.filter(level=5).count() > active.filter(level=4).count() > bad.count()
    defaults = Evaluation.objects.filter(source="default")
    assert defaults.exists() and not defaults.exclude(level=3).exists()  # R2
    assert not RatingSlot.objects.exclude(kind="theme").filter(closes_at__lte=now, evaluations__isnull=True).exists()


def test_batch_and_theme_ratings_share_one_submission(loaded: dict[str, Any]) -> None:
    for batch in Bundle.objects.filter(kind="batch"):
        receipts = set(
            Evaluation.objects.filter(source="active", slot__kind="completion", record__bundle=batch).values_list(
                "receipt", flat=True
            )
        )
        assert len(receipts) <= 1  # R5: one rating for the whole batch
    shared = (
        Evaluation.objects.filter(source="active", bundle__kind="theme")
        .values("receipt")
        .annotate(items=Count("item", distinct=True))
        .filter(items__gte=2)
    )
    assert shared.exists()  # R6: an overall rating on every linked record


def test_chain_is_sealed_and_verifies(loaded: dict[str, Any]) -> None:
    checked, problem = chain_verify()
    assert problem is None
    assert checked == Evaluation.objects.count() == ChainSeal.objects.count()


def test_output_gives_logins_and_open_links(loaded: dict[str, Any]) -> None:
    output = loaded["output"]
    password = (loaded["var"] / "demo-admin.txt").read_text().split()[1]
    key = (loaded["var"] / "demo-api-key.txt").read_text().strip()
    assert f"密码：{password}" in output and key in output
    assert get_user_model().objects.get(username="admin").check_password(password)
    assert ApiClient.objects.filter(region__code=CITY_CODE).count() == 1
    links = re.findall(r"http://\S+/r/([^/\s]+)/$", output, re.MULTILINE)
    assert len(links) == 3
    client = Client()
    for token in links:
        page = client.get(f"/r/{token}/")
        assert page.status_code == 200
        assert b'name="level"' in page.content  # open and unrated: the form is shown


def test_output_gives_a_revisit_link_that_works(loaded: dict[str, Any]) -> None:
    (token,) = re.findall(r"http://\S+/v/(\S+)/", loaded["output"])
    case = BadReviewCase.objects.get(public_id=token.partition(".")[0])
    assert case.state == "replied" and case.evaluator_id is not None
    assert f"差评工单 {case.pk}（{case.item.name}）的回访链接" in loaded["output"]
    client = Client()
    page = client.get(f"/v/{token}/")
    assert page.status_code == 200 and b'name="satisfied"' in page.content
    # Posted as the page's form would be, with whatever hidden fields it carries.
    hidden = {}
    for tag in re.findall(r"<input[^>]*>", page.content.decode()):
        if 'type="hidden"' in tag:
            name, value = re.search(r'name="([^"]*)"', tag), re.search(r'value="([^"]*)"', tag)
            if name:
                hidden[name.group(1)] = html.unescape(value.group(1)) if value else ""
    answer = client.post(f"/v/{token}/", {**hidden, "satisfied": "yes"})
    assert answer.status_code == 302
    case.refresh_from_db()
    assert case.state == "closed"


def test_output_gives_a_receipt_code_and_its_page(loaded: dict[str, Any]) -> None:
    ((code, url),) = re.findall(
        r"可以试查的评价回执编号：(\S+?)（.*\n\s+http://[^/]+(/r/\S+/done/\S+/)", loaded["output"]
    )
    assert RECEIPT_FORMAT.fullmatch(code)
    assert url.endswith(f"/{code}/")
    assert Evaluation.objects.filter(source="active", receipt=code).exists()
    page = Client().get(url)
    assert page.status_code == 200
    assert code.encode() in page.content


def test_every_bad_submission_has_one_case_and_every_state_is_shown(loaded: dict[str, Any]) -> None:
    bad = Evaluation.objects.filter(source="active", level__lte=2, blocked=False)
    submissions = set(bad.values_list("region_id", "receipt"))
    cases = list(BadReviewCase.objects.values_list("region_id", "receipt"))
    assert len(cases) == len(set(cases)) and set(cases) == submissions
    for case in BadReviewCase.objects.select_related("evaluation"):
        # The lead is the submission's first row, and the case opened when the rating was stored.
        rows = bad.filter(region_id=case.region_id, receipt=case.receipt).order_by("pk")
        assert case.evaluation_id == rows[0].pk
        assert case.opened_at == case.evaluation.created_at
        # History reads in order: each step starts where the one before left the case.
        events = list(case.events.order_by("pk"))
        assert [e.at for e in events] == sorted(e.at for e in events)
        moves = [e for e in events if e.to_state]
        assert moves[0].action == "open"
        assert all(a.to_state == b.from_state for a, b in zip(moves, moves[1:], strict=False))
        assert moves[-1].to_state == case.state
    assert set(BadReviewCase.objects.values_list("state", flat=True)) == set(BadReviewCase.State.values)
    now = timezone.now()
    overdue = BadReviewCase.objects.exclude(state="closed").filter(overdue_at__isnull=False, due_at__lt=now)
    assert overdue.exists()
    for case in overdue:
        assert case.events.filter(action="escalated").exists()
    assert BadReviewCase.objects.filter(state="closed", invalid=True, invalid_reason="malicious").exists()
    assert BlockedEvaluator.objects.filter(removed_at__isnull=True).count() == 1
    assert sorted(Appeal.objects.values_list("state", flat=True)) == ["pending", "rejected"]
    assert Consultation.objects.filter(case__category="complex").exists()
    assert SpotCheckItem.objects.exists() and not SpotCheckItem.objects.filter(result="pending").exists()


def test_console_users_have_their_roles(loaded: dict[str, Any]) -> None:
    password, *usernames = (loaded["var"] / "demo-users.txt").read_text().split()
    users = {
        u.username: u
        for u in get_user_model().objects.filter(membership__isnull=False).select_related("membership__region")
    }
    assert sorted(users) == sorted(usernames)
    city = users["manager"].membership
    assert (city.role, city.region.code) == ("manager", CITY_CODE)
    districts = Region.objects.filter(parent__code=CITY_CODE)
    managed = {u.membership.region_id for u in users.values() if u.membership.role == "manager"}
    assert managed == {city.region_id, *districts.values_list("pk", flat=True)}
    bad = Evaluation.objects.filter(source="active", level__lte=2)
    handlers = Membership.objects.filter(role="handler")
    assert handlers.count() >= 2
    assert all(bad.filter(department_id=m.department_id).exists() for m in handlers)
    staff = Membership.objects.filter(role="staff")
    assert staff.count() == 2
    assert all(bad.filter(staff_id=m.staff_id).exists() for m in staff)
    for user in users.values():
        assert re.fullmatch(r"[a-z0-9_]+", user.username)
        assert user.last_name and user.first_name and not user.is_staff
    assert users["manager"].check_password(password)
    assert len({u.password for u in users.values()}) == 1
    # Handlers' work is recorded as theirs.
    assert BadReviewCase.objects.filter(events__user__membership__role="handler").exists()
    output = loaded["output"]
    assert f"以下用户的密码均为：{password}" in output
    assert all(username in output for username in usernames)
    # Each user's line names their role in Chinese only, as the console does.
    roles = {}
    for line in output.splitlines():
        name, _sep, rest = line.strip().partition("  ")
        if name in usernames:
            roles[name] = rest.split(" · ")[1]
    assert roles["manager"] == "管理人员"
    assert {roles[u] for u in usernames if u.startswith("handler_")} == {"承办人员"}
    assert {roles[u] for u in usernames if u.startswith("staff_")} == {"工作人员"}
    labels = re.sub(r"\S*[/_-]\S*|manage\.py|changepassword|load_demo|hp_\S+", "", output)
    admin, admin_password = (loaded["var"] / "demo-admin.txt").read_text().split()
    for word in (password, admin, admin_password, *usernames):
        labels = labels.replace(word, "")
    assert not re.search(r"[A-Za-z]{3,}", labels), labels


def test_second_run_adds_nothing(loaded: dict[str, Any]) -> None:
    counts = [m.objects.count() for m in (ServiceRecord, Visit, RatingSlot, Evaluation, ApiClient, Region)]
    users = get_user_model().objects.count()
    output = run(records=RECORDS, seed=7)
    assert "已经载入" in output
    assert [m.objects.count() for m in (ServiceRecord, Visit, RatingSlot, Evaluation, ApiClient, Region)] == counts
    assert get_user_model().objects.count() == users
    key = (loaded["var"] / "demo-api-key.txt").read_text().strip()
    password = (loaded["var"] / "demo-admin.txt").read_text().split()[1]
    assert key in output and f"密码：{password}" in output


def test_refuses_a_database_that_holds_other_data(db: Any, settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path
    region_create(code="110000", name="北京市")
    with pytest.raises(CommandError, match="empty"):
        run(records=RECORDS)
    assert not ServiceRecord.objects.exists()


def test_output_gives_sms_invitations_that_rate_by_link_and_by_reply(loaded: dict[str, Any]) -> None:
    from haoping.channels.models import Invitation

    assert Invitation.objects.exists()
    shown = re.findall(r"(http://\S+/s/(\w{8})/)\n\s+manage.py sms_inbound --phone (\d+) --text", loaded["output"])
    assert len(shown) == 2, loaded["output"]
    (_url, code, _phone), (_url2, code2, phone2) = shown
    res = Client().get(f"/s/{code}/")
    assert res.status_code == 302 and res["Location"].endswith("?via=sms")
    assert Client().get(res["Location"]).status_code == 200
    out = io.StringIO()
    call_command("sms_inbound", phone=phone2, text="4 挺好", stdout=out)
    ev = Evaluation.objects.get(slot=Invitation.objects.get(code=code2).slot)
    assert (ev.level, ev.channel, ev.comment) == (4, "sms", "挺好") and ev.receipt in out.getvalue()


def test_the_live_bad_reviews_never_take_a_blocked_applicants_service(db: Any, settings: Any, tmp_path: Any) -> None:
    # In a small city the evaluator the demo blocks (R15) may have another service open; their
    # rating would open no case, and the demo's live appeal would have none to appeal.
    from haoping.demo import casework

    settings.VAR_DIR = tmp_path
    chosen: list[list[RatingSlot]] = []
    fresh = casework._fresh_slots

    def blocking_first(staff_ids: set[int]) -> list[RatingSlot]:
        first = fresh(staff_ids)[0]
        person = first.record.applicant
        BlockedEvaluator.objects.create(
            region_id=first.region_id,
            phone_digest=person.phone_digest or None,
            id_digest=person.id_digest or None,
            case=BadReviewCase.objects.order_by("pk").first(),
            reason="演示",
            added_by_label="test",
            added_at=timezone.now(),
        )
        chosen.append(fresh(staff_ids))
        return chosen[-1]

    with mock.patch.object(casework, "_fresh_slots", blocking_first):
        run(records=RECORDS, seed=7)
    blocked = BlockedEvaluator.objects.filter(reason="演示").get()
    for slot in chosen[0]:
        person = slot.record.applicant
        assert blocked.phone_digest != (person.phone_digest or None) and blocked.id_digest != (person.id_digest or None)
    assert Appeal.objects.filter(decided_at__isnull=True).exists()
