"""Messages to evaluators and console users through a pluggable gateway.

Texts to evaluators are SMS: fixed templates with their values (`message_to_evaluator`,
haoping.rectification.sms), never a handler's free text. Every message is first written to the
outbox (`Message`); the backend named by the setting `HAOPING_MESSAGE_BACKEND` then delivers it,
once the step that sends it has committed. The default backend delivers nothing: the outbox row
is the message, and the log notes it without any personal data.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from haoping.rectification.models import BadReviewCase, Message
from haoping.rectification.sms import SmsTemplate, sms_signature

logger = logging.getLogger("haoping.messages")


class DatabaseBackend:
    """Keeps messages in the outbox for the console's inbox and for an SMS gateway to pick up."""

    # The outbox row is the delivery: writing it sends the message, with no other I/O.
    delivers_by_storing = True

    def send(self, message: Message) -> None:
        # Storing the row is the delivery, so this is only a debugging aid. Never the phone number
        # or the text: they may identify the evaluator.
        logger.debug("message %s (%s) for case %s", message.pk, message.kind, message.case_id)


def _backend() -> DatabaseBackend:
    path = getattr(settings, "HAOPING_MESSAGE_BACKEND", "haoping.rectification.messaging.DatabaseBackend")
    backend: DatabaseBackend = import_string(path)()
    return backend


def message_send(*, at: dt.datetime | None = None, **fields: object) -> Message:
    """Write one message to the outbox and hand it to the gateway.

    `at` is the moment of the step that sends it (a replayed step's, in the demo); by default now.
    The outbox's own gateway sends by the row alone: one INSERT, already marked sent. Any other
    gateway gets the message once the step that sends it has committed, so that it never sends
    for a step rolled back nor holds the step's transaction open; if it fails, the step stands and
    the message stays in the outbox, not marked sent.
    """
    backend = _backend()
    moment = at or timezone.now()
    if getattr(backend, "delivers_by_storing", False):
        message = Message.objects.create(created_at=moment, sent_at=moment, backend=type(backend).__name__, **fields)
        backend.send(message)
        return message
    message = Message.objects.create(created_at=moment, **fields)
    transaction.on_commit(lambda: _deliver(backend, message, at))
    return message


def message_to_evaluator(
    *,
    at: dt.datetime | None = None,
    kind: str,
    case: BadReviewCase,
    template: SmsTemplate,
    link: str = "",
    **values: str,
) -> Message:
    """An SMS to the case's evaluator: a fixed template with its values, never free text."""
    text = template.render(signature=sms_signature(case.region), link=link, **values)
    return message_send(
        at=at,
        kind=kind,
        case=case,
        region=case.region,
        to_evaluator_id=case.evaluator_id,
        text=text,
        link=link,
        template=template.code,
        params=values,
    )


def _deliver(backend: DatabaseBackend, message: Message, at: dt.datetime | None) -> None:
    try:
        backend.send(message)
    except Exception as exc:
        # Only the error's type: a gateway's error may quote the number or the text.
        logger.error("message %s not sent (%s); it stays in the outbox", message.pk, type(exc).__name__)
        return
    message.sent_at = at or timezone.now()
    message.backend = type(backend).__name__
    message.save(update_fields=["sent_at", "backend"])
