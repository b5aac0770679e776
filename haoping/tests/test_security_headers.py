"""Every page carries a Content-Security-Policy that allows scripts only from our own static files,
and the templates hold no inline script for it to block; plus Referrer-Policy, nosniff and
Permissions-Policy."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.templatetags.static import static
from django.test import Client

TEMPLATES = Path(settings.BASE_DIR) / "haoping" / "templates"


def policy(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


PAGES = ["/console/login/", "/admin/login/", "/api/v1/docs", "/no-such-page/"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_a_strict_script_policy_and_the_other_headers(db: Any, path: str) -> None:
    res = Client().get(path)
    assert res.status_code in (200, 404)
    csp = policy(res["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"] and csp["form-action"] == ["'self'"]
    assert res["Referrer-Policy"] == "same-origin"
    assert res["X-Content-Type-Options"] == "nosniff"
    permissions = res["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment"):
        assert f"{feature}=()" in permissions


def test_the_rating_page_and_its_qr_code_have_the_policy_too(world: dict[str, Any], record_payload: Any) -> None:
    res = world["api"].post("/records", record_payload(record_no="CSP-1"))
    assert res.status_code == 201
    rate = urlsplit(res.json()["completion"]["evaluation_url"]).path
    qr = urlsplit(res.json()["completion"]["qr_url"]).path
    for path in (rate, qr):
        page = Client().get(path)
        assert page.status_code == 200
        assert policy(page["Content-Security-Policy"])["script-src"] == ["'self'"]
        assert page["X-Content-Type-Options"] == "nosniff"


def test_the_api_docs_load_swagger_from_our_own_static_files(db: Any) -> None:
    page = Client().get("/api/v1/docs").content.decode()
    scripts = re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", page)
    assert scripts and all(src.startswith(static("")) for src in scripts)
    assert "cdn" not in page.lower()


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I)
HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
JS_URL = re.compile(r"(?:href|src|action)\s*=\s*[\"']?\s*javascript:", re.I)


@pytest.mark.parametrize("template", sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html")))
def test_no_template_has_an_inline_script_or_event_handler(template: str) -> None:
    text = (TEMPLATES / template).read_text()
    assert not INLINE_SCRIPT.search(text), "move the script into haoping/static/js/"
    assert not HANDLER.search(text), "attach the handler from a static script"
    assert not JS_URL.search(text)
