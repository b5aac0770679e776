"""Hot problems (堵点难点, R20): the words of bad reviews, segmented with jieba, counted per item
and department and day, so that the dashboard reads counts and never the raw comments.

A comment counts each of its words once, however often it repeats them, so that one comment cannot
push a word to the top. Markup (a comment is free text typed by anyone), Latin noise and words that
say nothing (`data/stopwords.txt`) are dropped; `data/userdict.txt` teaches jieba the vocabulary of
government service."""

from __future__ import annotations

import logging
import re
from collections import Counter
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from haoping.lib.masking import redact_text

DATA = Path(__file__).resolve().parent / "data"
_CJK_WORD = re.compile(r"^[\u4e00-\u9fff]{2,}$")
_LATIN = re.compile(r"^[A-Za-z]+$")


def _lines(name: str) -> list[str]:
    text = (DATA / name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


@cache
def stopwords() -> frozenset[str]:
    return frozenset(_lines("stopwords.txt"))


@cache
def vocabulary() -> tuple[tuple[str, int | None, str | None], ...]:
    """The user dictionary's entries: word, frequency and part of speech (both optional)."""
    entries = []
    for line in _lines("userdict.txt"):
        word, *rest = line.split()
        freq = int(rest[0]) if rest and rest[0].isdigit() else None
        tag = rest[-1] if rest and not rest[-1].isdigit() else None
        entries.append((word, freq, tag))
    return tuple(entries)


@cache
def latin_words() -> frozenset[str]:
    """The Latin words that name something in government service (APP, PDF …), upper case."""
    return frozenset(word.upper() for word, _freq, _tag in vocabulary() if _LATIN.match(word))


@cache
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    for word, freq, tag in vocabulary():
        jieba.add_word(word, freq, tag)
    return jieba


class _Text(HTMLParser):
    """The text of a comment that may hold markup: tags, attributes, scripts and styles left out."""

    SKIP = frozenset({"script", "style"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        self.parts.append(" ")  # a tag separates the words around it

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1
        self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def plain_text(text: str) -> str:
    """A comment without its markup."""
    parser = _Text()
    parser.feed(text)
    parser.close()
    return "".join(parser.parts)


def _meaningful(word: str) -> str | None:
    if _CJK_WORD.match(word):
        return None if word in stopwords() else word
    if _LATIN.match(word) and word.upper() in latin_words():
        return word.upper()
    return None  # numbers, punctuation, single characters, and Latin noise (alert, script, onerror)


def terms(text: str) -> Counter[str]:
    """The meaningful words of one comment, each counted once (two CJK characters or more, or a
    Latin word of the service vocabulary; no stop words, no markup, no numbers)."""
    found = (_meaningful(w) for w in _jieba().cut(redact_text(plain_text(text))))
    return Counter({word: 1 for word in found if word is not None})
