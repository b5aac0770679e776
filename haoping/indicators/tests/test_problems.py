"""Hot problems (堵点难点, R20) count comments, not words: a phrase counts once per comment, once per
rating however many records the rating covers, and once per evaluator on a day however many bad
reviews they write; markup, Latin noise and stop words never count."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from typing import Any

from django.contrib.auth import get_user_model
from django.test import Client

from haoping.accounts.models import Membership
from haoping.indicators.models import ProblemTerm
from haoping.indicators.problems import plain_text, terms
from haoping.indicators.services import rollups_rebuild, rollups_update
from haoping.indicators.tests.test_rollup_properties import next_step
from haoping.rectification.models import BadReviewCase
from haoping.rectification.workflow import DECISIONS


def manager(world: dict[str, Any]) -> Client:
    user = get_user_model().objects.create_user(username="m", password="x")
    Membership.objects.create(user=user, role="manager", region=world["district"])
    client = Client()
    client.force_login(user)
    return client


_people = itertools.count(1)


def person(n: int) -> dict[str, str]:
    return {"kind": "person", "name": "李四", "phone": f"1390000{n:04d}", "id_number": ""}


def rate_bad(api: Any, record_payload: Any, record_no: str, comment: str, **record: Any) -> None:
    """A bad review with its comment, by an evaluator of its own unless `applicant` says who."""
    record.setdefault("applicant", person(next(_people)))
    assert api.post("/records", record_payload(record_no=record_no, **record)).status_code == 201
    body = {"record_no": record_no, "level": 1, "channel": "pad", "comment": comment}
    assert api.post("/evaluations", body).status_code == 201


def item_terms() -> dict[str, int]:
    """The words counted for ITEM-002 over all days."""
    found: Counter[str] = Counter()
    for term, count in (
        ProblemTerm.objects.filter(kind="item").exclude(term__startswith="#").values_list("term", "count")
    ):
        found[term] += count
    return dict(found)


def test_a_comment_counts_each_word_once() -> None:
    assert terms("排队排队排队，" * 200) == Counter({"排队": 1})
    assert terms("窗口人员态度冷淡，窗口人员不耐烦") == Counter({"窗口人员": 1, "态度": 1, "冷淡": 1, "不耐烦": 1})


def test_markup_and_latin_noise_are_not_words() -> None:
    assert plain_text("<b>叫号</b>系统<script>alert('排队')</script>").split() == ["叫号", "系统"]
    assert terms("<script>alert(1)</script>排队太久") == Counter({"排队": 1, "太久": 1})
    assert terms('<img src=x onerror="alert(1)">叫号系统坏了') == Counter({"叫号系统": 1})
    # Typed as plain text, the same tokens are still Latin noise; the service's own Latin words stay.
    assert terms("javascript:alert(document.cookie) onerror script APP闪退 pdf打不开") == Counter(
        {"APP": 1, "闪退": 1, "PDF": 1, "打不开": 1}
    )
    # Numbers (and the phone numbers R10 removes) are never words.
    assert terms("等了2小时，电话13812345678") == Counter({"小时": 1, "电话": 1})


def test_stop_words_and_fragments_are_dropped_and_service_words_kept_whole() -> None:
    # jieba alone gives 理人, 只能, 其他, 几遍 here: stop words in data/stopwords.txt.
    assert terms("工作人员一直在看手机，叫了好几声才理人") == Counter({"工作人员": 1, "手机": 1})
    assert terms("只能去其他窗口，问了几遍") == Counter({"窗口": 1})
    # data/userdict.txt keeps service words whole (jieba alone splits them).
    assert terms("办事指南写得不清楚，没有一次性告知") == Counter({"办事指南": 1, "不清楚": 1, "一次性告知": 1})


def test_the_demo_complaints_read_as_problems() -> None:
    # jieba alone gives 不通, 来回 and 一上午, 太难 here.
    assert terms("咨询电话一直打不通") == Counter({"咨询电话": 1, "打不通": 1})
    assert terms("流程太复杂，要在几个窗口之间来回跑") == Counter({"流程": 1, "复杂": 1, "窗口": 1, "来回跑": 1})
    assert terms("取号后等了一上午才轮到") == Counter({"取号": 1})
    assert terms("停车太难，周边没有车位") == Counter({"停车": 1, "周边": 1, "车位": 1})


def test_one_comment_repeating_a_phrase_does_not_top_the_hot_problems(
    world: dict[str, Any], record_payload: Any
) -> None:
    api = world["api"]
    rate_bad(api, record_payload, "SPAM", "窗口态度" * 200 + "<script>alert(1)</script>", item_code="ITEM-002")
    rate_bad(api, record_payload, "Q1", "叫号系统坏了，排队太久", item_code="ITEM-002")
    rate_bad(api, record_payload, "Q2", "叫号系统坏了", item_code="ITEM-002")
    rollups_update()
    # Hand-counted: 叫号系统 in Q1 and Q2; 窗口, 态度 once for SPAM; 排队, 太久 once for Q1.
    assert item_terms() == {"叫号系统": 2, "窗口": 1, "态度": 1, "排队": 1, "太久": 1}
    html = manager(world).get("/console/indicators/problems/").content.decode()
    section = html[html.index("食品经营许可") :].split("</section>")[0]
    assert section.index('<span class="tag">叫号系统 2</span>') < section.index('<span class="tag">窗口 1</span>')
    assert "词语后的数字是用到它的差评条数" in html
    for noise in ("alert", "script", "窗口 200"):
        assert f'<span class="tag">{noise}' not in section
    # A rebuild from scratch counts the same.
    rollups_rebuild()
    assert item_terms() == {"叫号系统": 2, "窗口": 1, "态度": 1, "排队": 1, "太久": 1}


def test_one_evaluator_repeating_a_phrase_in_several_comments_counts_once(
    world: dict[str, Any], record_payload: Any
) -> None:
    api = world["api"]
    same = person(9001)
    # One person's three bad reviews of the day (the third under another spelling of the name), another's one.
    rate_bad(api, record_payload, "S1", "叫号系统坏了", item_code="ITEM-002", applicant=same)
    rate_bad(api, record_payload, "S2", "叫号系统坏了，排队太久", item_code="ITEM-002", applicant=same)
    rollups_update()
    rate_bad(api, record_payload, "S3", "叫号系统坏了", item_code="ITEM-002", applicant={**same, "name": "李"})
    rate_bad(api, record_payload, "O1", "叫号系统坏了", item_code="ITEM-002")
    rollups_update()
    # Hand-counted: 叫号系统 by two people; 排队, 太久 by one.
    assert item_terms() == {"叫号系统": 2, "排队": 1, "太久": 1}
    html = manager(world).get("/console/indicators/problems/").content.decode()
    section = html[html.index("食品经营许可") :].split("</section>")[0]
    assert '<span class="tag">叫号系统 2</span>' in section
    # S2 found mistaken: its words leave, except those the person's other reviews still say.
    invalidate(world, "S2")
    rollups_update()
    assert item_terms() == {"叫号系统": 2}
    for record_no in ("S1", "S3"):
        invalidate(world, record_no)
    rollups_update()
    assert item_terms() == {"叫号系统": 1}
    incremental = item_terms()
    rollups_rebuild()
    assert item_terms() == incremental


def invalidate(world: dict[str, Any], record_no: str) -> None:
    """The case of a bad review found mistaken and its invalidation approved."""
    case = BadReviewCase.objects.get(record__record_no=record_no)
    while case.state not in ("closed", "resolved"):
        step = next_step(case, True)
        assert step is not None, case.state
        acting = world["manager_api"] if step["action"] in DECISIONS else world["api"]
        assert acting.post(f"/cases/{case.pk}/actions", step).status_code == 200
        case.refresh_from_db()
    assert case.invalid, case.state


def test_a_batch_rating_counts_once_and_is_one_example(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    batch = {"kind": "batch", "bundle_no": "BATCH-HOT"}
    for n in range(4):
        assert api.post("/records", record_payload(record_no=f"B{n}", item_code="ITEM-002", bundle=batch)).status_code
    body = {"record_no": "B0", "level": 1, "channel": "pad", "comment": "材料清单反复变化"}
    rated = api.post("/evaluations", body)
    assert rated.status_code == 201 and len(rated.json()["evaluations"]) == 4
    rate_bad(api, record_payload, "Q1", "排队太久", item_code="ITEM-002")
    rollups_rebuild()
    # One evaluator's one comment on four records: once, like Q1's words.
    assert item_terms() == {"材料清单": 1, "反复": 1, "变化": 1, "排队": 1, "太久": 1}
    html = manager(world).get("/console/indicators/problems/").content.decode()
    section = html[html.index("食品经营许可") :].split("</section>")[0]
    assert section.count("材料清单反复变化") == 1


def test_long_comments_are_shortened_with_a_link_to_their_case(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    long = "排队" + "等候时间太长了" * 30  # 212 characters
    rate_bad(api, record_payload, "LONG", long, item_code="ITEM-002")
    rate_bad(api, record_payload, "SHORT", "叫号系统坏了", item_code="ITEM-002")
    rollups_update()
    cases = dict(BadReviewCase.objects.values_list("record__record_no", "pk"))
    client = manager(world)
    html = client.get("/console/indicators/problems/").content.decode()
    section = html[html.index("食品经营许可") :].split("</section>")[0]
    shown = re.findall(r'<span class="comment">([^<]*)</span>', section)
    assert len(shown) == 2 and shown[0] == "叫号系统坏了"  # the latest first
    assert long not in section and shown[1].startswith(long[:110]) and len(shown[1]) <= 120
    assert f'<a href="/console/cases/{cases["LONG"]}/">工单 {cases["LONG"]}</a>' in section
    assert section.count(f'href="/console/cases/{cases["LONG"]}/"') == 2  # the case, and "read all"
    assert section.count(f'href="/console/cases/{cases["SHORT"]}/"') == 1 and "叫号系统坏了" in section
    # The link leads the manager to the whole comment.
    assert long in client.get(f"/console/cases/{cases['LONG']}/").content.decode()


def test_hot_problems_never_show_a_name(world: dict[str, Any], record_payload: Any) -> None:
    # R10: a name in a comment is neither a hot word nor readable in the examples.
    assert terms("王师傅态度冷淡，我叫李四，张女士也排队") == Counter({"态度": 1, "冷淡": 1, "排队": 1})
    api = world["api"]
    rate_bad(api, record_payload, "NAMED-1", "王师傅态度冷淡，我叫李四", item_code="ITEM-002")
    rate_bad(api, record_payload, "NAMED-2", "王师傅态度冷淡", item_code="ITEM-002")
    rollups_update()
    assert set(item_terms()) == {"态度", "冷淡"}
    html = manager(world).get("/console/indicators/problems/").content.decode()
    section = html[html.index("食品经营许可") :].split("</section>")[0]
    assert "冷淡" in section
    for name in ("王师傅", "李四"):
        assert name not in section
