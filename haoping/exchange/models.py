"""Exchange with the upper-level platform (R21): code tables, endpoints, and the outgoing rows."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from haoping.accounts.models import ApiClient
from haoping.directory.models import Region
from haoping.evaluations.models import Evaluation
from haoping.fields import EncryptedTextField
from haoping.records.models import RatingSlot, ServiceRecord

# The national interface takes at most this many rows per call (field notes §1a: 10 pages × 100).
MAX_BATCH = 100


class CodeTable(models.Model):
    """A set of code mappings from our values to one upper platform's codes (a preset, or a
    region's own copy of one): the sources disagree (satisfaction runs 5→1 in GB/T 39046, pf 6/7
    and promisetime are swapped in some provinces), so codes are data, never code."""

    slug = models.SlugField(_("key"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    # The version of the national evaluation-content catalogue the evalDetail codes belong to;
    # every outgoing evaluation row names it.
    content_version = models.CharField(_("content catalogue version"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("code table")
        verbose_name_plural = _("code tables")
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class CodeEntry(models.Model):
    class Field(models.TextChoices):
        PF = "pf", _("rating channel (pf)")
        SATISFACTION = "satisfaction", _("level (satisfaction)")
        EVAL_DETAIL = "evalDetail", _("reason or questionnaire answer (evalDetail)")
        USER_PROP = "userProp", _("applicant kind (userProp)")
        TASK_TYPE = "taskType", _("item type (taskType)")
        PROMISE_TIME = "promisetime", _("instant or promised item (promisetime)")
        PRO_CHANNEL = "proChannel", _("online or on site (proChannel)")

    table = models.ForeignKey(CodeTable, verbose_name=_("code table"), on_delete=models.CASCADE, related_name="entries")
    field = models.CharField(_("field"), max_length=16, choices=Field.choices)
    # Our value: a channel, a level, "reason:<tag>", "question:<key>:<answer>", an applicant kind,
    # an item type, "instant"/"promised", a record mode; "default" for pf is a timed-out rating.
    local = models.CharField(_("our value"), max_length=60)
    code = models.CharField(_("code upstream"), max_length=20)

    class Meta:
        verbose_name = _("code")
        verbose_name_plural = _("codes")
        ordering = ["table", "field", "local"]
        constraints = [models.UniqueConstraint(fields=["table", "field", "local"], name="one_code_per_value")]

    def __str__(self) -> str:
        return f"{self.field} {self.local} → {self.code}"


class Endpoint(models.Model):
    """A region's upper-level platform: where its rows go, how they are signed, how often."""

    region = models.OneToOneField(
        Region, verbose_name=_("region"), on_delete=models.CASCADE, related_name="exchange_endpoint"
    )
    code_table = models.ForeignKey(CodeTable, verbose_name=_("code table"), on_delete=models.PROTECT)
    active = models.BooleanField(_("sending"), default=True)
    url = models.URLField(_("address"), max_length=300)
    # The gateway's C-Tenancy-Id header: the province's 12-digit code (blank: not sent).
    tenancy_id = models.CharField(_("tenancy id"), max_length=12, blank=True, validators=[RegexValidator(r"^\d{12}$")])
    app_mark = models.CharField(_("appMark"), max_length=100)
    app_word = EncryptedTextField(_("appWord"))
    # Our SM2 key pair (hex); the private key is kept encrypted like personal data.
    sign_private_key = EncryptedTextField(_("our SM2 private key"))
    sign_public_key = models.CharField(_("our SM2 public key"), max_length=130)
    # The platform's SM2 public key: with it, the rows travel encrypted.
    platform_public_key = models.CharField(_("platform SM2 public key"), max_length=130, blank=True)
    # An upper 好差评 system takes rows from a key it issued (its lower-system registry); the
    # national gateway knows only appMark and the signature: blank, no key is sent.
    api_key = EncryptedTextField(
        _("API key at the upper platform"),
        blank=True,
        help_text=_(
            "Only for an upper 好差评 system, which issues a key to each lower system; blank for the national gateway."
        ),
    )
    batch_size = models.PositiveSmallIntegerField(
        _("rows per call"), default=MAX_BATCH, validators=[MinValueValidator(1), MaxValueValidator(MAX_BATCH)]
    )
    every_minutes = models.PositiveSmallIntegerField(
        _("send every (minutes)"), default=5, validators=[MinValueValidator(1), MaxValueValidator(1440)]
    )
    data_source = models.CharField(
        _("dataSource (our system's code)"), max_length=3, validators=[RegexValidator(r"^\d{3}$")]
    )
    # Some provinces prefix record numbers with their code ("按照省里标准", field notes §1a).
    project_no_prefix = models.CharField(_("projectNo prefix"), max_length=12, blank=True)
    last_run_at = models.DateTimeField(_("last sent at"), null=True, blank=True, editable=False)
    # Where the province hosts the rating page, the region's rating links point there, signed
    # (field notes §1d, pattern A); blank: our own rating page.
    rating_link_pattern = models.CharField(
        _("rating page of the upper platform"),
        max_length=500,
        blank=True,
        help_text=_(
            "An address with {projectNo}, {serviceNumber}, {areaCode}, {time}, {appMark} and {sign} "
            "in it, e.g. https://example.gov.cn/pj?projectNo={projectNo}&time={time}&sign={sign}. "
            "Blank: rating links lead to this system's own page."
        ),
        validators=[RegexValidator(r"^https?://.*\{projectNo\}.*", _("give an address with {projectNo} in it"))],
    )

    # Whether the evaluation chain's signed checkpoints go up too (docs/exchange.md, checkpoint
    # rows): only to an upper platform that takes them; the national interface does not.
    send_checkpoints = models.BooleanField(
        _("send the chain's checkpoints"),
        default=False,
        help_text=_(
            "Also send each signed checkpoint of the evaluation chain, so that the upper platform holds "
            "this system's chain to it. Only for an upper platform that takes checkpoint rows (a "
            "好差评 system of the level above); the national interface does not."
        ),
    )

    class Meta:
        verbose_name = _("upper-level endpoint")
        verbose_name_plural = _("upper-level endpoints")

    def __str__(self) -> str:
        return f"{self.region} → {self.url}"

    def clean(self) -> None:
        if self.rating_link_pattern and "{sign}" not in self.rating_link_pattern:
            raise ValidationError({"rating_link_pattern": _("the address must carry the signature: put {sign} in it")})


class OutgoingRow(models.Model):
    """One row for the upper platform: a service, an evaluation, a case step, or a checkpoint of
    the evaluation chain (which belongs to no record)."""

    class Kind(models.TextChoices):
        SERVICE = "service", _("service")
        EVALUATION = "evaluation", _("evaluation")
        CASE_STEP = "case_step", _("case step")
        CHECKPOINT = "checkpoint", _("chain checkpoint")

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting to be sent")
        SENT = "sent", _("accepted upstream")
        REJECTED = "rejected", _("rejected upstream")
        TRANSPORT_ERROR = "transport_error", _("could not be delivered")

    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT)
    endpoint = models.ForeignKey(Endpoint, verbose_name=_("endpoint"), on_delete=models.PROTECT, related_name="rows")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    # The upstream's identity of the row ("service:<projectNo>:<serviceNumber>", …): a row is
    # made once per key, and a retried batch carries the same keys.
    natural_key = models.CharField(_("key"), max_length=160)
    # Where the row comes from ("slot:<id>", "evaluation:<id>", "case:<id>:<step>:<time>",
    # "checkpoint:<number>").
    source_key = models.CharField(_("source"), max_length=80)
    # None for a checkpoint.
    record = models.ForeignKey(
        ServiceRecord, verbose_name=_("service record"), null=True, blank=True, on_delete=models.PROTECT
    )
    project_no = models.CharField(_("projectNo"), max_length=80, blank=True)
    # Order within the record: a service before its evaluation, the evaluation before its case; a
    # checkpoint's number, after the checkpoint before it.
    seq = models.PositiveIntegerField(_("order in the record"))
    payload = models.JSONField(_("row as sent"))
    # An evaluation's evalDetail codes belong to this version of the content catalogue.
    content_version = models.CharField(_("content catalogue version"), max_length=20, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    reason = models.TextField(_("reason upstream"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    batch = models.ForeignKey(
        "Batch", verbose_name=_("last call"), null=True, blank=True, on_delete=models.SET_NULL, related_name="rows"
    )

    class Meta:
        verbose_name = _("outgoing row")
        verbose_name_plural = _("outgoing rows")
        constraints = [
            models.UniqueConstraint(fields=["region", "natural_key"], name="exchange_row_once_per_key"),
            models.UniqueConstraint(fields=["region", "source_key"], name="exchange_row_once_per_source"),
        ]
        indexes = [
            # The push reads the due rows oldest first, each checked against the earlier rows of
            # its record.
            models.Index(fields=["endpoint", "status", "id"], name="exchange_row_due"),
            models.Index(fields=["record", "seq"], name="exchange_row_in_record"),
            models.Index(fields=["region", "status", "created_at"], name="exchange_row_state"),
        ]

    def __str__(self) -> str:
        return self.natural_key


class Batch(models.Model):
    """One call to the upper platform: the transport level's answer, beside each row's own."""

    class Outcome(models.TextChoices):
        OK = "ok", _("delivered")
        TRANSPORT_ERROR = "transport_error", _("could not be delivered")

    endpoint = models.ForeignKey(Endpoint, verbose_name=_("endpoint"), on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    size = models.PositiveSmallIntegerField(_("rows"))
    tries = models.PositiveSmallIntegerField(_("tries"), default=0)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    # The transport level's own words (C-Response-Desc and the like), or the error met.
    message = models.TextField(_("message"), blank=True)

    class Meta:
        verbose_name = _("call upstream")
        verbose_name_plural = _("calls upstream")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.outcome}"


class ExchangeMark(models.Model):
    """How far the sweep has read evaluations, ratable services and case steps (as the rollups'
    marks do: the last id read and the ids below it not committed yet)."""

    name = models.CharField(max_length=20, primary_key=True)
    last_id = models.BigIntegerField(default=0)
    gaps = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("exchange mark")
        verbose_name_plural = _("exchange marks")

    def __str__(self) -> str:
        return f"{self.name} {self.last_id}"


class LowerSystem(models.Model):
    """A lower-level system whose rows come in here (汇聚, R21): a county's own 好差评 system or a
    vendor's. Its API key is bound to its region; its code table reads its codes back into ours."""

    name = models.CharField(_("name"), max_length=100)
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    # The key it calls with; the key's region bounds the rows it may send, like any key's.
    api_client = models.OneToOneField(
        ApiClient, verbose_name=_("API key"), on_delete=models.PROTECT, related_name="lower_system"
    )
    code_table = models.ForeignKey(CodeTable, verbose_name=_("code table"), on_delete=models.PROTECT)
    active = models.BooleanField(_("taking rows"), default=True)
    app_mark = models.CharField(_("appMark"), max_length=100, blank=True)
    app_word = EncryptedTextField(_("appWord"), blank=True)
    # Set: every call must come in the envelope, signed with the key's pair (time + appMark + appWord).
    sign_public_key = models.CharField(
        _("its SM2 public key"),
        max_length=130,
        blank=True,
        help_text=_("Set: every call must come in the signed envelope; blank: rows may come bare or unsigned."),
    )
    # Ours, for rows it sends SM2-encrypted to the public key we gave it.
    decrypt_private_key = EncryptedTextField(_("our SM2 private key for its encrypted rows"), blank=True)
    # The key of its evaluation chain: its checkpoint rows are checked with it (none taken without).
    chain_public_key = models.CharField(_("its chain's SM2 public key"), max_length=130, blank=True)

    class Meta:
        verbose_name = _("lower-level system")
        verbose_name_plural = _("lower-level systems")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.region_id and self.api_client_id and self.api_client.region_id != self.region_id:
            raise ValidationError({"api_client": _("the key must belong to the system's region")})


class IncomingRow(models.Model):
    """One row a lower system sent, once per natural key: what became of it, and the row itself
    (encrypted), so that a row refused here is never lost and a retried batch is never counted twice."""

    class Kind(models.TextChoices):
        SERVICE = "service", _("service")
        EVALUATION = "evaluation", _("evaluation")
        CASE_STEP = "case_step", _("case step")
        CHECKPOINT = "checkpoint", _("chain checkpoint")
        UNKNOWN = "unknown", _("not a row of the format")

    class Status(models.TextChoices):
        STORED = "stored", _("stored")
        REFUSED = "refused", _("refused")

    system = models.ForeignKey(LowerSystem, verbose_name=_("lower-level system"), on_delete=models.PROTECT)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    natural_key = models.CharField(_("key"), max_length=160)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices)
    # The answer given for it: 201 stored, 200 the same row again, 409 a conflict, 422 invalid.
    answer = models.PositiveSmallIntegerField(_("answer"))
    field = models.CharField(_("field"), max_length=40, blank=True)
    message = models.TextField(_("message"), blank=True)
    payload = EncryptedTextField(_("row as received"))
    # SM3 of the row as canonical JSON: the same row again is a replay, another under its key is not.
    digest = models.CharField(max_length=64)
    record = models.ForeignKey(ServiceRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    slot = models.ForeignKey(RatingSlot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    evaluation = models.ForeignKey(Evaluation, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField(_("first received at"))
    updated_at = models.DateTimeField(_("last received at"))
    times = models.PositiveIntegerField(_("times received"), default=1)

    class Meta:
        verbose_name = _("incoming row")
        verbose_name_plural = _("incoming rows")
        constraints = [
            models.UniqueConstraint(fields=["system", "natural_key"], name="incoming_row_once_per_key"),
        ]
        indexes = [models.Index(fields=["system", "status", "updated_at"], name="incoming_row_state")]

    def __str__(self) -> str:
        return self.natural_key
