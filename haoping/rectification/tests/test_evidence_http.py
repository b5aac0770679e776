# ruff: noqa: F811  (the console tests' `people` and `case` fixtures are imported and used by name)
"""Evidence through the console: written to disk only once its step commits, refused unless its
content is what its name says, and served only to those who may see its case."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from haoping.errors import Conflict
from haoping.rectification import services
from haoping.rectification.models import BadReviewCase, Evidence
from haoping.rectification.tests.test_console import case, people  # noqa: F401 (fixtures)
from haoping.rectification.tests.test_evidence import PDF, PNG

SEES = ["handler", "manager", "city_manager"]
# R10: the rated staff member sees the case but not the unit's files (a call record may show the rater).
BLIND = ["other_handler", "other_manager", "other_staff", "outsider", "staff"]


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def upload(name: str, content: bytes) -> io.BytesIO:
    f = io.BytesIO(content)
    f.name = name
    return f


def to_rectify(client: Client, case_id: int) -> None:
    assert client.post(f"/console/cases/{case_id}/act/contact/", {"note": "已电话联系"}).status_code == 302
    assert client.post(f"/console/cases/{case_id}/act/classify/", {"category": "general"}).status_code == 302


def rectify(client: Client, case_id: int, *files: io.BytesIO) -> Any:
    return client.post(f"/console/cases/{case_id}/act/rectify/", {"description": "已整改", "evidence": list(files)})


def test_a_step_rolled_back_leaves_no_file_behind(
    people: dict[str, Client],
    case: BadReviewCase,
    media: Path,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    handler = people["handler"]
    to_rectify(handler, case.pk)

    def fails_late(*args: Any) -> None:
        raise Conflict("busy", "the step fails after its files were handed over")

    monkeypatch.setattr(services, "_after", fails_late)
    with django_capture_on_commit_callbacks(execute=True):
        res = rectify(handler, case.pk, upload("整改.png", PNG))
    assert res.status_code == 409
    case.refresh_from_db()
    assert case.state == "handling"
    assert not Evidence.objects.exists()
    assert stored_files(media) == []


@pytest.mark.parametrize("who", SEES)
def test_evidence_is_written_on_commit_and_served_to_those_who_see_the_case(
    people: dict[str, Client], case: BadReviewCase, media: Path, django_capture_on_commit_callbacks: Any, who: str
) -> None:
    handler = people["handler"]
    to_rectify(handler, case.pk)
    with django_capture_on_commit_callbacks(execute=True):
        assert rectify(handler, case.pk, upload("整改.png", PNG), upload("说明.pdf", PDF)).status_code == 302
    assert len(stored_files(media)) == 2
    for evidence, content in zip(Evidence.objects.order_by("name"), (PNG, PDF), strict=True):
        res = people[who].get(f"/console/evidence/{evidence.pk}/")
        assert res.status_code == 200
        assert b"".join(res.streaming_content) == content
        assert res["Content-Type"] == evidence.content_type
        assert res["Content-Disposition"].startswith("attachment")
        # Opened in the browser anyway, a PDF runs without scripts and is not cached.
        assert res["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert "no-store" in res["Cache-Control"]


@pytest.mark.parametrize("who", BLIND)
def test_evidence_is_404_for_another_region_another_unit_another_staff_member(
    people: dict[str, Client], case: BadReviewCase, media: Path, django_capture_on_commit_callbacks: Any, who: str
) -> None:
    handler = people["handler"]
    to_rectify(handler, case.pk)
    with django_capture_on_commit_callbacks(execute=True):
        assert rectify(handler, case.pk, upload("整改.png", PNG)).status_code == 302
    evidence = Evidence.objects.get()
    res = people[who].get(f"/console/evidence/{evidence.pk}/")
    assert res.status_code == 404
    assert PNG not in res.content


def test_evidence_is_never_served_to_a_signed_out_visitor(
    people: dict[str, Client], case: BadReviewCase, media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    handler = people["handler"]
    to_rectify(handler, case.pk)
    with django_capture_on_commit_callbacks(execute=True):
        assert rectify(handler, case.pk, upload("整改.png", PNG)).status_code == 302
    evidence = Evidence.objects.get()
    res = Client().get(f"/console/evidence/{evidence.pk}/")
    assert res.status_code == 302 and res["Location"].startswith("/console/login/")
    assert PNG not in res.content
    # The media directory has no URL of its own.
    assert Client().get(f"/media-not-served/{evidence.file.name}").status_code == 404


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("photo.jpg", b"<html><script>alert(1)</script></html>"),
        ("scan.pdf", PNG),  # a PNG named as a PDF
        ("page.png", b"GIF89a" + b"\x00" * 64),
    ],
)
def test_a_file_is_refused_on_the_page_unless_its_content_is_what_its_name_says(
    people: dict[str, Client],
    case: BadReviewCase,
    media: Path,
    django_capture_on_commit_callbacks: Any,
    name: str,
    content: bytes,
) -> None:
    handler = people["handler"]
    to_rectify(handler, case.pk)
    with django_capture_on_commit_callbacks(execute=True):
        res = rectify(handler, case.pk, upload(name, content))
    assert res.status_code == 422
    assert "evidence" in res.content.decode() and name in res.content.decode()
    assert not Evidence.objects.exists() and stored_files(media) == []


def test_a_file_that_could_not_be_written_is_404_not_500(
    people: dict[str, Client],
    case: BadReviewCase,
    media: Path,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    handler = people["handler"]
    to_rectify(handler, case.pk)

    def disk_full(*args: Any, **kwargs: Any) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(services.default_storage, "save", disk_full)
    with django_capture_on_commit_callbacks(execute=True):
        assert rectify(handler, case.pk, upload("整改.png", PNG)).status_code == 302
    case.refresh_from_db()
    assert case.state == "resolved"  # the step stands; only its file is missing
    evidence = Evidence.objects.get()
    assert handler.get(f"/console/evidence/{evidence.pk}/").status_code == 404
