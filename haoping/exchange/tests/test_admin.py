"""The code tables and endpoints are edited in the admin; the secrets are written, never shown back."""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from haoping.exchange.models import CodeTable, Endpoint
from haoping.lib.gm import sm2_private_key, sm2_public_key


def superuser() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "x"))
    return client


def test_a_preset_is_edited_in_the_admin(world: dict[str, Any]) -> None:
    admin = superuser()
    table = CodeTable.objects.get(slug="gbt39046")
    page = admin.get(f"/admin/exchange/codetable/{table.pk}/change/").content.decode()
    assert "代码表" in page and "评价等级（satisfaction）" in page
    assert admin.get("/admin/exchange/codeentry/?field=satisfaction").status_code == 200
    assert admin.get("/admin/exchange/outgoingrow/").status_code == 200


def test_an_endpoint_keeps_its_secrets_when_edited_blank(world: dict[str, Any]) -> None:
    admin = superuser()
    key = sm2_private_key(os.urandom(32))
    form = {
        "region": world["city"].pk,
        "code_table": CodeTable.objects.get(slug="national").pk,
        "active": "on",
        "url": "https://hcp.example.gov.cn/evaluate",
        "tenancy_id": "320000000000",
        "app_mark": "mark",
        "app_word": "word-1",
        "sign_private_key": key,
        "sign_public_key": sm2_public_key(key),
        "platform_public_key": "",
        "batch_size": "100",
        "every_minutes": "5",
        "data_source": "165",
        "project_no_prefix": "",
        "rating_link_pattern": "",
    }
    assert admin.post("/admin/exchange/endpoint/add/", form).status_code == 302
    endpoint = Endpoint.objects.get()
    page = admin.get(f"/admin/exchange/endpoint/{endpoint.pk}/change/").content.decode()
    assert "word-1" not in page and key not in page
    assert "本系统 SM2 私钥" in page and "上级平台评价页面" in page

    too_big = admin.post(
        f"/admin/exchange/endpoint/{endpoint.pk}/change/",
        {**form, "app_word": "", "sign_private_key": "", "batch_size": "101"},
    )
    assert too_big.status_code == 200  # the form again, with its error
    assert (
        admin.post(
            f"/admin/exchange/endpoint/{endpoint.pk}/change/",
            {**form, "app_word": "", "sign_private_key": "", "app_mark": "mark-2"},
        ).status_code
        == 302
    )
    endpoint.refresh_from_db()
    assert (endpoint.app_mark, endpoint.app_word, endpoint.sign_private_key) == ("mark-2", "word-1", key)


def test_a_lower_system_is_registered_with_write_only_secrets_and_its_rows_are_listed(
    world: dict[str, Any],
) -> None:
    from haoping.accounts.services import api_client_create
    from haoping.exchange.models import IncomingRow, LowerSystem

    admin = superuser()
    client, _key = api_client_create(name="玄武区好差评系统", region=world["district"])
    ours = sm2_private_key(os.urandom(32))
    form = {
        "name": "玄武区好差评系统",
        "region": world["district"].pk,
        "api_client": client.pk,
        "code_table": CodeTable.objects.get(slug="national").pk,
        "active": "on",
        "app_mark": "xuanwu",
        "app_word": "county-word",
        "sign_public_key": sm2_public_key(sm2_private_key(os.urandom(32))),
        "decrypt_private_key": ours,
        "chain_public_key": "",
    }
    assert admin.get("/admin/exchange/lowersystem/add/").status_code == 200
    res = admin.post("/admin/exchange/lowersystem/add/", form)
    assert res.status_code == 302, res.content.decode()[:2000]
    system = LowerSystem.objects.get()
    page = admin.get(f"/admin/exchange/lowersystem/{system.pk}/change/").content.decode()
    assert "下级系统" in page and "county-word" not in page and ours not in page
    res = admin.post(
        f"/admin/exchange/lowersystem/{system.pk}/change/", {**form, "app_word": "", "decrypt_private_key": ""}
    )
    assert res.status_code == 302
    system.refresh_from_db()
    assert (system.app_word, system.decrypt_private_key) == ("county-word", ours)
    # A key of another region is refused.
    other, _ = api_client_create(name="秦淮区好差评系统", region=world["other"])
    res = admin.post("/admin/exchange/lowersystem/add/", {**form, "name": "x", "api_client": other.pk})
    assert res.status_code == 200 and LowerSystem.objects.count() == 1

    IncomingRow.objects.create(
        system=system,
        kind="evaluation",
        natural_key="evaluation:XW-1:1",
        status="refused",
        answer=422,
        field="pf",
        message="未知代码 9",
        payload='{"writingEvaluation": "电话13812345678"}',
        digest="0" * 64,
        received_at=timezone.now(),
        updated_at=timezone.now(),
    )
    listing = admin.get("/admin/exchange/incomingrow/?status=refused").content.decode()
    assert "evaluation:XW-1:1" in listing
    row = IncomingRow.objects.get()
    detail = admin.get(f"/admin/exchange/incomingrow/{row.pk}/change/").content.decode()
    assert "13812345678" not in detail and "未知代码 9" in detail
