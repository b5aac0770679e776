"""R12 evidence: real photos and scans are stored with their digest; anything else is refused whole,
with nothing stored and the case unchanged."""

from __future__ import annotations

import hashlib
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from haoping.accounts.access import Actor, actor_for_client
from haoping.accounts.models import ApiClient
from haoping.errors import Invalid
from haoping.rectification.models import BadReviewCase, Evidence
from haoping.rectification.services import case_act
from haoping.rectification.tests.conftest import Clock
from haoping.rectification.tests.support import bad_case, to_handling


def png_1x1() -> bytes:
    """A complete, valid 1×1 grey PNG, built by hand."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1×1, 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b"")
    )


PNG = png_1x1()
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def handling(world: dict[str, Any], record_payload: Any, clock: Clock) -> BadReviewCase:
    case = bad_case(world, record_payload)
    to_handling(world["api"], case.pk)
    return case


@pytest.fixture
def actor(world: dict[str, Any]) -> Actor:
    return actor_for_client(ApiClient.objects.get(region=world["district"], name="玄武区审批系统"))


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_a_photo_and_a_scan_are_stored_with_their_digest(
    handling: BadReviewCase, actor: Actor, media: Path, clock: Clock, django_capture_on_commit_callbacks: Any
) -> None:
    files = [SimpleUploadedFile("整改后.PNG", PNG, "image/png"), SimpleUploadedFile("说明.pdf", PDF, "application/pdf")]
    with django_capture_on_commit_callbacks() as written:
        case = case_act(actor=actor, case=handling, action="rectify", fields={"description": "已整改"}, files=files)
        # Nothing on disk until the step has committed.
        assert stored_files(media) == []
    assert len(written) == 2
    for write in written:
        write()
    assert case.state == "resolved"
    event = case.events.get(action="rectify")
    stored = {e.name: e for e in Evidence.objects.filter(case=case)}
    assert set(stored) == {"整改后.PNG", "说明.pdf"}
    for name, content, kind, ext in (
        ("整改后.PNG", PNG, "image/png", ".png"),
        ("说明.pdf", PDF, "application/pdf", ".pdf"),
    ):
        evidence = stored[name]
        assert evidence.sha256 == hashlib.sha256(content).hexdigest()
        assert (evidence.size, evidence.content_type, evidence.extension) == (len(content), kind, ext)
        assert evidence.event == event and evidence.uploaded_at == clock.now
        # Stored under our own name, not the uploaded one, and byte for byte.
        path = Path(evidence.file.path)
        assert path.is_relative_to(media) and path.name == evidence.sha256[:16] + ext
        assert path.read_bytes() == content
    assert len(stored_files(media)) == 2


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("photo.gif", b"GIF89a" + b"\x00" * 20, "file_type"),
        ("report.exe", b"MZ" + b"\x00" * 20, "file_type"),
        ("noextension", PNG, "file_type"),
        ("fake.png", PDF, "file_type"),  # a PDF pretending to be a PNG
        ("fake.pdf", b"<html>not a pdf</html>", "file_type"),
        ("empty.png", b"", "file_empty"),
        ("huge.png", PNG + b"\x00" * (5 * 1024 * 1024), "file_too_large"),
    ],
)
def test_a_bad_file_is_refused_and_nothing_is_stored(
    handling: BadReviewCase, actor: Actor, media: Path, name: str, content: bytes, code: str
) -> None:
    good = SimpleUploadedFile("ok.png", PNG, "image/png")
    bad = SimpleUploadedFile(name, content, "application/octet-stream")
    with pytest.raises(Invalid) as refused:
        case_act(actor=actor, case=handling, action="rectify", fields={"description": "已整改"}, files=[good, bad])
    assert refused.value.code == code and refused.value.status == 422
    assert refused.value.extra["field"] == "evidence"
    case = BadReviewCase.objects.get(pk=handling.pk)
    assert (case.state, case.rectified_at) == ("handling", None)
    assert not case.events.filter(action="rectify").exists()
    assert not Evidence.objects.exists()
    assert stored_files(media) == []


def test_a_file_of_exactly_5_mb_is_accepted(handling: BadReviewCase, actor: Actor, media: Path) -> None:
    content = PNG + b"\x00" * (5 * 1024 * 1024 - len(PNG))
    upload = SimpleUploadedFile("big.png", content, "image/png")
    case_act(actor=actor, case=handling, action="rectify", fields={"description": "已整改"}, files=[upload])
    assert Evidence.objects.get().size == 5 * 1024 * 1024


def test_at_most_five_files_and_only_with_contact_rectification_or_explanation(
    handling: BadReviewCase, actor: Actor, media: Path
) -> None:
    six = [SimpleUploadedFile(f"{n}.png", PNG, "image/png") for n in range(6)]
    with pytest.raises(Invalid) as too_many:
        case_act(actor=actor, case=handling, action="rectify", fields={"description": "已整改"}, files=six)
    assert too_many.value.code == "too_many"
    with pytest.raises(Invalid):
        case_act(
            actor=actor,
            case=handling,
            action="request_extension",
            fields={"days": 2, "reason": "需协调"},
            files=[SimpleUploadedFile("a.png", PNG, "image/png")],
        )
    assert BadReviewCase.objects.get(pk=handling.pk).state == "handling"
    assert not Evidence.objects.exists() and stored_files(media) == []
