"""Bad-review handling (差评核实整改): cases, their history, evidence, appeals, the registry of
malicious evaluators, spot checks and the messages sent to evaluators and staff."""

from __future__ import annotations

from typing import TypeAlias

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from haoping.accounts.models import ApiClient
from haoping.directory.models import Department, Institution, Region, ServiceItem, Staff, Window
from haoping.evaluations.models import Evaluation
from haoping.fields import EncryptedTextField
from haoping.records.models import Applicant, ServiceRecord
from haoping.rectification.workflow import (
    ACTION_CHOICES,
    ACTION_MAX_LENGTH,
    CaseCategory,
    CaseState,
    DayUnit,
    action_label,
)


class BadReviewCase(models.Model):
    """差评工单: one per bad submission (a batch or theme rating is one complaint, one case)."""

    # The states and categories belong to the workflow table (haoping.rectification.workflow).
    State: TypeAlias = CaseState
    Category: TypeAlias = CaseCategory

    class Invalidity(models.TextChoices):
        MISTAKEN = "mistaken", _("mistaken rating")
        MALICIOUS = "malicious", _("malicious rating")
        APPEAL = "appeal", _("appeal upheld")

    DayUnit: TypeAlias = DayUnit

    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT)
    evaluation = models.OneToOneField(
        Evaluation, verbose_name=_("evaluation"), on_delete=models.PROTECT, related_name="case"
    )
    # Every evaluation with this receipt (a batch or theme) is answered by this case.
    receipt = models.CharField(_("receipt"), max_length=20)
    record = models.ForeignKey(ServiceRecord, verbose_name=_("service record"), on_delete=models.PROTECT)
    item = models.ForeignKey(ServiceItem, verbose_name=_("service item"), on_delete=models.PROTECT)
    # 谁办理谁负责: the unit working the case; a manager may dispatch it elsewhere.
    unit = models.ForeignKey(Department, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="cases")
    institution = models.ForeignKey(
        Institution, verbose_name=_("institution"), null=True, blank=True, on_delete=models.PROTECT
    )
    window = models.ForeignKey(Window, verbose_name=_("window"), null=True, blank=True, on_delete=models.PROTECT)
    staff = models.ForeignKey(Staff, verbose_name=_("staff member"), null=True, blank=True, on_delete=models.PROTECT)
    level = models.PositiveSmallIntegerField(_("level"))
    # Who rated (the applicant or the agent); only ever shown masked, or revealed with an audit entry.
    evaluator = models.ForeignKey(
        Applicant, verbose_name=_("evaluator"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    state = models.CharField(_("state"), max_length=24, choices=State.choices, default=State.OPEN)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices, blank=True)
    # Which deadline rules applied (a preset name), kept so that the case explains its own dates.
    deadline_rules = models.CharField(_("deadline rules"), max_length=20)

    opened_at = models.DateTimeField(_("opened at"))
    dispatched_at = models.DateTimeField(_("reached the unit at"))
    # Deadlines are stored when their step starts, never recomputed silently.
    contact_due = models.DateTimeField(_("contact due"))
    # Empty until the evaluator is contacted, and where the rules give classification no deadline of
    # its own (the contact deadline then covers it: haoping.rectification.deadlines.Rules.classify).
    classify_due = models.DateTimeField(_("classification due"), null=True, blank=True)
    resolve_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    # The running step: when it started and when it is due (empty when nothing is due).
    step_started_at = models.DateTimeField(_("step started at"))
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    # A deadline crossed days of the calendar that are not confirmed yet.
    provisional = models.BooleanField(_("provisional deadline"), default=False)
    # The handler is warned from this moment on (a share of the step's time, by region policy).
    warn_at = models.DateTimeField(_("warn from"), null=True, blank=True)
    warned_at = models.DateTimeField(_("warned at"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("overdue since"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    was_overdue = models.BooleanField(_("has been overdue"), default=False)
    # When the sweep told the rated staff member of this bad review (kept out of the rating's request).
    staff_told_at = models.DateTimeField(_("rated staff member told at"), null=True, blank=True)

    contacted_at = models.DateTimeField(_("contacted at"), null=True, blank=True)
    classified_at = models.DateTimeField(_("classified at"), null=True, blank=True)
    rectified_at = models.DateTimeField(_("rectified or explained at"), null=True, blank=True)
    replied_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    revisited_at = models.DateTimeField(_("revisited at"), null=True, blank=True)
    satisfied = models.BooleanField(_("evaluator satisfied"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Not adopted (GB/T 39735 Annex A: leaves the bad counts, enters 未评).
    invalid = models.BooleanField(_("rating not adopted"), default=False)
    invalid_reason = models.CharField(_("why not adopted"), max_length=12, choices=Invalidity.choices, blank=True)
    # A pending extension request: how many more days, in which unit, and why.
    extension_days = models.PositiveSmallIntegerField(_("extension requested (days)"), null=True, blank=True)
    extension_unit = models.CharField(
        _("extension requested (unit)"), max_length=8, choices=DayUnit.choices, blank=True
    )
    # Days granted by approved extensions; a reclassification keeps them.
    extended_days = models.PositiveSmallIntegerField(_("extension granted (days)"), default=0)
    # Names the evaluator's revisit link (signed, like rating links).
    public_id = models.CharField(max_length=24, unique=True, editable=False)

    class Meta:
        verbose_name = _("bad-review case")
        verbose_name_plural = _("bad-review cases")
        constraints = [models.UniqueConstraint(fields=["region", "receipt"], name="one_case_per_submission")]
        indexes = [
            models.Index(fields=["unit", "state", "due_at"]),
            models.Index(fields=["region", "state", "due_at"]),
            models.Index(fields=["state", "due_at"]),
            models.Index(fields=["warn_at"], condition=models.Q(warned_at__isnull=True), name="case_to_warn"),
            models.Index(
                fields=["opened_at"],
                condition=models.Q(staff_told_at__isnull=True, staff__isnull=False),
                name="case_staff_to_tell",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.record_id}"


class CaseEvent(models.Model):
    """One line of a case's timeline: who did what, when, from which state to which."""

    case = models.ForeignKey(BadReviewCase, verbose_name=_("case"), on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("at"))
    action = models.CharField(_("action"), max_length=ACTION_MAX_LENGTH, choices=ACTION_CHOICES)
    from_state = models.CharField(_("from"), max_length=24, blank=True)
    to_state = models.CharField(_("to"), max_length=24, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True, on_delete=models.PROTECT
    )
    api_client = models.ForeignKey(
        ApiClient, verbose_name=_("API client"), null=True, blank=True, on_delete=models.PROTECT
    )
    actor_label = models.CharField(_("by"), max_length=150)
    # Stored with phone and ID numbers masked; the original, when it held any, encrypted beside it.
    note = models.TextField(_("note"), blank=True)
    note_sealed = EncryptedTextField(_("note as written (encrypted)"), blank=True, editable=False)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action}"

    def get_action_label(self) -> str:
        return action_label(self.action)

    def to_state_label(self) -> str:
        return str(BadReviewCase.State(self.to_state).label) if self.to_state else ""


class Appeal(models.Model):
    """申诉复核 (R14): the rated staff or unit asks for review; a manager decides."""

    class State(models.TextChoices):
        PENDING = "pending", _("awaiting decision")
        UPHELD = "upheld", _("upheld")
        REJECTED = "rejected", _("rejected")

    case = models.ForeignKey(BadReviewCase, verbose_name=_("case"), on_delete=models.PROTECT, related_name="appeals")
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    # Stored with phone and ID numbers masked, like case notes; the original, when it held any,
    # encrypted beside it.
    reasons = models.TextField(_("reasons"))
    reasons_sealed = EncryptedTextField(_("reasons as written (encrypted)"), blank=True, editable=False)
    filed_by_label = models.CharField(_("filed by"), max_length=150)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("filed by"), null=True, blank=True, on_delete=models.PROTECT
    )
    # Or the API client that filed it: whoever filed never decides.
    filed_by_client = models.ForeignKey(
        "accounts.ApiClient",
        verbose_name=_("filed by API client"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    filed_at = models.DateTimeField(_("filed at"))
    decide_due = models.DateTimeField(_("decision due"))
    provisional = models.BooleanField(_("provisional deadline"), default=False)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by_label = models.CharField(_("decided by"), max_length=150, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    decision_note_sealed = EncryptedTextField(_("decision note as written (encrypted)"), blank=True, editable=False)

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        constraints = [
            # One appeal at a time per case.
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(state="pending"), name="one_pending_appeal_per_case"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} ({self.case_id})"


def evidence_path(instance: Evidence, filename: str) -> str:
    # The stored name is ours; the uploaded name is kept only as a label.
    return f"evidence/{instance.case_id}/{instance.sha256[:16]}{instance.extension}"


class Evidence(models.Model):
    """A file proving rectification or supporting an appeal. Served only through an access check."""

    case = models.ForeignKey(BadReviewCase, verbose_name=_("case"), on_delete=models.PROTECT, related_name="evidence")
    event = models.ForeignKey(CaseEvent, verbose_name=_("case event"), null=True, on_delete=models.PROTECT)
    appeal = models.ForeignKey(
        Appeal, verbose_name=_("appeal"), null=True, blank=True, on_delete=models.PROTECT, related_name="evidence"
    )
    file = models.FileField(_("file"), upload_to=evidence_path)
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=60)
    extension = models.CharField(max_length=8)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")

    def __str__(self) -> str:
        return self.name


class Consultation(models.Model):
    """会商: another unit asked to join a complex case."""

    case = models.ForeignKey(
        BadReviewCase, verbose_name=_("case"), on_delete=models.CASCADE, related_name="consultations"
    )
    unit = models.ForeignKey(Department, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(_("started at"))

    class Meta:
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")
        constraints = [models.UniqueConstraint(fields=["case", "unit"], name="one_consultation_per_unit")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.unit_id}"


class SpotCheck(models.Model):
    """R13: a manager's random sample of closed cases, each checked."""

    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT)
    drawn_by_label = models.CharField(_("drawn by"), max_length=150)
    drawn_at = models.DateTimeField(_("drawn at"))
    closed_from = models.DateField(_("closed from"))
    closed_to = models.DateField(_("closed to"))
    population = models.PositiveIntegerField(_("closed cases in the period"))

    class Meta:
        verbose_name = _("spot check")
        verbose_name_plural = _("spot checks")
        ordering = ["-drawn_at"]

    def __str__(self) -> str:
        return f"#{self.pk}"


class SpotCheckItem(models.Model):
    class Result(models.TextChoices):
        PENDING = "pending", _("not checked yet")
        PASSED = "passed", _("passed")
        FAILED = "failed", _("failed")

    spot_check = models.ForeignKey(
        SpotCheck, verbose_name=_("spot check"), on_delete=models.CASCADE, related_name="items"
    )
    case = models.ForeignKey(BadReviewCase, verbose_name=_("case"), on_delete=models.PROTECT, related_name="+")
    result = models.CharField(_("result"), max_length=8, choices=Result.choices, default=Result.PENDING)
    note = models.TextField(_("note"), blank=True)
    note_sealed = EncryptedTextField(_("note as written (encrypted)"), blank=True, editable=False)
    checked_by_label = models.CharField(_("checked by"), max_length=150, blank=True)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("spot-checked case")
        verbose_name_plural = _("spot-checked cases")
        constraints = [models.UniqueConstraint(fields=["spot_check", "case"], name="case_once_per_spot_check")]

    def __str__(self) -> str:
        return f"{self.spot_check_id} {self.case_id}"


class Message(models.Model):
    """The outbox: what was sent to an evaluator (SMS) or to a console user (inbox), by which backend."""

    class Kind(models.TextChoices):
        ANSWER = "answer", _("answer to the evaluator")
        WARNING = "warning", _("deadline warning")
        OVERDUE = "overdue", _("overdue")
        ESCALATION = "escalation", _("escalation")
        APPEAL = "appeal", _("appeal")
        DISPATCH = "dispatch", _("new case")
        INVALIDATION = "invalidation", _("invalidation")
        EXTENSION = "extension", _("extension")
        CONSULTATION = "consultation", _("consultation")
        SUPERVISION = "supervision", _("manager's instruction")
        # To the rated staff member (R10: nothing in them identifies the rater).
        REVIEW = "review", _("bad review of your service")
        CLOSED = "closed", _("case closed")
        # R22: to applicants, about a service to rate (haoping.channels).
        INVITATION = "invitation", _("invitation to rate")
        REMINDER = "reminder", _("reminder to rate")
        REPLY = "sms_reply", _("answer to an SMS reply")
        # R18: to the sender of a social comment who left a phone number (haoping.feedback).
        COMMENT_ANSWER = "comment_answer", _("answer to a social comment")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    case = models.ForeignKey(
        BadReviewCase, verbose_name=_("case"), null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    to_evaluator = models.ForeignKey(
        Applicant, verbose_name=_("evaluator"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True, on_delete=models.CASCADE
    )
    # A unit's or a region's inbox, when no single user is meant.
    to_unit = models.ForeignKey(
        Department, verbose_name=_("unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_region = models.ForeignKey(
        Region, verbose_name=_("region"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # For an SMS: the region whose signature and provider templates it goes out with (the case's,
    # an invitation's service's); none for the deployment's own.
    region = models.ForeignKey(
        Region, verbose_name=_("SMS sent for region"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A number that is no evaluator's: a social comment's sender (R10: encrypted, never shown).
    to_phone = EncryptedTextField(_("phone"), blank=True)
    text = models.TextField(_("text"))
    link = models.CharField(_("link"), max_length=300, blank=True)
    # A text to an evaluator is a fixed template (haoping.rectification.sms) with these values, for
    # gateways that send by template; `text` is the same, rendered with its signature.
    template = models.CharField(_("SMS template"), max_length=40, blank=True)
    params = models.JSONField(_("template values"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    backend = models.CharField(_("sent through"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class MessageRead(models.Model):
    """That a console user has read a message. A unit's or a region's message is read by each of
    its people on their own."""

    message = models.ForeignKey(Message, verbose_name=_("message"), on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    read_at = models.DateTimeField(_("read at"))

    class Meta:
        verbose_name = _("message read")
        verbose_name_plural = _("messages read")
        constraints = [models.UniqueConstraint(fields=["message", "user"], name="message_read_once_per_user")]

    def __str__(self) -> str:
        return f"{self.message_id} {self.user_id}"
