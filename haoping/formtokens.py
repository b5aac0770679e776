"""Signed, expiring form tokens for the public forms (the rating page, the revisit page).

Applicants open these forms in WeChat and privacy browsers that drop cookies, so Django's
cookie-based CSRF check would refuse their rating. The link's own token already binds the page to
one service; the form carries a token signed with the secret key, bound to that link and stamped
with the time it was issued. A form posted with a token that is forged, issued for another link or
too old is refused (and shown again with what the applicant entered).
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core import signing

FIELD = "form_token"


def _signer(purpose: str) -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=f"haoping.formtoken.{purpose}")


def _digest(bound_to: str) -> str:
    # The link token is already in the URL; a digest keeps the form token short.
    return hashlib.sha256(bound_to.encode()).hexdigest()[:24]


def form_token_issue(*, purpose: str, bound_to: str) -> str:
    return _signer(purpose).sign(_digest(bound_to))


def form_token_valid(*, token: str, purpose: str, bound_to: str) -> bool:
    try:
        value = _signer(purpose).unsign(token, max_age=settings.HAOPING_FORM_TOKEN_MAX_AGE)
    except signing.BadSignature:  # also SignatureExpired
        return False
    return value == _digest(bound_to)
