"""Errors under /api/v1/ keep the JSON shape even when Django, not the API, produced them."""

from __future__ import annotations

from typing import Any

from django.test import Client


def test_unknown_path_wrong_method_and_oversized_body(world: dict[str, Any]) -> None:
    auth = {"HTTP_AUTHORIZATION": f"Bearer {world['api'].key}"}
    http = Client()
    unknown = http.get("/api/v1/nothing-here", **auth)
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"
    wrong = http.get("/api/v1/evaluations", **auth)
    assert wrong.status_code == 405 and wrong.json()["error"] == "method_not_allowed"
    big = http.post("/api/v1/evaluations", "x" * 300_000, content_type="application/json", **auth)
    assert big.status_code == 400 and big.json()["error"] == "bad_request"


def test_public_404_page_is_chinese(db: Any) -> None:
    res = Client().get("/no-such-page/")
    assert res.status_code == 404 and "不存在" in res.content.decode()
