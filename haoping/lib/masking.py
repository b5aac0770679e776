"""How personal data is shown on screens and in exports: never in full."""

from __future__ import annotations

import re


def mask_name(name: str) -> str:
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


def mask_phone(phone: str) -> str:
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_id_number(id_number: str) -> str:
    if len(id_number) < 8:
        return "*" * len(id_number)
    return id_number[:4] + "*" * (len(id_number) - 8) + id_number[-4:]


# Phone numbers (11 digits starting 1) and ID numbers (17 digits + digit or X) typed into free text.
_PHONE_IN_TEXT = re.compile(r"(?<!\d)1\d{10}(?!\d)")
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def mask_text(text: str) -> str:
    """Free text with any phone or ID number in it masked, for screens and exports."""
    text = _ID_IN_TEXT.sub(lambda m: mask_id_number(m.group()), text)
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group()), text)


def redact_text(text: str) -> str:
    """Free text with any phone or ID number removed entirely: for the staff who were rated (R10)."""
    text = _ID_IN_TEXT.sub("***", text)
    return _PHONE_IN_TEXT.sub("***", text)
