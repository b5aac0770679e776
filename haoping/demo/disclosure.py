"""The demo city's published results (R19): its last full month, for the city and each district,
as their managers would publish them; one district also shows its window staff by number."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from haoping.accounts.access import Actor
from haoping.demo.catalog import CITY_CODE
from haoping.directory.models import Region
from haoping.disclosure.services import (
    case_study_create,
    case_study_publish,
    disclosure_setting_update,
    publication_publish,
    rectification_notice_approve,
)
from haoping.evaluations.models import Evaluation
from haoping.evaluations.rules import REASON
from haoping.evaluations.selectors import option_labels
from haoping.indicators.services import day_bounds, month_end
from haoping.rectification.models import BadReviewCase, CaseEvent


def publications_load() -> int:
    """Publish the last full month for the city and its districts; returns how many were published."""
    city = Region.objects.get(code=CITY_CODE)
    actor = Actor(label=f"{city.name}政务服务管理局", roles=frozenset({"manager"}), region=city)
    last_month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    regions = [city, *Region.objects.filter(parent=city).order_by("code")]
    # 窗口人员公示 in the first district, to show what it looks like.
    disclosure_setting_update(
        actor=actor, region=regions[1], show_institutions=True, show_departments=True, show_items=True, show_staff=True
    )
    for region in regions:
        publication_publish(actor=actor, region=region, month=last_month)
    _notices_approve(actor, last_month)
    _studies_create(actor, last_month)
    return len(regions)


def _studies_create(actor: Actor, month: dt.date) -> None:
    """案例库: typical cases of the month, two bad (closed cases) and two good (非常满意 reviews),
    all published but the last, which stays a draft."""
    start, end = day_bounds(month, month_end(month))
    closed = BadReviewCase.objects.filter(
        state=BadReviewCase.State.CLOSED, invalid=False, evaluation__rated_at__gte=start, evaluation__rated_at__lt=end
    ).select_related("item")
    outstanding = Evaluation.objects.filter(
        source=Evaluation.Source.ACTIVE, level=5, blocked=False, rated_at__gte=start, rated_at__lt=end
    ).select_related("item")
    made = []
    for case in closed.order_by("pk")[:2]:
        text = f"群众反映{case.item.name}办理中的问题，承办单位及时联系核实并整改，回访时群众表示认可。"
        made.append(case_study_create(actor=actor, title=f"{case.item.name}差评整改", text=text, source_case=case))
    for evaluation in outstanding.order_by("pk")[:2]:
        text = f"{evaluation.item.name}当场办结、一次办好，服务评价为非常满意。"
        made.append(
            case_study_create(
                actor=actor, title=f"{evaluation.item.name}优质服务", text=text, source_evaluation=evaluation
            )
        )
    for study in made[:-1]:
        case_study_publish(actor=actor, study=study)


def _notices_approve(actor: Actor, month: dt.date) -> None:
    """整改公示: the manager approves what the public reads of two in three of the month's adopted
    bad reviews (from what was written, with names and numbers removed); the rest wait for approval."""
    start, end = day_bounds(month, month_end(month))
    cases = (
        BadReviewCase.objects.filter(evaluation__rated_at__gte=start, evaluation__rated_at__lt=end, invalid=False)
        .select_related("evaluation", "region", "evaluator", "staff")
        .order_by("pk")
    )
    notes = dict(
        CaseEvent.objects.filter(case__in=cases, action__in=("rectify", "explain"))
        .order_by("at")
        .values_list("case_id", "note")
    )
    for i, case in enumerate(cases):
        written = case.evaluation.comment or "、".join(option_labels(REASON).get(r, r) for r in case.evaluation.reasons)
        if i % 3 == 2 or not written:
            continue
        rectification_notice_approve(
            actor=actor, case=case, summary=written[:500], rectification=notes.get(case.pk, "")[:1000]
        )
