"""How personal data is shown on screens and in exports: never in full."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Full-width digits and letters (as a Chinese input method types them) read as their ASCII forms.
_NARROW = str.maketrans("０１２３４５６７８９Ｘｘ＋", "0123456789Xx+")


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


# Numbers typed into free text, in any of the ways people write them: digits ASCII or full-width,
# grouped by spaces, hyphens or dashes (138-1234-5678, 138 1234 5678, 320102 19900101 123X), a
# phone with its country code (+86 138…, 86-138…). A separator is one character between two
# digits; a number ends where no digit follows at once. Grouped numbers that merely look like one
# (an order number in groups) are masked too: showing too little is the safe mistake.
_D = "[0-9０-９]"
_SEP = "[ \\t\\u00a0\\u3000\\-‐‑‒–—－]"
_NOT_DIGIT_BEFORE = "(?<![0-9０-９])"
_NOT_DIGIT_AFTER = f"(?!{_D})"
# A mobile number: 11 digits from 1, after an optional country code.
_PHONE_IN_TEXT = re.compile(
    f"{_NOT_DIGIT_BEFORE}(?:[+＋]?{_SEP}?(?:86|８６){_SEP}*|[(（][+＋]?(?:86|８６)[)）]{_SEP}*)?"
    f"[1１](?:{_SEP}?{_D}){{10}}{_NOT_DIGIT_AFTER}"
)
# A resident ID number: 17 digits and a check character (a digit or X).
_ID_IN_TEXT = re.compile(
    f"(?<![0-9０-９A-Za-zＡ-Ｚａ-ｚ]){_D}(?:{_SEP}?{_D}){{16}}{_SEP}?[0-9０-９XxＸｘ](?![0-9０-９A-Za-zＡ-Ｚａ-ｚ])"
)


# What `mask_text` leaves of them: text stored masked is redacted as thoroughly as the original.
_MASKED_IN_TEXT = re.compile(r"(?<![0-9])(?:\d{3}\*{4}\d{4}|\d{4}\*{10}[0-9Xx]{4})(?![0-9])")


def _digits(found: str) -> str:
    """The number as digits only, country code dropped."""
    plain = re.sub(r"[^0-9Xx+]", "", found.translate(_NARROW))
    return plain[3:] if plain.startswith("+86") else plain[2:] if len(plain) == 13 else plain


_ANY_DIGIT = re.compile("[0-9０-９]")
_FEWEST_DIGITS = 11  # a phone number's; an ID number has more


def _may_hold_a_number(text: str) -> bool:
    # Most texts hold too few digits for either number: skip the scans (they run on every rating).
    return len(_ANY_DIGIT.findall(text)) >= _FEWEST_DIGITS


def mask_text(text: str) -> str:
    """Free text with any phone or ID number in it masked, for screens, exports and the API."""
    if not _may_hold_a_number(text):
        return text
    text = _ID_IN_TEXT.sub(lambda m: mask_id_number(_digits(m.group())), text)
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(_digits(m.group())), text)


def redact_text(text: str, names: Iterable[str] = ()) -> str:
    """Free text with any phone or ID number, and each of `names`, removed entirely: for the staff
    who were rated (R10), who must not learn who rated them."""
    if _may_hold_a_number(text):
        text = _ID_IN_TEXT.sub("***", text)
        text = _PHONE_IN_TEXT.sub("***", text)
    if "*" in text:
        text = _MASKED_IN_TEXT.sub("***", text)
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        text = text.replace(name, "***")
    return text


def personal_data_in(text: str, names: Iterable[str] = ()) -> bool:
    """Whether free text holds a phone or ID number, or one of `names`: worth a warning before it
    is saved where others read it."""
    numbers = _may_hold_a_number(text) and bool(_ID_IN_TEXT.search(text) or _PHONE_IN_TEXT.search(text))
    return numbers or any(name.strip() in text for name in names if name and len(name.strip()) >= 2)
