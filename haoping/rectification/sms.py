"""Texts to evaluators, ready for an SMS gateway.

Every text to an evaluator is one of the fixed templates below: a signature 【…】 (the region
policy's, else the setting `HAOPING_SMS_SIGNATURE`, else the default), then the template with its
variables. A handler's free text never goes into an SMS, and so never into the outbox: the answer
is behind the revisit link, where the evaluator reads it in full (masked like every case note).

Chinese texts travel as UCS-2: one message holds 70 characters, a longer one is split into parts
of 67 (the rest carries the part header). Each template has a ceiling per variable, so that with
the longest values it stays within `HAOPING_SMS_MAX_SEGMENTS` parts; the system check
`haoping.W002` and the tests render every template that way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from haoping.directory.models import Region

SINGLE_SEGMENT = 70
PART_SEGMENT = 67
# Carriers accept signatures of 2 to 12 characters between the brackets.
SIGNATURE_MIN, SIGNATURE_MAX = 2, 12
ELLIPSIS = "…"


def sms_length(text: str) -> int:
    """Characters as a carrier counts them (UCS-2: a character beyond the BMP takes two)."""
    return len(text.encode("utf-16-le")) // 2


def sms_segments(text: str) -> int:
    length = sms_length(text)
    if length <= SINGLE_SEGMENT:
        return 1
    return math.ceil(length / PART_SEGMENT)


def signature_problem(name: str) -> str | None:
    """Why `name` cannot be a signature (without its brackets), or None."""
    if "【" in name or "】" in name:
        return gettext("give the signature without the brackets 【】")
    if not SIGNATURE_MIN <= len(name.strip()) <= SIGNATURE_MAX:
        return gettext("a signature has %(min)d to %(max)d characters") % {"min": SIGNATURE_MIN, "max": SIGNATURE_MAX}
    return None


def validate_signature(value: str) -> None:
    """For the region policy's field: blank (use the setting) or a valid signature."""
    if value:
        problem = signature_problem(value)
        if problem:
            raise ValidationError(problem)
        for template in TEMPLATES:
            rendered = template.longest(signature=value)
            if sms_segments(rendered) > settings.HAOPING_SMS_MAX_SEGMENTS:
                raise ValidationError(
                    gettext("with this signature the text “%(template)s” needs %(n)d SMS (at most %(max)d)")
                    % {
                        "template": template.label,
                        "n": sms_segments(rendered),
                        "max": settings.HAOPING_SMS_MAX_SEGMENTS,
                    }
                )


def sms_signature(region: Region | None) -> str:
    """The signature name for texts about a case in `region` (the nearest region policy's first)."""
    if region is not None:
        from haoping.directory.selectors import policy_for_region

        own = policy_for_region(region).sms_signature.strip()
        if own:
            return own
    configured = str(getattr(settings, "HAOPING_SMS_SIGNATURE", "")).strip()
    return configured or str(DEFAULT_SIGNATURE)


def _fit(value: str, limit: int) -> str:
    """`value` within `limit` characters as a carrier counts them (sms_length), ending in … if cut."""
    value = " ".join(value.split())
    if sms_length(value) <= limit:
        return value
    kept = ""
    for char in value:
        if sms_length(kept + char) > limit - 1:
            break
        kept += char
    return kept + ELLIPSIS


@dataclass(frozen=True)
class SmsTemplate:
    """One fixed text. `limits`: each variable's ceiling in characters (longer values are cut,
    ending in …); `choices`: variables given as one of a few keys, each standing for a fixed
    text; `link`: the text ends in a link (the revisit page), whose length depends only on
    `SITE_URL`. `code` names the template for gateways that send by registered template."""

    code: str
    label: Promise
    text: Promise
    limits: dict[str, int]
    choices: dict[str, dict[str, Promise]]
    link: bool = False

    def render(self, *, signature: str, link: str = "", **values: str) -> str:
        if set(values) != set(self.limits) | set(self.choices):
            raise ValueError(f"template {self.code} takes {sorted(self.limits) + sorted(self.choices)}")
        # Always the project's language, whichever language the request that triggered it used.
        with translation.override(settings.LANGUAGE_CODE):
            fitted = {name: _fit(values[name], limit) for name, limit in self.limits.items()}
            for name, allowed in self.choices.items():
                if values[name] not in allowed:
                    raise ValueError(f"{name}: not one of {sorted(allowed)}")
                fitted[name] = str(allowed[values[name]])
            if self.link:
                fitted["link"] = link
            return f"【{signature}】" + str(self.text) % fitted

    def longest(self, *, signature: str) -> str:
        """The text with each variable at its longest (and the longest link to this site)."""
        from haoping.rectification.links import longest_revisit_url

        values = {name: "政" * limit for name, limit in self.limits.items()}
        with translation.override(settings.LANGUAGE_CODE):
            for name, allowed in self.choices.items():
                values[name] = max(allowed.items(), key=lambda pair: len(str(pair[1])))[0]
        return self.render(signature=signature, link=longest_revisit_url() if self.link else "", **values)


DEFAULT_SIGNATURE = _("Government Service Reviews")
# The answer itself is on the revisit page, behind the link: not in the SMS.
ANSWER_READY = SmsTemplate(
    code="answer_ready",
    label=_("the unit has answered"),
    text=_("Your rating of “%(item)s” has been answered. Read the answer and tell us if you are satisfied: %(link)s"),
    limits={"item": 20},
    choices={},
    link=True,
)
APPEAL_DECIDED = SmsTemplate(
    code="appeal_decided",
    label=_("an appeal was decided"),
    text=_("Your rating of “%(item)s” was reviewed after an appeal by the unit: it is %(decision)s."),
    limits={"item": 20},
    choices={"decision": {"not_adopted": _("not adopted"), "kept": _("kept")}},
)
TEMPLATES = (ANSWER_READY, APPEAL_DECIDED)
