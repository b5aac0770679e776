"""GB/T 39735 Annex A: which evaluations count where, as aggregate expressions over evaluations.

The rollups and any direct count use these same expressions, so they cannot disagree.
Ratings of blocked evaluators count nowhere (R15). A bad review found mistaken or malicious, or
whose appeal was upheld, is invalid: it leaves the bad counts and joins the unrated (未评).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy

from haoping.evaluations import rules
from haoping.evaluations.models import Evaluation
from haoping.rectification.models import BadReviewCase

# Stored counts; `valid_bad` is derived (bad − invalid_bad).
COUNTS = ("total", "active", "defaults", "active_good", "bad", "invalid_bad", "replied", "rectified", "satisfied")


ACTIVE = Q(source=Evaluation.Source.ACTIVE)
BAD = ACTIVE & rules.bad_q()


def count_aggregates() -> dict[str, Count]:
    return {**rating_aggregates(), **case_aggregates()}


def rating_aggregates() -> dict[str, Count]:
    """The counts that need only the evaluation itself."""
    return {
        "total": Count("id"),
        "active": Count("id", filter=ACTIVE),
        "defaults": Count("id", filter=Q(source=Evaluation.Source.DEFAULT)),
        "active_good": Count("id", filter=ACTIVE & rules.good_q()),
        "bad": Count("id", filter=BAD),
    }


def case_aggregates() -> dict[str, Count]:
    """The counts of bad reviews that depend on their case; each counts only bad reviews, so they
    can also be taken over the bad reviews alone (`BAD`), which is how the rollups read them: over a
    few rows PostgreSQL looks each case up by its index rather than hashing the whole case table."""
    cases = BadReviewCase.objects.filter(region_id=OuterRef("region_id"), receipt=OuterRef("receipt"))
    # The subqueries go straight into the filters: aggregating over annotations made Django wrap the
    # query and lose them on PostgreSQL.
    return {
        name: Count("id", filter=BAD & Q(Exists(cases.filter(of_case)))) for name, of_case in case_outcomes().items()
    }


def case_outcomes() -> dict[str, Q]:
    """Which case outcome each case count asks for, as a condition on the bad review's case."""
    # "Rectified after revisit": the revisit must be of the current rectification. A case sent back
    # (evaluator not satisfied, failed spot check) keeps its old revisit until it is revisited again.
    revisited = Q(invalid=False, rectified_at__isnull=False, revisited_at__gte=F("rectified_at"))
    return {
        "invalid_bad": Q(invalid=True),
        "replied": Q(replied_at__isnull=False),
        "rectified": revisited,
        "satisfied": revisited & Q(satisfied=True),
    }


LEVELS = ("level_1", "level_2", "level_3", "level_4", "level_5")
# Every rollup count, in the order the rollup reads return them.
FIELDS = (*COUNTS, *LEVELS)


def level_aggregates() -> dict[str, Count]:
    """Active ratings by level (R1); not part of Annex A, kept for the level distribution."""
    return {f"level_{n}": Count("id", filter=ACTIVE & Q(level=n)) for n in range(1, 6)}


def counted(evaluations: QuerySet[Evaluation]) -> QuerySet[Evaluation]:
    """R15: not from a blocked evaluator; R2 with R3: not a default rating a paper form replaced."""
    replaced = Evaluation.objects.filter(region_id=OuterRef("region_id"), supersedes_id=OuterRef("pk"))
    return evaluations.filter(blocked=False).exclude(Exists(replaced))


def valid_bad(evaluations: QuerySet[Evaluation]) -> QuerySet[Evaluation]:
    """The bad reviews among `evaluations` that count: not blocked, and not found mistaken or
    malicious nor upheld on appeal."""
    invalid = BadReviewCase.objects.filter(region_id=OuterRef("region_id"), receipt=OuterRef("receipt"), invalid=True)
    return counted(evaluations).filter(BAD).exclude(Exists(invalid))


def annex_a_counts(evaluations: QuerySet[Evaluation]) -> dict[str, int]:
    """The Annex A counts over a set of evaluations, read directly (the rollups' reference)."""
    counts: dict[str, Any] = counted(evaluations).aggregate(**count_aggregates())
    return with_valid_bad(counts)


def with_valid_bad(counts: dict[str, int]) -> dict[str, int]:
    return {**counts, "valid_bad": counts["bad"] - counts["invalid_bad"]}


# The six rates of Annex A, in the standard's order, with their names on screen and in reports.
RATES = [
    ("good_rate", gettext_lazy("Good rate")),
    ("active_good_rate", gettext_lazy("Active good rate")),
    ("unrated_rate", gettext_lazy("Unrated rate")),
    ("reply_rate", gettext_lazy("Bad-review reply rate")),
    ("rectification_rate", gettext_lazy("Rectification rate")),
    ("rectification_satisfaction_rate", gettext_lazy("Rectification satisfaction rate")),
]


# The rates where lower is better (R20 rankings put the lowest first): a rating left to time out.
LOWER_IS_BETTER = frozenset({"unrated_rate"})


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def annex_a_rates(counts: dict[str, int]) -> dict[str, float | None]:
    """The six rates; a zero denominator is no data (None), never 0 or 1."""
    return {
        "good_rate": _ratio(counts["total"] - counts["valid_bad"], counts["total"]),
        "active_good_rate": _ratio(counts["active_good"], counts["active"] - counts["invalid_bad"]),
        "unrated_rate": _ratio(counts["defaults"] + counts["invalid_bad"], counts["total"]),
        "reply_rate": _ratio(counts["replied"], counts["bad"]),
        "rectification_rate": _ratio(counts["rectified"], counts["valid_bad"]),
        "rectification_satisfaction_rate": _ratio(counts["satisfied"], counts["rectified"]),
    }
