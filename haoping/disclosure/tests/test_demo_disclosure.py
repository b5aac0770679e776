"""The demo city published: every public page and download, crawled from /gongkai/, answers and
holds no personal value stored anywhere in the database (R10)."""

from __future__ import annotations

import io
import re
from collections import deque
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import models
from django.test import Client
from pypdf import PdfReader

from haoping.directory.models import Staff
from haoping.disclosure.models import CaseStudy, Publication, RectificationNotice
from haoping.evaluations.models import Evaluation
from haoping.feedback.models import SocialComment
from haoping.fields import EncryptedTextField

# Shorter free text ("同意", "已联系") is the system's own wording as often as anyone's.
SHORTEST_TEXT = 6


@pytest.fixture
def demo(db: Any, settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path
    call_command("load_demo", records=600, seed=11, stdout=open("/dev/null", "w"))  # noqa: SIM115


def personal_values() -> set[str]:
    """Everything stored that names or reaches a person, or that someone wrote: every encrypted
    field decrypted, every free text, staff and console users' names."""
    values: set[str] = set()
    for model in apps.get_models():
        if not model.__module__.startswith("haoping."):
            continue
        encrypted = [f.name for f in model._meta.fields if isinstance(f, EncryptedTextField)]
        texts = [
            f.name
            for f in model._meta.fields
            if isinstance(f, models.TextField) and not isinstance(f, EncryptedTextField)
        ]
        for row in model.objects.values_list(*encrypted, *texts) if encrypted or texts else []:
            for i, value in enumerate(row):
                if not value:
                    continue
                value = str(value).strip()
                if len(value) >= (2 if i < len(encrypted) else SHORTEST_TEXT):
                    values.add(value)
    values.update(Staff.objects.values_list("name", flat=True))
    for first, last in get_user_model().objects.values_list("first_name", "last_name"):
        if first or last:
            values.add(f"{last}{first}")
    for answers in Evaluation.objects.exclude(answers={}).values_list("answers", flat=True):
        suggestion = str(answers.get("suggestion") or "")
        if len(suggestion) >= SHORTEST_TEXT:
            values.add(suggestion)
    return values


def crawl(client: Client, start: list[str]) -> dict[str, str]:
    seen: dict[str, str] = {}
    queue = deque(start)
    while queue:
        url = queue.popleft()
        if url in seen:
            continue
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if response["Content-Type"] == "application/pdf":
            seen[url] = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
            continue
        text = response.content.decode("utf-8-sig")
        seen[url] = text
        for link in re.findall(r'href="(/gongkai/[^"?#]*)"', text):
            if link not in seen:
                queue.append(link)
    return seen


def test_every_public_page_of_the_demo_answers_without_personal_data(demo: None) -> None:
    publications = list(Publication.objects.select_related("region"))
    # The city and each of its districts publish their last full month.
    assert len(publications) == 4 and len({p.month for p in publications}) == 1
    assert any(p.figures["staff"] for p in publications)
    assert RectificationNotice.objects.exists()
    # 综合点评 in every state of its workflow, from every channel.
    assert set(SocialComment.objects.values_list("state", flat=True)) == set(SocialComment.State.values)
    assert set(SocialComment.objects.values_list("channel", flat=True)) == set(SocialComment.Channel.values)
    client = Client()
    pages = crawl(client, ["/gongkai/"])
    downloads = [u for u in pages if u.endswith((".csv", ".json"))]
    objects = [u for u in pages if u.count("/") >= 6 and not u.endswith((".csv", ".json"))]
    assert len(downloads) >= 4 * 5 and len(objects) > 20
    rectification = [u for u in pages if u.endswith("/rectification/")]
    assert len(rectification) == 4 and any('class="card case"' in pages[u] for u in rectification)
    # 案例库 and the month's bulletins, as pages and PDFs.
    assert any('class="card study"' in text for url, text in pages.items() if url.endswith("/cases/"))
    assert len([u for u in pages if u.endswith(".pdf")]) == 4 and all(pages[u] for u in pages if u.endswith(".pdf"))
    # A receipt checked too.
    receipt = Evaluation.objects.filter(source="active").order_by("-id").values_list("receipt", flat=True).first()
    pages["receipt"] = client.get("/gongkai/receipt/", {"code": receipt}).content.decode()
    assert "评价已存储" in pages["receipt"]
    # What a manager approved for 整改公示 is published on purpose; the comment it came from only
    # as approved (names and numbers removed).
    approved = set()
    for summary, rectification in RectificationNotice.objects.values_list("summary", "rectification"):
        approved.update({summary.strip(), rectification.strip()})
    # So is a typical case's text, as the manager wrote and published it.
    for title, text in CaseStudy.objects.filter(published_at__isnull=False).values_list("title", "text"):
        approved.update({title.strip(), text.strip()})
    values = personal_values() - approved
    assert len(values) > 100
    leaks = [(url, value) for url, text in pages.items() for value in values if value in text]
    assert leaks == []
