"""The web form's own challenge (no third-party CAPTCHA): a small sum, signed into the form with
the time it was shown, so that a script must read the page, and wait as a person would, to post."""

from __future__ import annotations

import secrets
import time

from django.conf import settings
from django.core import signing

SALT = "haoping.feedback.challenge"
# Left open longer than this, the form is shown again with a new sum.
LONGEST_SECONDS = 3600


def challenge_new() -> tuple[str, str]:
    """The question to show and the signed token to put in the form."""
    a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    token = signing.Signer(salt=SALT).sign_object({"sum": a + b, "at": time.time()})
    return f"{a} + {b}", token


def challenge_passed(token: str, answer: str) -> bool:
    try:
        value = signing.Signer(salt=SALT).unsign_object(token)
    except signing.BadSignature:
        return False
    waited = time.time() - float(value["at"])
    # Faster than a person reads the form (HAOPING_COMMENT_MIN_SECONDS): a script.
    if not settings.HAOPING_COMMENT_MIN_SECONDS <= waited <= LONGEST_SECONDS:
        return False
    answer = answer.strip()
    return answer.isascii() and answer.isdigit() and int(answer) == value["sum"]
