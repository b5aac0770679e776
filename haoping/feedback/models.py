"""综合点评 (R18, GB/T 39735 5.3): comments, suggestions and complaints from anyone, through the web
form, an e-mail inbox, the 12345 hotline and the suggestion box, in one inbox routed to the
responsible unit, each with its own workflow (accept, answer, close) and stored deadlines."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from haoping.directory.models import Department, Region
from haoping.fields import EncryptedTextField


class SocialComment(models.Model):
    class Channel(models.TextChoices):
        WEB = "web", _("web form")
        EMAIL = "email", _("e-mail")
        HOTLINE = "hotline", _("12345 hotline")
        BOX = "box", _("suggestion box")

    class Kind(models.TextChoices):
        COMMENT = "comment", pgettext_lazy("kind of social comment", "comment")
        SUGGESTION = "suggestion", _("suggestion")
        COMPLAINT = "complaint", _("complaint")

    class Target(models.TextChoices):
        REGION = "region", _("the region in general")
        INSTITUTION = "institution", _("hall or centre")
        DEPARTMENT = "department", _("department")
        PLATFORM = "platform", _("platform")
        ITEM = "item", _("service item")

    class State(models.TextChoices):
        RECEIVED = "received", _("received")
        ACCEPTED = "accepted", _("accepted")
        ANSWERED = "answered", _("answered")
        CLOSED = "closed", _("closed")

    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    # 谁办理谁负责: the department of the object; empty for a hall, a platform or the region, whose
    # managers answer it themselves.
    unit = models.ForeignKey(
        Department, verbose_name=_("unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    target = models.CharField(_("about"), max_length=12, choices=Target.choices)
    object_id = models.BigIntegerField(_("object"), null=True, blank=True)
    object_label = models.CharField(_("about what"), max_length=200)
    # Stored with phone and ID numbers masked; the original, when it held any, encrypted beside it.
    text = models.TextField(_("text"))
    text_sealed = EncryptedTextField(_("text as written (encrypted)"), blank=True, editable=False)
    # An e-mail address or a phone number, if the sender left one (R10: encrypted, shown masked).
    contact = EncryptedTextField(_("contact"), blank=True)
    # The channel's own id (a Message-ID, a hotline ticket): the same one is received once.
    source_ref = models.CharField(_("source reference"), max_length=200, blank=True)
    entered_by_label = models.CharField(_("entered by"), max_length=150, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.RECEIVED)
    received_at = models.DateTimeField(_("received at"))
    # Deadlines from the region's policy, stored when received, never recomputed silently.
    accept_due = models.DateTimeField(_("accept by"))
    answer_due = models.DateTimeField(_("answer by"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    answer = models.TextField(_("answer"), blank=True)
    answer_sealed = EncryptedTextField(_("answer as written (encrypted)"), blank=True, editable=False)
    answer_sent_at = models.DateTimeField(_("answer sent at"), null=True, blank=True)
    # The answer's page for a sender answered by SMS (`/c/<public_id>.<signature>/`).
    public_id = models.CharField(_("public id"), max_length=32, blank=True, editable=False)

    class Meta:
        verbose_name = _("social comment")
        verbose_name_plural = _("social comments")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "source_ref"], condition=~Q(source_ref=""), name="one_comment_per_source_ref"
            )
        ]
        indexes = [
            models.Index(fields=["region", "state"]),
            models.Index(fields=["unit", "state"]),
            models.Index(fields=["received_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.channel}"


class SocialCommentEvent(models.Model):
    """One step of a comment: who, when, from which state to which."""

    ACTIONS = {
        "receive": _("received"),
        "accept": _("accepted"),
        "answer": _("answered"),
        "close": _("closed"),
        "reroute": _("sent to another unit"),
    }

    comment = models.ForeignKey(SocialComment, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("at"))
    action = models.CharField(_("action"), max_length=12)
    from_state = models.CharField(_("from"), max_length=10, blank=True)
    to_state = models.CharField(_("to"), max_length=10)
    actor_label = models.CharField(_("by"), max_length=150)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("social comment step")
        verbose_name_plural = _("social comment steps")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.comment_id} {self.action}"

    def action_label(self) -> str:
        return str(self.ACTIONS.get(self.action, self.action))
