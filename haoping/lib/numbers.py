"""Whole numbers typed or sent as text."""

from __future__ import annotations

# Longer is no count, day or size any field here takes: refused before int() reads it.
MAX_DIGITS = 18


def whole_number(text: str | None) -> int | None:
    """`text` as a whole number if it is one written in ASCII digits, else None.

    `str.isdigit()` alone also accepts digits `int()` refuses (superscripts such as "²") and any
    length (int() refuses over 4,300 digits): both would end a request with an error."""
    if not text or len(text) > MAX_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    return int(text)
