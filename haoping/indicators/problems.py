"""Hot problems (堵点难点, R20): the words of bad reviews, segmented with jieba, counted per item
and department and day, so that the dashboard reads counts and never the raw comments."""

from __future__ import annotations

import logging
import re
from collections import Counter
from functools import cache
from typing import Any

from haoping.lib.masking import redact_text

# Words that say nothing about what went wrong.
STOPWORDS = frozenset(
    """的 了 是 我 你 他 她 们 在 也 都 就 和 与 及 或 很 太 非常 特别 有 没 没有 不 这 那 这个 那个 一个 一些
    还 又 再 要 说 去 来 到 给 让 把 被 对 为 为了 因为 所以 但是 而且 然后 如果 就是 还是 什么 怎么 可以
    能 会 已经 一直 一下 一次 这样 那样 自己 我们 你们 他们 今天 昨天 时候 问题 情况 办理 办事 工作""".split()
)
# Government-service words jieba's general dictionary splits apart.
DOMAIN_WORDS = (
    "叫号",
    "取号",
    "叫号系统",
    "排号",
    "预约",
    "窗口人员",
    "工作人员",
    "跑腿",
    "跑多次",
    "一网通办",
    "一窗受理",
    "帮办代办",
    "自助终端",
    "网上办",
    "掌上办",
    "容缺受理",
    "告知承诺",
    "办结",
    "材料清单",
    "营业执照",
    "不动产",
)
_WORD = re.compile(r"^[\u4e00-\u9fffA-Za-z]{2,}$")


@cache
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    for word in DOMAIN_WORDS:
        jieba.add_word(word)
    return jieba


def terms(text: str) -> Counter[str]:
    """The meaningful words of one comment (two characters or more, no stopwords, no numbers)."""
    words = _jieba().cut(redact_text(text))
    return Counter(w for w in words if _WORD.match(w) and w not in STOPWORDS)
