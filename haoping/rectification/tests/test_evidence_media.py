# ruff: noqa: F811  (the console tests' `people` and `case` fixtures are imported and used by name)
"""Evidence people actually have: call recordings and short video clips join photos and scans,
checked by content, limited in size per kind, and played on the case page from the same guarded
view, in byte ranges."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from haoping.accounts.access import Actor
from haoping.errors import Invalid
from haoping.rectification.models import BadReviewCase, Evidence
from haoping.rectification.services import case_act
from haoping.rectification.tests import media_files
from haoping.rectification.tests.test_console import case, people  # noqa: F401 (fixtures)
from haoping.rectification.tests.test_evidence import PNG, actor, handling, media  # noqa: F401 (fixtures)
from haoping.rectification.tests.test_evidence_http import BLIND, rectify, to_rectify, upload

MB = 2**20
WAV = media_files.wav()


def rectify_with(actor: Actor, case: BadReviewCase, *files: tuple[str, bytes]) -> None:
    uploads = [SimpleUploadedFile(name, content, "application/octet-stream") for name, content in files]
    case_act(actor=actor, case=case, action="rectify", fields={"description": "已整改"}, files=uploads)


@pytest.mark.parametrize(
    ("name", "content", "served_as"),
    [
        ("通话录音.wav", WAV, "audio/wav"),
        ("通话录音.mp3", media_files.mp3(), "audio/mpeg"),
        ("通话录音.m4a", media_files.m4a(), "audio/mp4"),
        ("录音.m4a", media_files.mp4(), "audio/mp4"),  # a recorder writing the generic MPEG-4 brands
        ("通话录音.aac", media_files.aac(), "audio/aac"),
        ("通话录音.amr", media_files.amr(), "audio/amr"),
        ("监控片段.mp4", media_files.mp4(), "video/mp4"),
        ("监控片段.webm", media_files.webm(), "video/webm"),
    ],
)
def test_recordings_and_clips_are_accepted_by_their_content(
    handling: BadReviewCase, actor: Actor, media: Path, name: str, content: bytes, served_as: str
) -> None:
    rectify_with(actor, handling, (name, content))
    evidence = Evidence.objects.get()
    assert (evidence.content_type, evidence.size) == (served_as, len(content))


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("录音.mp3", WAV),  # a WAV named as an MP3
        ("监控.mp4", media_files.webm()),
        ("监控.webm", media_files.mp4()),
        ("录音.wav", b"RIFF\x00\x00\x00\x00AVI LIST"),  # a RIFF that is not a WAVE
        ("录音.amr", b"<script>alert(1)</script>"),
        ("监控.avi", b"RIFF\x00\x00\x00\x00AVI LIST"),  # a type not taken
    ],
)
def test_a_recording_or_clip_is_refused_unless_its_content_is_what_its_name_says(
    handling: BadReviewCase, actor: Actor, media: Path, name: str, content: bytes
) -> None:
    with pytest.raises(Invalid) as refused:
        rectify_with(actor, handling, (name, content))
    assert (refused.value.code, refused.value.status, refused.value.extra["field"]) == ("file_type", 422, "evidence")
    assert not Evidence.objects.exists()


@pytest.fixture
def small_limits(settings: Any) -> None:
    settings.HAOPING_EVIDENCE_MAX_BYTES = {"image": 1 * MB, "document": 1 * MB, "audio": 2 * MB, "video": 3 * MB}
    settings.HAOPING_EVIDENCE_MAX_TOTAL_BYTES = 4 * MB


def test_each_kind_has_its_own_size_limit(
    handling: BadReviewCase, actor: Actor, media: Path, small_limits: None
) -> None:
    clip = media_files.mp4() + b"\x00" * (3 * MB - len(media_files.mp4()))
    recording = WAV + b"\x00" * (2 * MB - len(WAV))
    with pytest.raises(Invalid) as refused:
        rectify_with(actor, handling, ("照片.png", PNG + b"\x00" * MB))
    assert refused.value.code == "file_too_large" and "超过 1 MB" in refused.value.detail
    with pytest.raises(Invalid) as refused:
        rectify_with(actor, handling, ("录音.wav", recording + b"\x00"))
    assert refused.value.code == "file_too_large" and "超过 2 MB" in refused.value.detail
    with pytest.raises(Invalid) as refused:  # each fits, not both together
        rectify_with(actor, handling, ("监控.mp4", clip), ("录音.wav", recording))
    assert refused.value.code == "files_too_large" and "合计 5 MB，每次办理最多 4 MB" in refused.value.detail
    assert not Evidence.objects.exists()
    rectify_with(actor, handling, ("监控.mp4", clip))  # exactly the limit of a clip, above a photo's
    assert Evidence.objects.get().size == 3 * MB


def test_the_form_states_the_types_and_limits_from_the_settings(
    people: dict[str, Client], case: BadReviewCase, small_limits: None
) -> None:
    handler = people["handler"]
    to_rectify(handler, case.pk)
    page = handler.get(f"/console/cases/{case.pk}/").content.decode()
    assert "照片（JPEG、PNG）每个不超过 1 MB" in page and "通话录音（MP3、M4A、AAC、WAV、AMR）每个不超过 2 MB" in page
    assert "视频片段（MP4、WebM）每个不超过 3 MB" in page
    accept = re.search(r'type="file" name="evidence" multiple accept="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert {".wav", ".amr", ".m4a", ".mp4", ".webm", "audio/mpeg", "video/mp4"} <= set(accept.split(","))


@pytest.fixture
def recorded(
    people: dict[str, Client], case: BadReviewCase, media: Path, django_capture_on_commit_callbacks: Any
) -> dict[str, Evidence]:
    handler = people["handler"]
    to_rectify(handler, case.pk)
    files = [
        upload("通话录音.wav", WAV),
        upload("监控片段.mp4", media_files.mp4()),
        upload("旧手机录音.amr", media_files.amr()),
        upload("整改.png", PNG),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        assert rectify(handler, case.pk, *files).status_code == 302
    return {e.extension: e for e in Evidence.objects.all()}


def test_the_case_page_plays_recordings_and_clips(
    people: dict[str, Client], case: BadReviewCase, recorded: dict[str, Evidence]
) -> None:
    res = people["handler"].get(f"/console/cases/{case.pk}/")
    page = res.content.decode()
    url = "/console/evidence/{}/"
    assert f'<audio controls preload="metadata" src="{url.format(recorded[".wav"].pk)}">' in page
    assert f'<video controls preload="metadata" src="{url.format(recorded[".mp4"].pk)}">' in page
    # No browser plays AMR: it is a download, like the photo.
    for ext in (".amr", ".png"):
        assert (
            f'<a href="{url.format(recorded[ext].pk)}">' in page and f'src="{url.format(recorded[ext].pk)}"' not in page
        )
    assert "media-src 'self'" in res["Content-Security-Policy"]


def test_a_recording_is_served_inline_in_byte_ranges(people: dict[str, Client], recorded: dict[str, Evidence]) -> None:
    client, url, size = people["manager"], f"/console/evidence/{recorded['.wav'].pk}/", len(WAV)
    whole = client.get(url)
    assert whole.status_code == 200 and b"".join(whole.streaming_content) == WAV
    assert whole["Content-Type"] == "audio/wav" and whole["Accept-Ranges"] == "bytes"
    assert whole["Content-Disposition"].startswith("inline")
    assert whole["Content-Security-Policy"] == "default-src 'none'; sandbox" and "no-store" in whole["Cache-Control"]
    for header, start, end in (
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, size - 1),
        ("bytes=-44", size - 44, size - 1),
    ):
        part = client.get(url, HTTP_RANGE=header)
        assert part.status_code == 206, header
        assert part["Content-Range"] == f"bytes {start}-{end}/{size}"
        assert part["Content-Length"] == str(end - start + 1)
        assert b"".join(part.streaming_content) == WAV[start : end + 1]
    beyond = client.get(url, HTTP_RANGE=f"bytes={size}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{size}"
    # Several ranges, or nonsense: the whole file.
    assert client.get(url, HTTP_RANGE="bytes=0-1,5-9").status_code == 200
    assert client.get(url, HTTP_RANGE="pages=1-2").status_code == 200
    # A photo still downloads whole, whatever the request asks.
    photo = client.get(f"/console/evidence/{recorded['.png'].pk}/", HTTP_RANGE="bytes=0-3")
    assert photo.status_code == 200 and photo["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize("who", BLIND)
def test_a_recording_is_404_to_whoever_may_not_see_the_case(
    people: dict[str, Client], recorded: dict[str, Evidence], who: str
) -> None:
    res = people[who].get(f"/console/evidence/{recorded['.wav'].pk}/", HTTP_RANGE="bytes=0-99")
    assert res.status_code == 404 and WAV[:100] not in res.content
    signed_out = Client().get(f"/console/evidence/{recorded['.wav'].pk}/", HTTP_RANGE="bytes=0-99")
    assert signed_out.status_code == 302
