"""The case workflow (R12): every state, every action and who may take it, in one table.

dispatch → contact → classify → rectify / explain / request invalidation → answer → revisit → closed

Each action is one `Action`: where it may be taken, where it leads, who may take it, its label, the
request it decides and the form that asks for its inputs. The models take their states and the
timeline's action codes from here; the services, the console and the API read the same rows.
This module imports no model, so that the models may import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CaseState(models.TextChoices):
    OPEN = "open", _("awaiting contact")
    CONTACTED = "contacted", _("awaiting classification")
    HANDLING = "handling", _("being handled")
    EXTENSION_REQUESTED = "extension_requested", _("extension awaiting approval")
    INVALIDATION_REQUESTED = "invalidation_requested", _("invalidation awaiting approval")
    RESOLVED = "resolved", _("awaiting answer")
    REPLIED = "replied", _("awaiting revisit")
    CLOSED = "closed", _("closed")


class CaseCategory(models.TextChoices):
    SIMPLE = "simple", _("simple")
    GENERAL = "general", _("general")
    COMPLEX = "complex", _("complex")
    NO_LEGAL_BASIS = "no_legal_basis", _("no legal basis")
    MISTAKEN = "mistaken", _("mistaken rating")
    MALICIOUS = "malicious", _("malicious rating")


class DayUnit(models.TextChoices):
    """What an extension's days count (haoping.rectification.deadlines.Span units)."""

    WORKDAYS = "workdays", _("working days")
    DAYS = "days", _("natural days")


S = CaseState
C = CaseCategory
RECTIFIABLE = frozenset({C.SIMPLE, C.GENERAL, C.COMPLEX})
INVALID_CATEGORIES = frozenset({C.MISTAKEN, C.MALICIOUS})
OPEN_STATES = frozenset(S) - {S.CLOSED}
# Where an action that does not move the case may lead: the state it is in.
STAYS = tuple(s for s in S if s != S.CLOSED)


@dataclass(frozen=True)
class FormField:
    """One input of an action's console form; the service validates what comes in."""

    name: str
    label: Any
    kind: str = "textarea"  # textarea, text, number, select, multiselect, yesno, files, date
    required: bool = True
    choices: list[tuple[str, Any]] = field(default_factory=list)
    # What the handler typed, when the form comes back to them (a list for a multiselect).
    value: Any = ""


@dataclass(frozen=True)
class Action:
    """One row of the table. An action without sources is a timeline event only (the sweep's
    warnings, an appeal filed): nobody takes it through `case_act`."""

    label: Promise
    sources: frozenset[str] = frozenset()
    # Where the case goes; revisit and reopen name more than one, the service picks by the outcome.
    targets: tuple[str, ...] = ()
    roles: frozenset[str] = frozenset()
    # Only for cases of these categories (None: any).
    categories: frozenset[str] | None = None
    # A decision names the request it answers: who asked never decides (access_decide).
    decides: str | None = None
    # The inputs of the console form.
    form: tuple[FormField, ...] = ()
    # The name of the function in haoping.rectification.services that works out the change.
    handler: str = ""
    # Whether evidence files may go with it.
    files: bool = False
    # Offered after the step that moves the case on (the console lists it last, closed).
    secondary: bool = False
    # Only on a case that is overdue and escalated to the manager.
    escalated_only: bool = False
    # Offered through the case API (haoping.rectification.api.Action) as well as the console.
    api: bool = True
    # Offered instead of this other action where both are allowed (reassign instead of dispatch).
    replaces: str | None = None

    @property
    def is_transition(self) -> bool:
        return bool(self.sources)


NOTE = FormField("note", _("Note"), required=False)
NOTE_REQUIRED = FormField("note", _("Note"))
FILES = FormField("evidence", _("Evidence"), kind="files", required=False)


def _roles(*names: str) -> frozenset[str]:
    return frozenset(names)


ACTIONS: dict[str, Action] = {
    "open": Action(_("opened")),
    # A manager, or the 12345 hotline, sends the case to another unit; the contact step starts again there.
    "dispatch": Action(
        _("dispatch to a unit"),
        sources=frozenset({S.OPEN, S.CONTACTED, S.HANDLING}),
        targets=(S.OPEN,),
        roles=_roles("manager", "hotline"),
        form=(FormField("unit", _("Unit"), kind="select"), NOTE),
        handler="_dispatch",
        secondary=True,
    ),
    # Contacted the evaluator and verified what happened (回访核实).
    "contact": Action(
        _("record contact and verification"),
        sources=frozenset({S.OPEN}),
        targets=(S.CONTACTED,),
        roles=_roles("handler"),
        form=(FormField("note", _("What the evaluator said and what was verified")), FILES),
        handler="_contact",
        files=True,
    ),
    "classify": Action(
        _("classify"),
        sources=frozenset({S.CONTACTED, S.HANDLING}),
        targets=(S.HANDLING,),
        roles=_roles("handler"),
        form=(FormField("category", _("Category"), kind="select", choices=C.choices), NOTE),
        handler="_classify",
    ),
    "rectify": Action(
        _("record the rectification"),
        sources=frozenset({S.HANDLING}),
        targets=(S.RESOLVED,),
        roles=_roles("handler"),
        categories=RECTIFIABLE,
        form=(FormField("description", _("What was rectified")), FILES),
        handler="_rectify",
        files=True,
    ),
    "explain": Action(
        _("explain (no legal basis)"),
        sources=frozenset({S.HANDLING}),
        targets=(S.RESOLVED,),
        roles=_roles("handler"),
        categories=frozenset({C.NO_LEGAL_BASIS}),
        form=(FormField("explanation", _("Explanation given to the evaluator")), FILES),
        handler="_explain",
        files=True,
    ),
    "request_invalidation": Action(
        _("ask to invalidate the rating"),
        sources=frozenset({S.HANDLING}),
        targets=(S.INVALIDATION_REQUESTED,),
        roles=_roles("handler"),
        categories=INVALID_CATEGORIES,
        form=(FormField("reason", _("Why the rating is mistaken or malicious")),),
        handler="_request_invalidation",
    ),
    # Decisions take a second person (haoping.accounts.access.access_decide).
    "approve_invalidation": Action(
        _("approve invalidation"),
        sources=frozenset({S.INVALIDATION_REQUESTED}),
        targets=(S.CLOSED,),
        roles=_roles("manager"),
        decides="request_invalidation",
        form=(NOTE,),
        handler="_approve_invalidation",
    ),
    "reject_invalidation": Action(
        _("reject invalidation"),
        sources=frozenset({S.INVALIDATION_REQUESTED}),
        targets=(S.HANDLING,),
        roles=_roles("manager"),
        decides="request_invalidation",
        form=(NOTE_REQUIRED,),
        handler="_reject_invalidation",
    ),
    "request_extension": Action(
        _("ask for an extension"),
        sources=frozenset({S.HANDLING}),
        targets=(S.EXTENSION_REQUESTED,),
        roles=_roles("handler"),
        categories=frozenset({C.GENERAL, C.COMPLEX, C.NO_LEGAL_BASIS}),
        form=(
            FormField("days", _("More days"), kind="number"),
            FormField("days_unit", _("Counted in"), kind="select", choices=DayUnit.choices),
            FormField("reason", _("Reason")),
        ),
        handler="_request_extension",
    ),
    "approve_extension": Action(
        _("approve the extension"),
        sources=frozenset({S.EXTENSION_REQUESTED}),
        targets=(S.HANDLING,),
        roles=_roles("manager"),
        decides="request_extension",
        form=(NOTE,),
        handler="_approve_extension",
    ),
    "reject_extension": Action(
        _("reject the extension"),
        sources=frozenset({S.EXTENSION_REQUESTED}),
        targets=(S.HANDLING,),
        roles=_roles("manager"),
        decides="request_extension",
        form=(NOTE_REQUIRED,),
        handler="_reject_extension",
    ),
    # 会商: complex cases bring in the other units involved.
    "start_consultation": Action(
        _("open a consultation"),
        sources=frozenset({S.HANDLING}),
        targets=(S.HANDLING,),
        roles=_roles("handler"),
        categories=frozenset({C.COMPLEX}),
        form=(FormField("units", _("Units to consult"), kind="multiselect"), NOTE_REQUIRED),
        handler="_start_consultation",
    ),
    # The answer goes to the evaluator, with a link to say whether they are satisfied.
    "reply": Action(
        _("send the answer to the evaluator"),
        sources=frozenset({S.RESOLVED}),
        targets=(S.REPLIED,),
        roles=_roles("handler"),
        form=(
            FormField(
                "answer", _("Answer to the evaluator (sent by SMS with a link to say whether they are satisfied)")
            ),
        ),
        handler="_reply",
    ),
    # By the evaluator through the link, or recorded by a handler who called them.
    "revisit": Action(
        _("record the revisit"),
        sources=frozenset({S.REPLIED}),
        targets=(S.CLOSED, S.HANDLING),
        roles=_roles("handler", "manager", "evaluator"),
        form=(FormField("satisfied", _("Is the evaluator satisfied?"), kind="yesno"), NOTE),
        handler="_revisit",
    ),
    # The evaluator could not be reached or did not answer.
    "close": Action(
        _("close"),
        sources=frozenset({S.REPLIED}),
        targets=(S.CLOSED,),
        roles=_roles("handler", "manager"),
        form=(NOTE_REQUIRED,),
        handler="_close",
        secondary=True,
    ),
    # A failed spot check sends a closed case back to the unit.
    "reopen": Action(
        _("reopen"),
        sources=frozenset({S.CLOSED}),
        targets=(S.HANDLING,),
        roles=_roles("manager"),
        form=(NOTE_REQUIRED,),
        handler="_reopen",
    ),
    # An overdue case escalated to the manager (督办): a dated instruction to the unit, a reassignment
    # to another unit, or a comment; the case stays where it is (reassigning starts it again there).
    "supervise": Action(
        _("supervise (dated instruction)"),
        sources=OPEN_STATES,
        targets=STAYS,
        roles=_roles("manager"),
        form=(
            FormField("instruction", _("Instruction to the unit")),
            FormField("by", _("To be done by"), kind="date"),
        ),
        handler="_supervise",
        escalated_only=True,
        api=False,
    ),
    "reassign": Action(
        _("reassign to another unit"),
        sources=frozenset({S.OPEN, S.CONTACTED, S.HANDLING}),
        targets=(S.OPEN,),
        roles=_roles("manager"),
        form=(FormField("unit", _("Unit"), kind="select"), FormField("note", _("Why it is reassigned"))),
        handler="_reassign",
        escalated_only=True,
        api=False,
        replaces="dispatch",
    ),
    "comment": Action(
        pgettext_lazy("workflow action", "comment"),
        sources=OPEN_STATES,
        targets=STAYS,
        roles=_roles("manager"),
        form=(NOTE_REQUIRED,),
        handler="_comment",
        escalated_only=True,
        api=False,
        secondary=True,
    ),
    # An upheld appeal ends the case: the rating is not adopted. Only appeal_decide takes it.
    "uphold_appeal": Action(
        _("appeal upheld"), sources=OPEN_STATES, targets=(S.CLOSED,), roles=_roles("system"), api=False
    ),
    # Events that are not transitions.
    "appeal": Action(_("appeal filed")),
    "reject_appeal": Action(_("appeal rejected")),
    "warned": Action(_("deadline warning")),
    "overdue": Action(_("overdue")),
    "escalated": Action(_("escalated to the manager")),
    "spot_check": Action(_("spot check")),
    "block_evaluator": Action(_("evaluator added to the registry")),
}

# The transitions, and what the rest of the code reads of the table.
WORKFLOW: dict[str, Action] = {name: a for name, a in ACTIONS.items() if a.is_transition}
ACTION_LABELS: dict[str, Promise] = {name: a.label for name, a in ACTIONS.items()}
DECISIONS: dict[str, str] = {name: a.decides for name, a in ACTIONS.items() if a.decides}
ACTION_CHOICES: list[tuple[str, Promise]] = list(ACTION_LABELS.items())
# The longest code the timeline stores (CaseEvent.action).
ACTION_MAX_LENGTH = 24


def action_label(action: str) -> str:
    row = ACTIONS.get(action)
    return str(row.label) if row else action


def allowed_actions(
    *,
    state: str,
    category: str,
    roles: frozenset[str],
    escalated: bool = False,
    api: bool = False,
    offered: bool = True,
) -> list[str]:
    """The actions someone with these roles may take on a case in this state, in table order.
    `escalated`: the case is overdue and with the manager (BadReviewCase.escalated_at); `api`: only
    what the case API offers; `offered`: an action another one replaces is left out (it is still
    accepted, for those who send it)."""
    allowed = [
        action
        for action, t in WORKFLOW.items()
        if state in t.sources
        and t.roles & roles
        and (t.categories is None or category in t.categories)
        and (escalated or not t.escalated_only)
        and (t.api or not api)
    ]
    replaced = {WORKFLOW[a].replaces for a in allowed} if offered else set()
    return [a for a in allowed if a not in replaced]
