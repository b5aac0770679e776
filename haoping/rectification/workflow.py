"""The case workflow (R12): every state, every action and who may take it, in one table.

dispatch → contact → classify → rectify / explain / request invalidation → answer → revisit → closed
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from haoping.rectification.models import BadReviewCase

S = BadReviewCase.State
C = BadReviewCase.Category
RECTIFIABLE = frozenset({C.SIMPLE, C.GENERAL, C.COMPLEX})
INVALID_CATEGORIES = frozenset({C.MISTAKEN, C.MALICIOUS})
OPEN_STATES = frozenset(S) - {S.CLOSED}


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    # Where the case goes; revisit and reopen name more than one, the service picks by the outcome.
    targets: tuple[str, ...]
    roles: frozenset[str]
    # Only for cases of these categories (None: any).
    categories: frozenset[str] | None = None


def _t(
    sources: set[str] | frozenset[str], *targets: str, roles: set[str], categories: frozenset[str] | None = None
) -> Transition:
    return Transition(frozenset(sources), targets, frozenset(roles), categories)


WORKFLOW: dict[str, Transition] = {
    # A manager, or the 12345 hotline, sends the case to another unit; the contact step starts again there.
    "dispatch": _t({S.OPEN, S.CONTACTED, S.HANDLING}, S.OPEN, roles={"manager", "hotline"}),
    # Contacted the evaluator and verified what happened (回访核实).
    "contact": _t({S.OPEN}, S.CONTACTED, roles={"handler"}),
    "classify": _t({S.CONTACTED, S.HANDLING}, S.HANDLING, roles={"handler"}),
    "rectify": _t({S.HANDLING}, S.RESOLVED, roles={"handler"}, categories=RECTIFIABLE),
    "explain": _t({S.HANDLING}, S.RESOLVED, roles={"handler"}, categories=frozenset({C.NO_LEGAL_BASIS})),
    "request_invalidation": _t(
        {S.HANDLING}, S.INVALIDATION_REQUESTED, roles={"handler"}, categories=INVALID_CATEGORIES
    ),
    # Decisions take a second person (haoping.accounts.access.access_decide).
    "approve_invalidation": _t({S.INVALIDATION_REQUESTED}, S.CLOSED, roles={"manager"}),
    "reject_invalidation": _t({S.INVALIDATION_REQUESTED}, S.HANDLING, roles={"manager"}),
    "request_extension": _t(
        {S.HANDLING},
        S.EXTENSION_REQUESTED,
        roles={"handler"},
        categories=frozenset({C.GENERAL, C.COMPLEX, C.NO_LEGAL_BASIS}),
    ),
    "approve_extension": _t({S.EXTENSION_REQUESTED}, S.HANDLING, roles={"manager"}),
    "reject_extension": _t({S.EXTENSION_REQUESTED}, S.HANDLING, roles={"manager"}),
    # 会商: complex cases bring in the other units involved.
    "start_consultation": _t({S.HANDLING}, S.HANDLING, roles={"handler"}, categories=frozenset({C.COMPLEX})),
    # The answer goes to the evaluator, with a link to say whether they are satisfied.
    "reply": _t({S.RESOLVED}, S.REPLIED, roles={"handler"}),
    # By the evaluator through the link, or recorded by a handler who called them.
    "revisit": _t({S.REPLIED}, S.CLOSED, S.HANDLING, roles={"handler", "manager", "evaluator"}),
    # The evaluator could not be reached or did not answer.
    "close": _t({S.REPLIED}, S.CLOSED, roles={"handler", "manager"}),
    # A failed spot check sends a closed case back to the unit.
    "reopen": _t({S.CLOSED}, S.HANDLING, roles={"manager"}),
    # An upheld appeal ends the case: the rating is not adopted.
    "uphold_appeal": _t(OPEN_STATES, S.CLOSED, roles={"system"}),
}

ACTION_LABELS = {
    "open": _("opened"),
    "dispatch": _("dispatch to a unit"),
    "contact": _("record contact and verification"),
    "classify": _("classify"),
    "rectify": _("record the rectification"),
    "explain": _("explain (no legal basis)"),
    "request_invalidation": _("ask to invalidate the rating"),
    "approve_invalidation": _("approve invalidation"),
    "reject_invalidation": _("reject invalidation"),
    "request_extension": _("ask for an extension"),
    "approve_extension": _("approve the extension"),
    "reject_extension": _("reject the extension"),
    "start_consultation": _("open a consultation"),
    "reply": _("send the answer to the evaluator"),
    "revisit": _("record the revisit"),
    "close": _("close"),
    "reopen": _("reopen"),
    "uphold_appeal": _("appeal upheld"),
    # Events that are not transitions.
    "appeal": _("appeal filed"),
    "reject_appeal": _("appeal rejected"),
    "warned": _("deadline warning"),
    "overdue": _("overdue"),
    "escalated": _("escalated to the manager"),
    "spot_check": _("spot check"),
    "block_evaluator": _("evaluator added to the registry"),
}


# Each decision and the request it answers: who asked never decides.
DECISIONS = {
    "approve_invalidation": "request_invalidation",
    "reject_invalidation": "request_invalidation",
    "approve_extension": "request_extension",
    "reject_extension": "request_extension",
}


def allowed_actions(*, state: str, category: str, roles: frozenset[str]) -> list[str]:
    """The actions someone with these roles may take on a case in this state, in table order."""
    return [
        action
        for action, t in WORKFLOW.items()
        if state in t.sources and t.roles & roles and (t.categories is None or category in t.categories)
    ]
