from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.db.models import Model
from django.db.models.sql.compiler import SQLInsertCompiler
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from haoping.audit.models import AuditEntry
from haoping.indicators.models import RollupMark
from haoping.lib.inserts import insert
from haoping.rectification.models import BadReviewCase, CaseEvent, Message

pytestmark = pytest.mark.django_db


def stored(obj: Model) -> dict[str, Any]:
    """The row as the database holds it, without its primary key."""
    row = type(obj).objects.filter(pk=obj.pk).values().get()
    row.pop(type(obj)._meta.pk.attname)
    return row


def test_insert_stores_what_save_stores() -> None:
    moment = timezone.now() - dt.timedelta(hours=3)
    fields = {"kind": Message.Kind.DISPATCH, "text": "新差评（工单 7）待处理", "created_at": moment, "sent_at": moment}
    saved = Message(**fields)
    saved.save(force_insert=True)
    inserted = insert(Message(**fields))
    assert inserted.pk is not None and inserted.pk != saved.pk
    assert not inserted._state.adding and inserted._state.db == "default"
    assert stored(inserted) == stored(saved)
    assert stored(inserted)["link"] == "" and stored(inserted)["case_id"] is None  # the model's defaults


def test_insert_runs_the_fields_pre_save() -> None:
    before = timezone.now()
    entry = insert(AuditEntry(actor_label="系统", action=AuditEntry.Action.IMPORT_DIRECTORY, target="目录"))
    assert entry.at is not None and before <= entry.at <= timezone.now()  # auto_now_add
    assert AuditEntry.objects.get(pk=entry.pk).at == entry.at


def test_insert_does_not_have_the_orm_write_sql(monkeypatch: pytest.MonkeyPatch) -> None:
    insert(Message(kind=Message.Kind.ANSWER, text="第一条", created_at=timezone.now()))

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the ORM wrote an INSERT")

    monkeypatch.setattr(SQLInsertCompiler, "as_sql", refuse)
    with CaptureQueriesContext(connection) as queries:
        for n in range(3):
            insert(Message(kind=Message.Kind.ANSWER, text=f"第{n}条", created_at=timezone.now()))
    assert len(queries.captured_queries) == 3
    assert all(q["sql"].startswith('INSERT INTO "rectification_message"') for q in queries.captured_queries)
    assert Message.objects.filter(text__startswith="第").count() == 4
    with pytest.raises(AssertionError, match="the ORM wrote"):
        Message.objects.create(kind=Message.Kind.ANSWER, text="经由 ORM", created_at=timezone.now())


def test_a_case_event_with_details_is_stored_as_save_stores_it(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    api.post("/records", record_payload(record_no="INS1"))
    res = api.post("/evaluations", {"record_no": "INS1", "level": 1, "channel": "pad", "reasons": ["attitude"]})
    assert res.status_code == 201, res.json()
    case = BadReviewCase.objects.get(record__record_no="INS1")
    fields = {
        "case": case,
        "at": timezone.now(),
        "action": "note",
        "actor_label": "系统",
        "data": {"records": 2, "理由": ["态度", None], "ok": True},
    }
    saved = CaseEvent(**fields)
    saved.save(force_insert=True)
    inserted = insert(CaseEvent(**fields))
    assert stored(inserted) == stored(saved)
    assert CaseEvent.objects.get(pk=inserted.pk).data == fields["data"]


def test_an_unsaved_related_object_is_refused_as_save_refuses_it() -> None:
    with pytest.raises(ValueError, match="unsaved related object"):
        insert(Message(kind=Message.Kind.ANSWER, text="无", created_at=timezone.now(), case=BadReviewCase()))
    assert not Message.objects.exists()


def test_a_model_without_an_automatic_key_is_saved_by_the_orm() -> None:
    mark = insert(RollupMark(name="测试", last_id=42))
    assert mark.pk == "测试" and RollupMark.objects.get(pk="测试").last_id == 42
