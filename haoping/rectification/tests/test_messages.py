"""R12 answers and R10 privacy: the evaluator gets the answer with a signed revisit link, and nothing
that identifies them reaches the log or the API."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from haoping.errors import Conflict, Forbidden, NotFound
from haoping.rectification.links import public_id_from_revisit_token, revisit_token, revisit_url
from haoping.rectification.models import BadReviewCase, Message
from haoping.rectification.services import case_revisit_by_evaluator
from haoping.rectification.tests.conftest import Clock
from haoping.rectification.tests.support import act_ok, bad_case, detail, person, to_handling

PHONE = "13812345678"
ID_NUMBER = "320102199001011234"


@pytest.fixture
def case(world: dict[str, Any], record_payload: Any, clock: Clock) -> BadReviewCase:
    return bad_case(world, record_payload, applicant=person(1, phone=PHONE, id_number=ID_NUMBER))


def test_the_answer_goes_to_the_evaluator_with_a_revisit_link(
    world: dict[str, Any], case: BadReviewCase, settings: Any
) -> None:
    settings.SITE_URL = "https://haoping.example.gov.cn"
    api = world["api"]
    to_handling(api, case.pk)
    act_ok(api, case.pk, "rectify", description="已约谈窗口人员")
    assert not Message.objects.filter(kind=Message.Kind.ANSWER).exists()
    act_ok(api, case.pk, "reply", answer="您反映的问题已整改，感谢监督。")
    answer = Message.objects.get(kind=Message.Kind.ANSWER)
    assert (answer.case, answer.to_evaluator, answer.to_unit, answer.to_user) == (case, case.evaluator, None, None)
    # An SMS: the signature, the item and the link; the answer itself waits behind the link.
    assert answer.text.startswith("【政务服务好差评】") and "企业开办" in answer.text
    assert "您反映的问题已整改" not in answer.text and answer.text.endswith(answer.link)
    assert (answer.template, answer.params) == ("answer_ready", {"item": case.item.name})
    assert answer.link == revisit_url(case.public_id)
    assert answer.link.startswith("https://haoping.example.gov.cn/v/")
    assert answer.sent_at is not None and answer.backend == "DatabaseBackend"
    token = answer.link.rstrip("/").rsplit("/", 1)[-1]
    assert public_id_from_revisit_token(token) == case.public_id


def test_the_revisit_link_is_bound_to_its_case(world: dict[str, Any], record_payload: Any, case: BadReviewCase) -> None:
    token = revisit_token(case.public_id)
    public_id, _dot, signature = token.partition(".")
    assert public_id == case.public_id
    with pytest.raises(Forbidden):
        public_id_from_revisit_token(f"{public_id}.{'A' * len(signature)}")
    with pytest.raises(NotFound):
        public_id_from_revisit_token("no-dot")
    # Another case's signature does not open this case.
    other = bad_case(world, record_payload, applicant=person(2))
    with pytest.raises(Forbidden):
        public_id_from_revisit_token(f"{case.public_id}.{revisit_token(other.public_id).partition('.')[2]}")


def test_the_evaluator_answers_through_the_link(world: dict[str, Any], case: BadReviewCase) -> None:
    api = world["api"]
    # Not before there is an answer to judge.
    with pytest.raises(Conflict):
        case_revisit_by_evaluator(public_id=case.public_id, satisfied=True)
    to_handling(api, case.pk)
    act_ok(api, case.pk, "rectify", description="已整改")
    act_ok(api, case.pk, "reply", answer="已整改")
    closed = case_revisit_by_evaluator(public_id=case.public_id, satisfied=True, note="满意")
    assert (closed.state, closed.satisfied) == ("closed", True)
    last = detail(api, case.pk)["history"][-1]
    assert (last["action"], last["from_state"], last["to_state"], last["note"]) == (
        "revisit",
        "replied",
        "closed",
        "满意",
    )
    with pytest.raises(Conflict):
        case_revisit_by_evaluator(public_id=case.public_id, satisfied=False)
    with pytest.raises(NotFound):
        case_revisit_by_evaluator(public_id="nonexistent", satisfied=True)


def test_the_message_log_and_the_api_never_show_the_evaluators_number(
    world: dict[str, Any], case: BadReviewCase, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    api = world["api"]
    to_handling(api, case.pk)
    act_ok(api, case.pk, "rectify", description="已整改")
    act_ok(api, case.pk, "reply", answer="已整改，请评价")
    lines = [r.getMessage() for r in caplog.records if r.name == "haoping.messages"]
    # Every message of this case was logged (dispatch came before the capture began)…
    assert len(lines) == Message.objects.filter(case=case).count() - 1 >= 1
    assert any(f"for case {case.pk}" in line and "answer" in line for line in lines)
    # …and no log line, of any logger, holds the number, the ID number or the answer text.
    for secret in (PHONE, ID_NUMBER, "已整改，请评价"):
        assert secret not in caplog.text
    # The case API shows the evaluator to nobody.
    body = api.get(f"/cases/{case.pk}").content.decode()
    assert PHONE not in body and ID_NUMBER not in body


def test_a_step_replayed_at_an_earlier_moment_sends_its_messages_at_that_moment(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    from haoping.accounts.access import actor_for_client
    from haoping.rectification.services import case_act, cases_sweep
    from haoping.rectification.tests.support import at

    case = bad_case(world, record_payload)
    actor = actor_for_client(world["city"].api_clients.get())
    moment = at(2026, 9, 29, 11)
    case_act(actor=actor, case=case, action="dispatch", fields={"unit": "D-OTHER"}, now=moment)
    sent = Message.objects.filter(case=case, kind="dispatch").order_by("-id").first()
    assert sent is not None and sent.created_at == sent.sent_at == moment
    late = at(2026, 10, 20, 9)
    cases_sweep(now=late)
    assert set(Message.objects.filter(case=case, kind="overdue").values_list("created_at", flat=True)) == {late}


class Gateway:
    """A gateway that delivers elsewhere: the message is written first and marked sent after."""

    sent: list[tuple[int, bool]] = []

    def send(self, message: Message) -> None:
        Gateway.sent.append((message.pk, message.sent_at is None))


def test_the_outbox_is_written_once_and_another_gateway_marks_what_it_sent(
    world: dict[str, Any], record_payload: Any, settings: Any, clock: Clock, django_capture_on_commit_callbacks: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from haoping.rectification.messaging import message_send

    case = bad_case(world, record_payload)
    with CaptureQueriesContext(connection) as captured:
        stored = message_send(kind=Message.Kind.DISPATCH, case=case, to_unit_id=case.unit_id, text="一")
    assert [q["sql"].split()[0] for q in captured.captured_queries] == ["INSERT"]
    stored.refresh_from_db()
    assert stored.sent_at == stored.created_at and stored.backend == "DatabaseBackend"

    settings.HAOPING_MESSAGE_BACKEND = f"{__name__}.Gateway"
    Gateway.sent.clear()
    with django_capture_on_commit_callbacks(execute=True) as delivered:
        elsewhere = message_send(kind=Message.Kind.DISPATCH, case=case, to_unit_id=case.unit_id, text="二")
        assert Gateway.sent == []  # not before the step commits
    assert len(delivered) == 1
    elsewhere.refresh_from_db()
    assert Gateway.sent == [(elsewhere.pk, True)]
    assert elsewhere.sent_at is not None and elsewhere.backend == "Gateway"


class FailingGateway:
    def send(self, message: Message) -> None:
        raise ConnectionError("gateway down")


def test_another_gateway_sends_nothing_for_a_step_rolled_back_and_a_failure_undoes_no_step(
    world: dict[str, Any], record_payload: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.db import transaction

    from haoping.rectification.messaging import message_send

    case = bad_case(world, record_payload)
    settings.HAOPING_MESSAGE_BACKEND = f"{__name__}.Gateway"
    Gateway.sent.clear()
    with django_capture_on_commit_callbacks(execute=True) as delivered, pytest.raises(RuntimeError):
        with transaction.atomic():
            message_send(kind=Message.Kind.DISPATCH, case=case, to_unit_id=case.unit_id, text="撤回")
            raise RuntimeError("the step failed")
    assert delivered == [] and Gateway.sent == []
    assert not Message.objects.filter(text="撤回").exists()

    settings.HAOPING_MESSAGE_BACKEND = f"{__name__}.FailingGateway"
    with django_capture_on_commit_callbacks(execute=True):
        kept = message_send(kind=Message.Kind.DISPATCH, case=case, to_unit_id=case.unit_id, text="未发")
    kept.refresh_from_db()
    assert kept.sent_at is None and kept.backend == ""  # in the outbox, not marked sent
