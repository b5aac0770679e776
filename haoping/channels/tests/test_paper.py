"""Paper forms: keyed in at the console with a photo, counted on channel paper; within the grace a
form replaces the default rating (a new evaluation superseding it, with an audit row), listed for
spot checks, and the indicators count the form instead of the default."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from haoping.accounts.access import Actor
from haoping.accounts.models import Membership
from haoping.audit.models import AuditEntry
from haoping.channels.models import ChannelPolicy, PaperForm
from haoping.channels.paper import PaperRow, paper_form_record
from haoping.directory.models import Department
from haoping.errors import DomainError
from haoping.evaluations.chain import chain_audit, chain_seal
from haoping.evaluations.models import Evaluation
from haoping.evaluations.services import defaults_record
from haoping.indicators.counting import annex_a_counts
from haoping.indicators.models import DailyCount
from haoping.indicators.services import rollups_rebuild, rollups_update
from haoping.rectification.models import BadReviewCase
from haoping.rectification.tests.support import console_actor
from haoping.rectification.tests.test_evidence import png_1x1


def photo(name: str = "form.png", content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content if content is not None else png_1x1(), content_type="image/png")


@pytest.fixture
def manager(world: dict[str, Any]) -> Actor:
    return console_actor("paper-manager", "manager", region=world["district"])


@pytest.fixture
def served_days_ago(register: Any) -> Any:
    def make(days: float, **overrides: Any) -> Any:
        return register(timezone.now() - dt.timedelta(days=days), **overrides)

    return make


def row(slot: Any, form_date: dt.date, level: int = 4, **extra: Any) -> PaperRow:
    fields: dict[str, Any] = {"reasons": [], "comment": "", "photo": photo()}
    fields.update(extra)
    return PaperRow(record_no=slot.record.record_no, form_date=form_date, level=level, **fields)


def local_date(days_ago: float) -> dt.date:
    return timezone.localdate(timezone.now() - dt.timedelta(days=days_ago))


def test_form_in_the_window_counts_on_channel_paper(manager: Actor, served_days_ago: Any) -> None:
    slot = served_days_ago(2)
    form = paper_form_record(actor=manager, row=row(slot, local_date(1), comment="服务很好"))
    ev = Evaluation.objects.get(slot=slot)
    assert (ev.channel, ev.level, ev.source, ev.comment, ev.supersedes_id) == ("paper", 4, "active", "服务很好", None)
    assert timezone.localdate(ev.rated_at) == local_date(1)
    assert form.replaced is None and form.photo_type == "image/png" and not AuditEntry.objects.exists()


def test_form_replaces_the_default_within_the_grace(manager: Actor, served_days_ago: Any) -> None:
    slot = served_days_ago(9)  # the 7-day window closed two days ago
    assert defaults_record() == 1
    default = Evaluation.objects.get(slot=slot)
    chain_seal()
    form = paper_form_record(actor=manager, row=row(slot, local_date(6), level=2, reasons=["efficiency"]))
    replacement = form.evaluation
    assert replacement.supersedes == default and form.replaced == default
    assert (replacement.channel, replacement.level, replacement.source) == ("paper", 2, "active")
    # Append-only: the default is still there, and both are sealed into the chain unaltered.
    assert Evaluation.objects.filter(slot=slot).count() == 2
    chain_seal()
    assert chain_audit().problems == []
    # A bad paper rating opens its case, through the same rating service.
    assert BadReviewCase.objects.filter(receipt=replacement.receipt).exists()
    entry = AuditEntry.objects.get(action=AuditEntry.Action.REPLACE_DEFAULT)
    assert entry.actor_label == "paper-manager" and slot.record.record_no in entry.target
    assert f"#{default.pk}" in entry.reason
    # Counted: the form, not the default.
    counts = annex_a_counts(Evaluation.objects.filter(region=slot.region))
    assert (counts["total"], counts["active"], counts["defaults"], counts["bad"]) == (1, 1, 0, 1)


def test_replacement_moves_the_rollups_as_a_rebuild_would(manager: Actor, served_days_ago: Any) -> None:
    slot = served_days_ago(9)
    served_days_ago(9)  # another default, left alone
    defaults_record()
    rollups_update()

    def totals() -> dict[str, int]:
        rows = DailyCount.objects.filter(kind="institution", channel="*")  # all channels
        return rows.aggregate(
            total=Sum("total"), defaults=Sum("defaults"), active=Sum("active"), good=Sum("active_good")
        )

    assert totals() == {"total": 2, "defaults": 2, "active": 0, "good": 0}
    paper_form_record(actor=manager, row=row(slot, local_date(5), level=5))
    rollups_update()
    updated = totals()
    assert updated == {"total": 2, "defaults": 1, "active": 1, "good": 1}
    rollups_rebuild()
    assert totals() == updated


def test_second_form_or_an_active_rating_is_not_replaced(manager: Actor, served_days_ago: Any) -> None:
    slot = served_days_ago(9)
    defaults_record()
    paper_form_record(actor=manager, row=row(slot, local_date(5), level=5))
    with pytest.raises(DomainError) as exc:
        paper_form_record(actor=manager, row=row(slot, local_date(5), level=1, photo=photo(content=png_1x1() + b"x")))
    assert exc.value.code == "already_rated" and exc.value.status == 409
    rated = served_days_ago(3)
    paper_form_record(actor=manager, row=row(rated, local_date(2), level=4))
    with pytest.raises(DomainError) as exc:
        paper_form_record(actor=manager, row=row(rated, local_date(2), level=3, photo=photo(content=png_1x1() + b"y")))
    assert exc.value.code == "already_rated"


def test_grace_is_a_policy_and_bounds_the_replacement(
    world: dict[str, Any], manager: Actor, served_days_ago: Any
) -> None:
    slot = served_days_ago(12)  # closed five days ago
    defaults_record()
    ChannelPolicy.objects.create(region=world["district"], paper_grace_days=3)
    with pytest.raises(DomainError) as exc:
        paper_form_record(actor=manager, row=row(slot, local_date(10)))
    assert exc.value.code == "grace_over" and exc.value.status == 410
    ChannelPolicy.objects.filter(region=world["district"]).update(paper_grace_days=6)
    assert paper_form_record(actor=manager, row=row(slot, local_date(10))).replaced is not None


def test_form_dated_after_the_window_rates_nothing(manager: Actor, served_days_ago: Any) -> None:
    slot = served_days_ago(9)
    defaults_record()
    with pytest.raises(DomainError) as exc:
        paper_form_record(actor=manager, row=row(slot, local_date(0)))
    assert exc.value.code == "window_closed"
    assert Evaluation.objects.filter(slot=slot).count() == 1


def test_same_form_keyed_twice_is_stored_once(manager: Actor, served_days_ago: Any) -> None:
    slot = served_days_ago(9)
    defaults_record()
    first = paper_form_record(actor=manager, row=row(slot, local_date(5)))
    again = paper_form_record(actor=manager, row=row(slot, local_date(5)))
    assert first.pk == again.pk and PaperForm.objects.count() == 1
    assert AuditEntry.objects.count() == 1 and Evaluation.objects.filter(slot=slot).count() == 2


def test_photo_is_required_and_checked(manager: Actor, served_days_ago: Any) -> None:
    slot = served_days_ago(2)
    for bad, code in ((None, "photo_required"), (photo("form.gif"), "file_type"), (photo("form.jpg"), "file_type")):
        with pytest.raises(DomainError) as exc:
            paper_form_record(actor=manager, row=row(slot, local_date(1), photo=bad))
        assert exc.value.code == code
    assert not Evaluation.objects.exists()


def test_only_records_in_scope(world: dict[str, Any], served_days_ago: Any, record_payload: Any) -> None:
    slot = served_days_ago(2)
    other = console_actor("other-manager", "manager", region=world["other"])
    staff = console_actor("window-staff", "staff", staff=world["staff"])
    handler = console_actor("mkt-handler", "handler", department=Department.objects.get(code="D-MKT"))
    for actor in (other, staff):
        with pytest.raises(DomainError) as exc:
            paper_form_record(actor=actor, row=row(slot, local_date(1)))
        assert exc.value.status == 404
    assert paper_form_record(actor=handler, row=row(slot, local_date(1))).evaluation.channel == "paper"


def signed_in(username: str, role: str, **scope: Any) -> Client:
    user = get_user_model().objects.create_user(username=username, password="pw")
    Membership.objects.create(user=user, role=role, **scope)
    client = Client()
    client.force_login(user)
    return client


def test_console_page_keys_a_batch_and_lists_replacements(
    world: dict[str, Any], served_days_ago: Any, settings: Any, tmp_path: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    fresh, closed = served_days_ago(2), served_days_ago(9)
    defaults_record()
    client = signed_in("hall-manager", "manager", region=world["district"])
    page = client.get("/console/paper/")
    assert page.status_code == 200 and 'href="/console/paper/"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        res = client.post(
            "/console/paper/",
            {
                "record_no_0": fresh.record.record_no,
                "form_date_0": local_date(1).isoformat(),
                "level_0": "5",
                "photo_0": photo(),
                "record_no_1": closed.record.record_no,
                "form_date_1": local_date(5).isoformat(),
                "level_1": "1",
                "comment_1": "材料清单与实际不符",
                "photo_1": photo(content=png_1x1() + b"2"),
                "record_no_2": "NO-SUCH-RECORD",
                "form_date_2": local_date(1).isoformat(),
                "level_2": "3",
                "photo_2": photo(content=png_1x1() + b"3"),
            },
        )
    html = res.content.decode()
    assert res.status_code == 400  # one row failed, named on its row; the others are stored
    assert 'value="NO-SUCH-RECORD"' in html and "办件 NO-SUCH-RECORD 不存在" in html
    assert Evaluation.objects.filter(channel="paper").count() == 2
    listed = client.get("/console/paper/").content.decode()
    section = listed.split('id="replacements"')[1]
    assert closed.record.record_no in section and fresh.record.record_no not in section
    form = PaperForm.objects.get(record_no=closed.record.record_no)
    shown = client.get(f"/console/paper/{form.pk}/photo/")
    assert shown.status_code == 200 and b"".join(shown.streaming_content) == png_1x1() + b"2"


def test_console_page_scope(world: dict[str, Any], served_days_ago: Any) -> None:
    served_days_ago(2)
    staff = signed_in("staff-member", "staff", staff=world["staff"])
    assert staff.get("/console/paper/").status_code == 404
    assert Client().get("/console/paper/").status_code == 302
    form_owner = signed_in("mgr", "manager", region=world["district"])
    slot = served_days_ago(2)
    form_owner.post(
        "/console/paper/",
        {
            "record_no_0": slot.record.record_no,
            "form_date_0": local_date(1).isoformat(),
            "level_0": "4",
            "photo_0": photo(),
        },
    )
    form = PaperForm.objects.get()
    outsider = signed_in("outsider", "manager", region=world["other"])
    assert outsider.get(f"/console/paper/{form.pk}/photo/").status_code == 404
