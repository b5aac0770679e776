from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from haoping.directory.models import Region


class ApiClient(models.Model):
    """A business system or channel client. Its key reaches only its region's subtree, and does
    what its role allows (haoping.accounts.access.actor_for_client)."""

    class Role(models.TextChoices):
        BUSINESS = "business", _("business system")
        HOTLINE = "hotline", _("12345 hotline")
        MANAGER = "manager", _("management platform")

    name = models.CharField(_("name"), max_length=100)
    # Existing keys became business systems: they push records and ratings and work their
    # unit's cases, and decide nothing until someone grants more.
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.BUSINESS)
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="api_clients")
    # Only a digest of the key is kept; the key itself is shown once, at creation.
    key_digest = models.CharField(_("key digest"), max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(_("key prefix"), max_length=12, editable=False)
    is_active = models.BooleanField(pgettext_lazy("API client", "active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")

    def __str__(self) -> str:
        return f"{self.name}（{self.key_prefix}…）"


class Membership(models.Model):
    """A console user's role: a manager of a region's subtree, a handler in a unit, or a staff member."""

    class Role(models.TextChoices):
        MANAGER = "manager", _("manager")
        HANDLER = "handler", _("handler")
        STAFF = "staff", _("staff member")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="membership"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    # Manager: the region whose subtree they supervise.
    region = models.ForeignKey(Region, verbose_name=_("region"), null=True, blank=True, on_delete=models.PROTECT)
    # Handler: the unit (department) whose bad reviews they work.
    department = models.ForeignKey(
        "directory.Department", verbose_name=_("unit"), null=True, blank=True, on_delete=models.PROTECT
    )
    # Staff member: the directory entry they are.
    staff = models.OneToOneField(
        "directory.Staff", verbose_name=_("staff member"), null=True, blank=True, on_delete=models.PROTECT
    )

    class Meta:
        verbose_name = _("console role")
        verbose_name_plural = _("console roles")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(role="manager", region__isnull=False)
                    | models.Q(role="handler", department__isnull=False)
                    | models.Q(role="staff", staff__isnull=False)
                ),
                name="membership_scope_matches_role",
            )
        ]

    def __str__(self) -> str:
        scope = self.region or self.department or self.staff
        return f"{self.user} · {self.get_role_display()} · {scope}"
