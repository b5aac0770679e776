"""The demo city's social comments (R18): from every channel, about halls, departments, platforms
and items, in every state of their workflow, one of them past its deadline."""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from haoping.accounts.access import Actor
from haoping.demo.catalog import CITY_CODE
from haoping.directory.models import Department, Institution, Platform, Region, ServiceItem
from haoping.feedback.models import SocialComment
from haoping.feedback.services import comment_act, comment_receive

TEXTS = [
    ("complaint", "等候区座位太少，老人只能站着排队"),
    ("suggestion", "建议周六上午增加一个综合窗口"),
    ("comment", "新上线的网上申报流程比以前顺畅很多"),
    ("complaint", "电话一直打不通，咨询不到材料要求"),
    ("suggestion", "希望在大厅门口增加无障碍坡道指引"),
    ("comment", "自助机打印很方便，为工作人员点赞"),
    ("complaint", "网上填报后又让到现场重复提交纸质材料"),
    ("suggestion", "办事指南里的表格样例能否更新到最新版本"),
]
CHANNELS = ["web", "email", "hotline", "box"]
# The states to leave comments in, in turn: the workflow's steps taken so far.
STEPS: list[list[str]] = [[], ["accept"], ["accept", "answer"], ["accept", "answer", "close"]]


def comments_load(*, rng: random.Random) -> int:
    city = Region.objects.get(code=CITY_CODE)
    actor = Actor(label=f"{city.name}政务服务管理局", roles=frozenset({"manager"}), region=city)
    targets: list[tuple[str, str]] = [("region", "")]
    targets += [("institution", c) for c in Institution.objects.order_by("code").values_list("code", flat=True)[:4]]
    targets += [("department", c) for c in Department.objects.order_by("code").values_list("code", flat=True)[:4]]
    targets += [("platform", c) for c in Platform.objects.order_by("code").values_list("code", flat=True)[:2]]
    targets += [("item", c) for c in ServiceItem.objects.order_by("code").values_list("code", flat=True)[:4]]
    now = timezone.now()
    made = 0
    for i in range(16):
        kind, text = TEXTS[i % len(TEXTS)]
        target, code = targets[i % len(targets)]
        channel = CHANNELS[i % len(CHANNELS)]
        contact = f"resident{i}@example.cn" if channel == "email" else ("" if i % 3 else "139****0000")
        comment, _new = comment_receive(
            within=city,
            channel=channel,
            kind=kind,
            target=target,
            code=code,
            text=text,
            contact=contact,
            source_ref=f"demo-{channel}-{i}" if channel in ("email", "hotline") else "",
            entered_by_label={"box": "意见箱录入", "hotline": "12345热线", "email": "e-mail"}.get(channel, ""),
            # Spread over the last three weeks; the oldest unanswered ones are overdue.
            now=now - dt.timedelta(days=rng.randint(0, 20), hours=rng.randint(0, 8)),
        )
        for action in STEPS[i % len(STEPS)]:
            note = "已协调责任科室整改，感谢您的意见。" if action == "answer" else ""
            comment_act(actor=actor, comment=comment, action=action, note=note)
        made += 1
    assert set(SocialComment.objects.values_list("state", flat=True)) == set(SocialComment.State.values)
    return made
