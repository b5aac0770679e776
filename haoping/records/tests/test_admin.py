"""Personal data in the admin: masked everywhere, shown in full only through an audited step."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Permission, User
from django.test import Client

from haoping.audit.models import AuditEntry
from haoping.records.models import Applicant


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_admin_masks_personal_data(world: dict[str, Any], record_payload: Any) -> None:
    res = world["api"].post("/records", record_payload(record_no="ADM1"))
    token = res.json()["completion"]["evaluation_url"].rstrip("/").split("/")[-1]
    world["api"].post(
        "/evaluations", {"token": token, "level": 2, "channel": "pad", "comment": "态度差，回电13812345678"}
    )
    admin = logged_in(User.objects.create_superuser("root", "root@example.com", "x"))
    applicant = Applicant.objects.get()
    pages = [
        "/admin/records/applicant/",
        f"/admin/records/applicant/{applicant.pk}/change/",
        "/admin/records/servicerecord/",
        f"/admin/records/servicerecord/{applicant.records.get().pk}/change/",
        "/admin/evaluations/evaluation/",
        "/admin/evaluations/evaluation/1/change/".replace("1", str(applicant.records.get().evaluations.get().pk)),
    ]
    for url in pages:
        res = admin.get(url)
        assert res.status_code == 200, url
        html = res.content.decode()
        assert "13812345678" not in html and "320102199001011234" not in html and "张三" not in html, url
    evaluation_page = admin.get(pages[-1]).content.decode()
    assert "态度差，回电138****5678" in evaluation_page
    detail = admin.get(f"/admin/records/applicant/{applicant.pk}/change/").content.decode()
    assert "138****5678" in detail and "3201**********1234" in detail and "张*" in detail
    assert AuditEntry.objects.count() == 0


def test_reveal_needs_permission_and_a_reason_and_is_audited(world: dict[str, Any], record_payload: Any) -> None:
    world["api"].post("/records", record_payload(record_no="ADM2"))
    applicant = Applicant.objects.get()
    url = f"/admin/records/applicant/{applicant.pk}/reveal/"
    clerk = User.objects.create_user("clerk", password="x", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_applicant"))
    assert logged_in(clerk).post(url, {"reason": "回访"}).status_code == 403

    clerk.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    client = logged_in(User.objects.get(pk=clerk.pk))
    form = client.get(url).content.decode()
    assert "13812345678" not in form
    no_reason = client.post(url, {"reason": ""}).content.decode()
    assert "13812345678" not in no_reason and AuditEntry.objects.count() == 0
    shown = client.post(url, {"reason": "差评回访需要联系评价人"}).content.decode()
    assert "13812345678" in shown and "320102199001011234" in shown
    entry = AuditEntry.objects.get()
    assert (entry.actor_label, entry.action, entry.target) == (
        "clerk",
        "reveal_personal_data",
        f"applicant:{applicant.pk}",
    )
    assert entry.reason == "差评回访需要联系评价人"


def test_admin_cannot_edit_evaluations(world: dict[str, Any], record_payload: Any) -> None:
    res = world["api"].post("/records", record_payload(record_no="ADM3"))
    token = res.json()["completion"]["evaluation_url"].rstrip("/").split("/")[-1]
    world["api"].post("/evaluations", {"token": token, "level": 5, "channel": "pad"})
    admin = logged_in(User.objects.create_superuser("root", "root@example.com", "x"))
    from haoping.evaluations.models import Evaluation

    ev = Evaluation.objects.get()
    page = admin.get(f"/admin/evaluations/evaluation/{ev.pk}/change/")
    assert page.status_code == 200 and 'name="level"' not in page.content.decode()
    assert admin.post(f"/admin/evaluations/evaluation/{ev.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Evaluation.objects.filter(level=5).count() == 1
