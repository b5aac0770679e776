from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RectificationConfig(AppConfig):
    name = "haoping.rectification"
    verbose_name = _("Bad-review handling")

    def ready(self) -> None:
        from haoping.evaluations.services import bad_rating_case_opener
        from haoping.rectification.services import case_open

        # R12: a bad rating opens its case here, in the rating's own transaction.
        bad_rating_case_opener(case_open)
        _sms_signature_checked()


def _sms_signature_checked() -> None:
    """The region policy's SMS signature must fit every text template sent with it: the policy
    lives in the directory, which knows nothing of the texts, so the check is added from here."""
    from haoping.directory.models import RegionPolicy
    from haoping.rectification.sms import validate_signature

    field = RegionPolicy._meta.get_field("sms_signature")
    if validate_signature not in field._validators:  # type: ignore[attr-defined,union-attr]
        field._validators.append(validate_signature)  # type: ignore[attr-defined,union-attr]
        field.__dict__.pop("validators", None)  # the cached list, if it was read before
