"""The directory: regions, departments, institutions, windows, platforms, items and staff."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


def path_within(path: str, ancestor: str) -> bool:
    """Whether the region at `path` lies in the subtree at `ancestor` (itself included): the same
    test as subtree_q, for a path already read."""
    return path.startswith(ancestor)


def subtree_q(path: str, field: str = "region") -> models.Q:
    """The rows whose `field` (a foreign key to Region; "" for regions themselves) lies in the
    subtree at `path`. Paths end with "/", so a sibling whose code starts alike is not inside.
    Access checks take it through haoping.accounts.access.within_region."""
    return models.Q(**{f"{field}__path__startswith" if field else "path__startswith": path})


class Region(models.Model):
    """行政区划. `path` holds the codes from the root down, for subtree filters."""

    code = models.CharField(
        _("division code"),
        max_length=12,
        unique=True,
        validators=[RegexValidator(r"^\d{6}(\d{3}){0,2}$", _("a division code has 6, 9 or 12 digits"))],
    )
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("path"), max_length=255, db_index=True, editable=False)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["path"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


DEADLINE_PRESETS = [
    ("default", _("national: contact 48 h; general 5, complex 15 working days")),
    ("ezhou_rules", _("Ezhou rules: contact 48 h; general 5, complex 15 natural days")),
    ("ezhou_plan", _("Ezhou plan: contact 1 working day; general 5, complex 15 working days")),
    ("siping", _("Siping: contact 48 h; rectify within 15 natural days")),
]


class RegionPolicy(models.Model):
    """Per-region settings where the sources disagree; the nearest ancestor's policy applies."""

    region = models.OneToOneField(Region, verbose_name=_("region"), on_delete=models.CASCADE, related_name="policy")
    # R2/R3: ratable for this many natural days after the service, then a default rating.
    rating_window_days = models.PositiveSmallIntegerField(
        _("rating window (natural days)"), default=7, validators=[MinValueValidator(1), MaxValueValidator(90)]
    )
    # R12: contact and resolution deadlines for bad reviews, by the source a region follows
    # (haoping.rectification.deadlines.PRESETS).
    case_deadlines = models.CharField(
        _("bad-review deadlines"), max_length=20, choices=DEADLINE_PRESETS, default="default"
    )
    # The handler is warned once this share of a step's time is used.
    warn_percent = models.PositiveSmallIntegerField(
        _("warn when this share of the time is used (percent)"),
        default=75,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
    )
    # An evaluator not satisfied with the rectification reopens the case, or the case closes as is.
    reopen_when_unsatisfied = models.BooleanField(
        _("reopen the case when the evaluator is not satisfied"), default=True
    )

    class Decider(models.TextChoices):
        # Siping 9.2: staff appeal to the government-service bureau (政务服务局) of their own level;
        # 51号 一(一): city and county governments accept appeals (受理复核申诉).
        SAME_REGION = "same_region", _("a manager of the unit's region or a region above it")
        REGION_ABOVE = "region_above", _("a manager of a region above the unit's")

    # R12, R14: who decides appeals, invalidations and extensions (never the one who asked).
    decided_by = models.CharField(
        _("appeals, invalidations and extensions decided by"),
        max_length=12,
        choices=Decider.choices,
        default=Decider.SAME_REGION,
    )

    class KeyTargets(models.TextChoices):
        # R20: low scorers become key targets (重点评测对象); the sources leave open how low.
        LOWEST_BELOW_MEDIAN = "lowest_below_median", _("the lowest ones of a ranking, strictly below its median")
        BELOW_THRESHOLD = "below_threshold", _("those under a set rate")

    key_targets = models.CharField(
        _("key targets of a ranking"),
        max_length=20,
        choices=KeyTargets.choices,
        default=KeyTargets.LOWEST_BELOW_MEDIAN,
    )
    key_targets_lowest = models.PositiveSmallIntegerField(
        _("key targets: how many of the lowest"), default=3, validators=[MaxValueValidator(1000)]
    )
    key_targets_threshold = models.DecimalField(
        _("key targets: under this rate (percent)"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )

    # The signature 【…】 of SMS texts to evaluators about this region's cases; blank: the
    # setting HAOPING_SMS_SIGNATURE (haoping.rectification.sms).
    sms_signature = models.CharField(
        _("SMS signature"),
        max_length=12,
        blank=True,
        help_text=_("Without the brackets 【】; blank for the deployment's signature."),
    )

    class Meta:
        verbose_name = _("region policy")
        verbose_name_plural = _("region policies")

    def __str__(self) -> str:
        return str(self.region)

    def clean(self) -> None:
        if self.key_targets == self.KeyTargets.BELOW_THRESHOLD and self.key_targets_threshold is None:
            raise ValidationError({"key_targets_threshold": _("Give the rate under which objects become key targets.")})


class Department(models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="departments")

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Institution(models.Model):
    """政务服务机构: a hall, a center or a station."""

    class Kind(models.TextChoices):
        HALL = "hall", _("service hall")
        CENTER = "center", _("service center")
        STATION = "station", _("service station")

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="institutions")

    class Meta:
        verbose_name = _("institution")
        verbose_name_plural = _("institutions")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Window(models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    institution = models.ForeignKey(
        Institution, verbose_name=_("institution"), on_delete=models.PROTECT, related_name="windows"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="windows",
    )

    class Meta:
        verbose_name = _("window")
        verbose_name_plural = _("windows")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.institution.name} {self.name}"


class Platform(models.Model):
    class Kind(models.TextChoices):
        WEB = "web", _("web portal")
        MOBILE = "mobile", _("mobile app")
        KIOSK = "kiosk", _("self-service kiosk")
        HOTLINE = "hotline", _("hotline")
        BUSINESS_SYSTEM = "business_system", _("business system")

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="platforms")
    # R22: a self-service kiosk sends the applicant to the rating page with ?return=<url>; the page
    # goes back only to an address listed here (haoping.directory.selectors.kiosk_return_check).
    kiosk_return_urls = models.TextField(
        _("kiosk return addresses"),
        blank=True,
        help_text=_(
            "One address per line (http or https). The rating page returns to an address that starts "
            "with one of these, on the same host, after the rating or 60 seconds without a touch."
        ),
    )

    class Meta:
        verbose_name = _("platform")
        verbose_name_plural = _("platforms")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ServiceItem(models.Model):
    """政务服务事项, with its legal and promised time limits in working days."""

    code = models.CharField(_("item code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    type = models.CharField(_("item type"), max_length=40, blank=True)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="items"
    )
    legal_days = models.PositiveSmallIntegerField(_("legal time limit (days)"), null=True, blank=True)
    promised_days = models.PositiveSmallIntegerField(_("promised time limit (days)"), null=True, blank=True)

    class Meta:
        verbose_name = _("service item")
        verbose_name_plural = _("service items")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Staff(models.Model):
    staff_no = models.CharField(_("staff number"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=50)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    institution = models.ForeignKey(
        Institution,
        verbose_name=_("institution"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )
    window = models.ForeignKey(
        Window, verbose_name=_("window"), null=True, blank=True, on_delete=models.SET_NULL, related_name="staff"
    )

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        ordering = ["staff_no"]

    def __str__(self) -> str:
        return f"{self.name}（{self.staff_no}）"
