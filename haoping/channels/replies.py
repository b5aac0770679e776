"""What an SMS reply says: a level (R1) with an optional comment, an opt-out, or nothing we understand.

Table-driven, so that a new way of answering is one row: full-width characters are folded to
their half-width forms first (NFKC), so "５" and "ＴＤ" read as 5 and TD.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Replies that stop all invitations to the number, compared after folding and upper-casing.
OPT_OUT = frozenset({"TD", "T", "退订", "TD退订", "退订TD", "N", "取消"})

# R1: the level names as words, longest first so that 非常不满意 is not read as 满意.
LEVEL_WORDS = (
    ("非常不满意", 1),
    ("非常满意", 5),
    ("基本满意", 3),
    ("比较满意", 4),
    ("不满意", 2),
    ("满意", 4),
    ("很好", 5),
    ("较好", 4),
    ("一般", 3),
    ("较差", 2),
    ("很差", 1),
    ("五星", 5),
    ("四星", 4),
    ("三星", 3),
    ("二星", 2),
    ("两星", 2),
    ("一星", 1),
)

# A leading digit 1–5 not followed by another digit (a "10" or "55" is no level), then an optional
# separator, then the comment.
DIGIT = re.compile(r"([1-5])(?![0-9])\s*(?:星)?\s*[,，.。、:：;；!！\-—]*\s*(.*)", re.DOTALL)
SEPARATORS = " \u3000,，.。、:：;；!！-—"


@dataclass(frozen=True)
class Reply:
    kind: str  # "rating", "opt_out" or "unclear"
    level: int | None = None
    comment: str = ""


def _folded(text: str) -> tuple[str, list[int]]:
    """`text` folded (NFKC) character by character, and where each folded character came from, so
    that the comment is taken as written (its full-width punctuation kept)."""
    folded, origin = [], []
    for index, char in enumerate(text):
        for part in unicodedata.normalize("NFKC", char):
            folded.append(part)
            origin.append(index)
    return "".join(folded), origin


def reply_parse(text: str) -> Reply:
    text = text.strip()
    folded, origin = _folded(text)
    compact = "".join(folded.split()).upper()
    if compact in OPT_OUT:
        return Reply("opt_out")

    def rest(start: int) -> str:
        return text[origin[start] :].lstrip(SEPARATORS).strip() if start < len(origin) else ""

    match = DIGIT.fullmatch(folded)
    if match:
        return Reply("rating", int(match.group(1)), rest(match.start(2)))
    for word, level in LEVEL_WORDS:
        if folded.startswith(word):
            return Reply("rating", level, rest(len(word)))
    return Reply("unclear")
