"""The code tables and endpoints are edited in the admin; the secrets are written, never shown back."""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth import get_user_model
from django.test import Client

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
