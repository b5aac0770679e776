"""R20: key targets (重点评测对象) of a ranking — never the best, never one at the threshold; ties
share a rank and a fate; the page says which rule made the list."""

from __future__ import annotations

import re
from typing import Any

from haoping.directory.models import RegionPolicy
from haoping.indicators.selectors import competition_ranks, key_targets, ranking_order
from haoping.indicators.tests.test_dashboards import login


def test_ties_share_a_rank_and_the_next_rank_counts_everyone_above() -> None:
    assert competition_ranks([90.0, 80.0, 80.0, 70.0]) == [1, 2, 2, 4]
    assert competition_ranks([50.0, 50.0, 50.0]) == [1, 1, 1]


def test_the_lowest_n_are_taken_only_below_the_median() -> None:
    # Median (90 + 80) / 2 = 85: below it 80, 70, 60; the lowest two are 60 and 70.
    assert key_targets([95.0, 90.0, 90.0, 80.0, 70.0, 60.0], lowest=2, threshold=None) == [
        False,
        False,
        False,
        False,
        True,
        True,
    ]
    # Two of three at the median or above: only the one strictly below it, though three were asked for.
    assert key_targets([75.0, 66.7], lowest=3, threshold=None) == [False, True]
    assert key_targets([95.0, 90.0, 70.0, 70.0, 60.0], lowest=3, threshold=None) == [False] * 4 + [True]


def test_an_object_tied_with_a_key_target_is_one_too() -> None:
    # Median 77.5: below it 70, 70, 60; the lowest two by rank are 60 and both 70s.
    assert key_targets([95.0, 90.0, 85.0, 70.0, 70.0, 60.0], lowest=2, threshold=None) == [False] * 3 + [True] * 3


def test_the_best_is_never_a_key_target() -> None:
    assert key_targets([80.0], lowest=3, threshold=None) == [False]
    assert key_targets([80.0, 80.0, 80.0], lowest=3, threshold=None) == [False, False, False]
    # Everyone under the threshold: still not the best, nor those tied with it.
    assert key_targets([85.0, 85.0, 80.0], lowest=3, threshold=90.0) == [False, False, True]


def test_reaching_the_threshold_is_not_being_under_it() -> None:
    assert key_targets([95.0, 90.0, 89.9], lowest=0, threshold=90.0) == [False, False, True]


def test_the_page_follows_the_regions_policy_and_says_which_rule(
    world: dict[str, Any], district: dict[str, str]
) -> None:
    # S001 75.0 %, S002 66.7 % by good rate.
    RegionPolicy.objects.create(
        region=world["district"], key_targets=RegionPolicy.KeyTargets.BELOW_THRESHOLD, key_targets_threshold=70
    )
    manager = login("m", role="manager", region=world["district"])
    period = f"from={district['from']}&to={district['to']}"
    html = manager.get(f"/console/indicators/rankings/?{period}&by=staff&min=1").content.decode()
    watch = html[html.index('id="watch"') :].split("</section>")[0]
    assert "李强" in watch and "王芳" not in watch
    rule = re.search(r'id="watch-rule">(.*?)</p>', html)
    assert (
        rule is not None
        and rule.group(1) == "重点评测对象：好评率低于 70% 的对象；排名第一的不列入。（本区划评价规则）"
    )
    # A threshold under everyone: no key target, and the page says so.
    html = manager.get(f"/console/indicators/rankings/?{period}&by=staff&min=1&below=50").content.decode()
    assert "本排名没有重点评测对象" in html and "本页所选" in html
    # The lowest one below the median instead, chosen on the page.
    html = manager.get(
        f"/console/indicators/rankings/?{period}&by=staff&min=1&watch=lowest_below_median&lowest=1"
    ).content.decode()
    watch = html[html.index('id="watch"') :].split("</section>")[0]
    assert "李强" in watch and "王芳" not in watch and "中位数（70.8%）" in watch


def test_a_rate_where_lower_is_better_ranks_the_lowest_first() -> None:
    rows = [
        {"object_id": pk, "counts": {"total": 10}, "rates": {"unrated_rate": rate, "good_rate": rate}}
        for pk, rate in ((1, 0.05), (2, 0.40), (3, 0.10), (4, 0.30), (5, 0.20))
    ]
    ordered, scores, threshold = ranking_order(rows, "unrated_rate", 25.0)
    assert [r["object_id"] for r in ordered] == [1, 3, 5, 4, 2]
    # Above 25 % unrated: the two highest are the key targets, never the lowest.
    assert key_targets(scores, lowest=3, threshold=threshold) == [False, False, False, True, True]
    assert key_targets(scores, lowest=1, threshold=None) == [False, False, False, False, True]
    # A rate where higher is better keeps its order.
    assert [r["object_id"] for r in ranking_order(rows, "good_rate", None)[0]] == [2, 4, 5, 3, 1]
