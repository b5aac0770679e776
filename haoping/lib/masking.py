"""How personal data is shown on screens and in exports: never in full."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import cache
from typing import Any

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
# grouped by spaces of any width, hyphens or dashes, dots, slashes or underscores, even a few of them
# in a row or characters that show as nothing (138-1234-5678, 138 1234 5678, 138.1234.5678,
# 138 - 1234 - 5678, 320102 19900101 123X), a phone with its country code (+86 138…, 0086 138…,
# 86-138…, (+86)138…). A number ends where no digit follows at once. Grouped numbers that merely
# look like one (an order number in groups) are masked too: showing too little is the safe mistake.
_D = "[0-9０-９]"
# One separator: a space of any width, a zero-width character, a hyphen, dash or minus sign, a dot,
# a middle dot, a slash, an underscore (ASCII or full-width).
_SEP = "[\\s\u200b-\u200d\u2060\ufeff\\-‐‑‒–—―－﹣−.．·・/／_＿]"
# Between two digits: at most three separators.
_GAP = f"{_SEP}{{0,3}}"
_NOT_DIGIT_BEFORE = "(?<![0-9０-９])"
_NOT_DIGIT_AFTER = f"(?!{_D})"
_COUNTRY = f"(?:[+＋]|00|００)?{_GAP}(?:86|８６)"
# A mobile number: 11 digits from 1, after an optional country code.
_PHONE_IN_TEXT = re.compile(
    f"{_NOT_DIGIT_BEFORE}(?:{_COUNTRY}{_SEP}*|[(（]{_GAP}{_COUNTRY}{_GAP}[)）]{_SEP}*)?"
    f"[1１](?:{_GAP}{_D}){{10}}{_NOT_DIGIT_AFTER}"
)
_NOT_ALNUM_BEFORE = "(?<![0-9０-９A-Za-zＡ-Ｚａ-ｚ])"
_NOT_ALNUM_AFTER = "(?![0-9０-９A-Za-zＡ-Ｚａ-ｚ])"


def _digit(chars: str) -> str:
    """One digit position: `chars` (ASCII digits) in ASCII or full width."""
    return "[" + chars + "".join(chr(ord(c) + 0xFEE0) for c in chars if c.isdigit()) + "]"


def _then(*positions: str) -> str:
    return _GAP.join(positions)


# A resident ID number: 17 digits and a check character (a digit or X); or a first-generation one
# (15 digits, still in old records and on old cards): a region code, the birth date as yymmdd, a
# sequence number. Only a valid month and day make 15 digits an ID number.
_MONTH = f"(?:{_then(_digit('0'), _digit('123456789'))}|{_then(_digit('1'), _digit('012'))})"
_DAY = f"(?:{_then(_digit('0'), _digit('123456789'))}|{_then(_digit('12'), _D)}|{_then(_digit('3'), _digit('01'))})"
_ID_IN_TEXT = re.compile(
    f"{_NOT_ALNUM_BEFORE}{_D}(?:{_GAP}{_D}){{16}}{_GAP}[0-9０-９XxＸｘ]{_NOT_ALNUM_AFTER}"
    f"|{_NOT_ALNUM_BEFORE}{_then(_digit('12345678'), *[_D] * 7, _MONTH, _DAY, _D, _D, _D)}{_NOT_ALNUM_AFTER}"
)


# A landline: an area code (0 and two or three digits, maybe in brackets) and a 7- or 8-digit
# number (010-12345678, (025)84561234, 0571 8765 4321); or a 400/800 service number (400-820-8820).
_LANDLINE_IN_TEXT = re.compile(
    f"{_NOT_DIGIT_BEFORE}(?:[(（]{_GAP}[0０]{_D}{{2,3}}{_GAP}[)）]{_SEP}*|[0０]{_D}{{2,3}}{_GAP})"
    f"[1-9１-９](?:{_GAP}{_D}){{6,7}}{_NOT_DIGIT_AFTER}"
    f"|{_NOT_DIGIT_BEFORE}[48４８][0０][0０](?:{_GAP}{_D}){{7}}{_NOT_DIGIT_AFTER}"
)


# What `mask_text` leaves of them: text stored masked is redacted as thoroughly as the original.
_MASKED_IN_TEXT = re.compile(r"(?<![0-9])(?:\d{3}\*{3,5}\d{4}|\d{4}\*{10}[0-9Xx]{4}|\d{4}\*{7}\d{4})(?![0-9])")


def _digits(found: str) -> str:
    """The number as digits only, country code dropped."""
    plain = re.sub(r"[^0-9Xx]", "", found.translate(_NARROW))
    return plain[4:] if len(plain) == 15 and plain.startswith("0086") else plain[2:] if len(plain) == 13 else plain


_ANY_DIGIT = re.compile("[0-9０-９]")
_FEWEST_DIGITS = 10  # a 400 number's or the shortest landline's; a mobile or ID number has more


def _may_hold_a_number(text: str) -> bool:
    # Most texts hold too few digits for either number: skip the scans (they run on every rating).
    return len(_ANY_DIGIT.findall(text)) >= _FEWEST_DIGITS


def mask_text(text: str) -> str:
    """Free text with any phone or ID number in it masked, for screens, exports and the API."""
    if not _may_hold_a_number(text):
        return text
    text = _ID_IN_TEXT.sub(lambda m: mask_id_number(_digits(m.group())), text)
    text = _PHONE_IN_TEXT.sub(lambda m: mask_phone(_digits(m.group())), text)
    return _LANDLINE_IN_TEXT.sub(lambda m: mask_phone(_digits(m.group())), text)


def redact_text(text: str, names: Iterable[str] = ()) -> str:
    """Free text with any phone or ID number, and each of `names`, removed entirely: for the staff
    who were rated (R10), who must not learn who rated them."""
    if _may_hold_a_number(text):
        text = _ID_IN_TEXT.sub("***", text)
        text = _PHONE_IN_TEXT.sub("***", text)
        text = _LANDLINE_IN_TEXT.sub("***", text)
    if "*" in text:
        text = _MASKED_IN_TEXT.sub("***", text)
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        text = text.replace(name, "***")
    return redact_names(text)


def personal_data_in(text: str, names: Iterable[str] = ()) -> bool:
    """Whether free text holds a phone or ID number, or one of `names`: worth a warning before it
    is saved where others read it."""
    numbers = _may_hold_a_number(text) and bool(
        _ID_IN_TEXT.search(text) or _PHONE_IN_TEXT.search(text) or _LANDLINE_IN_TEXT.search(text)
    )
    return numbers or any(name.strip() in text for name in names if name and len(name.strip()) >= 2)


# ---------------------------------------------------------------------------------------------
# Personal names written into free text (「我叫李四」, 「王师傅」, 「张女士」)
#
# Found two ways: jieba's part-of-speech tagging marks person names (nr), and people are named by
# surname and title. jieba also tags some places and common words as names (王府井, 石家庄, 高新区,
# 向阳街道), so a tagged word counts only when it starts with a common surname, is not a place by
# its last character or by what follows it, and holds no function word. What slips through either
# way is removed too (a place with a surname's first character): for the rated staff, removing a
# word too many is the safe mistake.

# The common single-character surnames, without those that are everyday words before a title or a
# name-like word (车 in 出租车师傅, 安 in 保安大哥, 师 in 师姐, 时, 和, 明, 全, 成, 文, 常, 向, 万, 路 …).
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵钱严覃武戴莫"
    "孔汤温康施牛樊葛邢齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包尚符舒阮柯纪梅童凌毕季裴"
    "霍涂苗谷盛曲翁冉骆蓝游辛靳管柴蒙鲍喻祁蒲房滕屈饶解牟艾尤穆农卓古吉缪简项连芦麦褚娄窦戚岑景党宫费"
    "卜冷晏席卫米柏宗瞿桂佟臧闵苟邬边卞姬仇栾隋刁沙荣巫寇桑郎甄丛仲虞敖巩佘池查麻苑迟邝"
)
COMPOUND_SURNAMES = frozenset(
    {"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯", "令狐"}
)
# How people are called by surname: 王师傅, 张女士, 李科长, 刘姐, 赵总.
TITLES = (
    "师傅|女士|先生|老师|小姐|同志|阿姨|大姐|大哥|大爷|大妈|经理|主任|科长|处长|局长|所长|站长|股长|队长"
    "|组长|部长|书记|院长|医生|大夫|护士|警官|律师|会计|姐|哥|叔|姨|总|工"
)
_SURNAME_CLASS = "[" + "".join(sorted(SURNAMES)) + "]"
_COMPOUND = "|".join(sorted(COMPOUND_SURNAMES))
_CALLED = re.compile(f"(?:{_COMPOUND}|{_SURNAME_CLASS})(?:某某|某|{TITLES})")
# Self-introductions: what follows is a name whatever it is (我叫小明); 我叫了 is not one.
_INTRODUCED = re.compile("(?:我叫|名叫|叫做|我的名字是|本人姓名|我姓)(?![了过着的他她你人什啥])([\u4e00-\u9fff]{1,3})")
_PLACE_ENDINGS = frozenset("区县市省镇乡村路街道庄井巷港湾桥门口园城站楼厦院所局处科")
_PLACE_AFTER = ("街道", "社区", "小区", "大道", "路", "街", "区", "镇", "村", "中心", "广场", "大厦", "公园", "站")
_FUNCTION_CHARS = frozenset("的了在是不有这那么什时能会要就都也还和与")
_NAME_TAGS = frozenset({"nr", "nrfg", "nrt"})
# Everyday words jieba tags as names in some contexts.
_NOT_NAMES = frozenset({"谢谢", "叶子", "高兴", "马虎", "周到", "钟头", "程序", "白跑", "方便", "江湖", "金额"})


@cache
def _tagger() -> Any:
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba.posseg


def _is_name(word: str, before: str, after: str) -> bool:
    if not 2 <= len(word) <= 4 or word in _NOT_NAMES or any(c in _FUNCTION_CHARS for c in word):
        return False
    if not (word[0] in SURNAMES or word[:2] in COMPOUND_SURNAMES or before[-2:] in COMPOUND_SURNAMES):
        return False
    return word[-1] not in _PLACE_ENDINGS and not after.startswith(_PLACE_AFTER)


def name_spans(text: str) -> list[tuple[int, int]]:
    """Where personal names stand in `text`, as (start, end) pairs, overlapping ones merged."""
    spans = [m.span() for m in _CALLED.finditer(text)]
    spans += [m.span(1) for m in _INTRODUCED.finditer(text)]
    if any(c in SURNAMES for c in text):
        at = 0
        for token in _tagger().cut(text):
            word, start = token.word, at
            at += len(word)
            if token.flag not in _NAME_TAGS:
                continue
            before, after = text[max(0, start - 2) : start], text[at : at + 2]
            if len(word) == 1 and word in SURNAMES and before[-1:] in ("小", "老"):
                spans.append((start - 1, at))  # 小李, 老王
            elif _is_name(word, before, after):
                # A compound surname jieba left outside the name (欧阳 | 娜娜).
                spans.append((start - 2 if before in COMPOUND_SURNAMES else start, at))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def redact_names(text: str) -> str:
    """Free text with the personal names in it removed (R10)."""
    for start, end in reversed(name_spans(text)):
        text = text[:start] + "***" + text[end:]
    return text
