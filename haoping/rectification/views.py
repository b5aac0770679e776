"""The handler and manager console (pages), and the evaluator's revisit page.

Every page starts from the signed-in user's role (accounts.access.actor_for_user); every write
calls the same service as the API. Domain errors come back as a message on the page with the
error's 4xx status.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import OperationalError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.exceptions import Ratelimited

from haoping.accounts.access import Actor, access_identity, actor_for_user, within_region
from haoping.directory.models import Department
from haoping.errors import DomainError, error_labelled
from haoping.evaluations.selectors import reason_labels_of
from haoping.formtokens import FIELD as FORM_TOKEN_FIELD
from haoping.formtokens import form_token_issue, form_token_valid
from haoping.lib.masking import personal_data_in
from haoping.lib.numbers import whole_number
from haoping.rectification.deadlines import APPEAL_FILE
from haoping.rectification.links import public_id_from_revisit_token
from haoping.rectification.models import Appeal, BadReviewCase, Message, SpotCheckItem
from haoping.rectification.selectors import (
    CaseFilters,
    appeal_is_late,
    appeals_filed,
    appeals_pending,
    blocked_visible,
    case_allowed_actions,
    case_get,
    case_is_overdue,
    case_list,
    case_nearly_due,
    case_step_deadlines,
    case_step_name,
    case_text_shown,
    case_time_left,
    cases_not_appealed,
    cases_visible,
    evidence_visible,
    messages_for,
    messages_read,
    notices_decided,
    spot_checks_visible,
)
from haoping.rectification.services import (
    FILE_TYPES,
    appeal_decide,
    appeal_file,
    appeal_window,
    blocked_evaluator_add,
    blocked_evaluator_remove,
    case_act,
    case_evaluator_masked,
    case_reveal_evaluator,
    case_revisit_by_evaluator,
    evidence_limits,
    evidence_player,
    extension_outcome,
    extension_unit_by_policy,
    messages_mark_read,
    spot_check_draw,
    spot_check_record,
)
from haoping.rectification.workflow import ACTION_LABELS, ACTIONS, NOTE
from haoping.throttle import public_limit

# The services name a field in an error as the API knows it (`note`); the console's pages name it
# as their forms label it (说明), through haoping.errors.error_labelled.
FIELD_LABELS: dict[str, Any] = {
    "note": gettext_lazy("Note"),
    "evidence": gettext_lazy("Evidence"),
    "unit": gettext_lazy("Unit"),
    "units": gettext_lazy("Units to consult"),
    "category": gettext_lazy("Category"),
    "description": gettext_lazy("What was rectified"),
    "explanation": gettext_lazy("Explanation given to the evaluator"),
    "reason": gettext_lazy("Reason"),
    "days": gettext_lazy("More days"),
    "answer": pgettext_lazy("to the evaluator", "Answer"),
    "satisfied": pgettext_lazy("of a revisit", "Result"),
    "reasons": pgettext_lazy("of an appeal", "Reasons"),
    "upheld": pgettext_lazy("of an appeal", "Decision"),
    "closed_from": gettext_lazy("closed from"),
    "closed_to": gettext_lazy("closed to"),
    "share": pgettext_lazy("of a spot check", "Share"),
    "count": pgettext_lazy("of a spot check", "Count"),
}


def _actor(request: HttpRequest) -> Actor:
    actor = actor_for_user(request.user)
    if actor is None:
        raise Http404(_("you have no role in the console"))
    return actor


def _departments(actor: Actor) -> list[tuple[str, str]]:
    units = Department.objects.order_by("code")
    if actor.region is not None:
        units = units.filter(within_region(actor.region))
    return [(u.code, f"{u.name}（{u.code}）") for u in units[:500]]


def _fields_from_post(request: HttpRequest, action: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for spec in ACTIONS[action].form if action in ACTIONS else ():
        if spec.kind == "files":
            continue
        if spec.kind == "multiselect":
            fields[spec.name] = request.POST.getlist(spec.name)
            continue
        value = request.POST.get(spec.name, "")
        if spec.kind == "number":
            number = whole_number(value.strip())
            fields[spec.name] = number if number is not None else value
        elif spec.kind == "yesno":
            fields[spec.name] = {"yes": True, "no": False}.get(value, value or None)
        else:
            fields[spec.name] = value
    return fields


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """The work queue: open cases by due time, with overdue and nearly-due marks; filters for managers."""
    if actor_for_user(request.user) is None and getattr(request.user, "is_staff", False):
        return redirect("admin:index")  # an administrator without a console role
    actor = _actor(request)
    now = timezone.now()
    params = request.GET
    can_see_identity = access_identity(actor)
    filters = CaseFilters(
        state=params.get("state") or None,
        unit=params.get("unit") or None,
        item=params.get("item") or None,
        # R10: a rated staff member cannot look up which of their records was rated badly.
        record_no=(params.get("record_no") or None) if can_see_identity else None,
        overdue={"1": True, "0": False}.get(params.get("overdue", "")),
        search=params.get("q", "")[:100] or None,
        nearly_due=params.get("nearly") == "1",
        open_only=params.get("open") == "1",
        opened_from=_date(params.get("from")),
        opened_to=_date(params.get("to")),
    )
    if filters.state and filters.state not in BadReviewCase.State.values:
        filters.state = None
    cases = case_list(actor=actor, filters=filters, now=now)
    page = Paginator(cases, 50).get_page(params.get("page"))
    rows = [
        {
            "case": c,
            "overdue": case_is_overdue(c, now),
            "nearly_due": case_nearly_due(c, now),
            "step": case_step_name(c),
        }
        for c in page.object_list
    ]
    return render(
        request,
        "console/queue.html",
        {
            "actor": actor,
            "rows": rows,
            "page": page,
            "filters": filters,
            "states": BadReviewCase.State.choices,
            "units": _departments(actor) if actor.region is not None else [],
            "query": _without_page(params),
            "can_see_identity": can_see_identity,
            "title": _("Overdue cases")
            if filters.overdue
            else _("Cases nearly due")
            if filters.nearly_due
            else _("Bad-review cases"),
        },
    )


def _without_page(params: Any) -> str:
    query = params.copy()
    query.pop("page", None)
    return str(query.urlencode())


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _case_page(
    request: HttpRequest,
    actor: Actor,
    case: BadReviewCase,
    *,
    error: DomainError | None = None,
    revealed: dict[str, str] | None = None,
    kept: tuple[str, dict[str, Any]] | None = None,
    confirm: bool = False,
    appeal_reasons: str = "",
    decision: dict[str, Any] | None = None,
) -> HttpResponse:
    """The case page; `kept` is an action's form sent back with what was typed into it (after an
    error, or to `confirm` a note that holds personal data); `appeal_reasons` and `decision` are the
    appeal's and the appeal decision's forms sent back after an error."""
    now = timezone.now()
    if error is not None:
        error = error_labelled(error, FIELD_LABELS)
    ev = case.evaluation
    actions = case_allowed_actions(actor=actor, case=case)
    can_see_identity = access_identity(actor)
    # The step that moves the case on comes first (and opens); re-dispatching or reclassifying last.
    secondary = {a for a in actions if ACTIONS[a].secondary}
    if case.state == BadReviewCase.State.HANDLING:
        secondary.add("classify")
    actions = [a for a in actions if a not in secondary] + [a for a in actions if a in secondary]
    forms = []
    for action in actions:
        specs = []
        for spec in ACTIONS[action].form or (NOTE,):
            if spec.kind in ("select", "multiselect") and spec.name in ("unit", "units"):
                spec = replace(spec, choices=[c for c in _departments(actor) if c[0] != case.unit.code])
            if spec.kind == "files":
                spec = replace(spec, label=_evidence_label())
            if spec.name == "days_unit":
                spec = replace(spec, value=extension_unit_by_policy(case))
            if kept is not None and kept[0] == action and spec.name in kept[1]:
                spec = replace(spec, value=_typed(kept[1][spec.name]))
            specs.append(spec)
        returned = kept is not None and kept[0] == action
        forms.append(
            {
                "action": action,
                "label": ACTION_LABELS.get(action, action),
                "fields": specs,
                "confirm": returned and confirm,
                "returned": returned,
            }
        )
    appeals = list(case.appeals.order_by("id"))
    # R10: every free text on the page as this actor may see it. The rows are read for this page
    # only and never saved, so their text is replaced in place (the templates stay as they are).
    shown = case_text_shown(actor=actor, case=case)
    events = list(case.events.select_related("user"))
    for event in events:
        event.note = shown(event.note)
    for appeal in appeals:
        appeal.reasons, appeal.decision_note = shown(appeal.reasons), shown(appeal.decision_note)
    evidence = list(evidence_visible(actor=actor).filter(case=case).order_by("id"))
    for item in evidence:
        item.name = shown(item.name)
        item.player = evidence_player(item.content_type)  # type: ignore[attr-defined]
    can_appeal = (
        case.state != BadReviewCase.State.CLOSED
        and not appeals
        and (
            (actor.staff_id is not None and actor.staff_id == case.staff_id)
            or (actor.has("handler") and actor.unit_id == case.unit_id)
        )
    )
    # R14: the form only while the window is open; after it, when it closed.
    appeal_closes = appeal_window(case) if can_appeal else None
    context = {
        "actor": actor,
        "case": case,
        "evaluation": ev,
        "comment": shown(ev.comment),
        "reasons": reason_labels_of(ev, case.region.path),
        "overdue": case_is_overdue(case, now),
        "nearly_due": case_nearly_due(case, now),
        "extension": extension_outcome(case),
        "step_deadlines": case_step_deadlines(case, now),
        # R10: the rated staff member reads the day only; the first deadline is counted from the rating's minute.
        "step_format": "Y-m-d H:i" if can_see_identity else "Y-m-d",
        "events": events,
        "evidence": evidence,
        "consultations": case.consultations.select_related("unit"),
        "appeals": [{"appeal": a, "late": appeal_is_late(a, now)} for a in appeals],
        "forms": forms,
        "error": error,
        "personal_warning": confirm,
        # R10: the time left names the deadline, and so the minute of the rating: not for the rated staff.
        "time_left": case_time_left(case, now) if can_see_identity else None,
        "appeal_reasons": appeal_reasons,
        "decision": decision or {},
        "can_see_identity": can_see_identity,
        "contact": case_evaluator_masked(case) if can_see_identity else None,
        "revealed": revealed,
        "can_appeal": can_appeal,
        "appeal_closes": appeal_closes,
        "appeal_open": appeal_closes is not None and now <= appeal_closes.at,
        "appeal_days": APPEAL_FILE.amount,
        "can_block": actor.has("manager")
        and (case.category == "malicious" or case.invalid_reason == "malicious")
        and case.evaluator_id is not None,
        "action_labels": ACTION_LABELS,
        "evidence_accept": EVIDENCE_ACCEPT,
        "evidence_label": _evidence_label(),
    }
    return render(request, "console/case.html", context, status=error.status if error else 200)


# What the file pickers offer: every extension the evidence check takes, and their types.
EVIDENCE_ACCEPT = ",".join([*FILE_TYPES, *sorted({t.content_type for t in FILE_TYPES.values()})])


def _evidence_label() -> str:
    return (
        _(
            "Evidence: photos (JPEG, PNG) up to %(image)d MB, PDF up to %(document)d MB, call recordings "
            "(MP3, M4A, AAC, WAV, AMR) up to %(audio)d MB, video clips (MP4, WebM) up to %(video)d MB each"
        )
        % evidence_limits()
    )


@login_required
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = _actor(request)
    try:
        case = case_get(actor=actor, case_id=case_id)
    except DomainError as exc:
        raise Http404(exc.detail) from exc
    return _case_page(request, actor, case)


def _typed(value: Any) -> Any:
    """A value as the form shows it again: text as typed, a choice's code, several codes as a list."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return [str(v) for v in value]
    return "" if value is None else str(value)


def _holds_personal_data(case: BadReviewCase, fields: dict[str, Any]) -> bool:
    record = case.record
    names = [p.name for p in (record.applicant, record.agent, case.evaluator) if p is not None]
    return any(isinstance(v, str) and personal_data_in(v, names) for v in fields.values())


@login_required
@require_POST
def case_action(request: HttpRequest, case_id: int, action: str) -> HttpResponse:
    actor = _actor(request)
    try:
        case = case_get(actor=actor, case_id=case_id)
    except DomainError as exc:
        raise Http404(exc.detail) from exc
    fields = _fields_from_post(request, action)
    if not request.POST.get("personal_ok") and _holds_personal_data(case, fields):
        # R10: a warning before a note with personal data is saved where the rated staff member
        # and others read it; sending the form again (as returned, text kept) saves it.
        return _case_page(request, actor, case, kept=(action, fields), confirm=True)
    try:
        case_act(
            actor=actor,
            case=case,
            action=action,
            fields=fields,
            files=request.FILES.getlist("evidence"),
        )
    except DomainError as exc:
        # Everything typed comes back with the error; only the files must be chosen again.
        return _case_page(request, actor, case_get(actor=actor, case_id=case_id), error=exc, kept=(action, fields))
    return redirect("console-case", case_id=case.pk)


@login_required
@require_POST
def case_reveal(request: HttpRequest, case_id: int) -> HttpResponse:
    """R10: the evaluator's contact in full, once, with a reason, written to the audit log."""
    actor = _actor(request)
    try:
        case = case_get(actor=actor, case_id=case_id)
    except DomainError as exc:
        raise Http404(exc.detail) from exc
    try:
        revealed = case_reveal_evaluator(actor=actor, case=case, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        return _case_page(request, actor, case, error=exc)
    response = _case_page(request, actor, case, revealed=revealed)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def case_appeal(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = _actor(request)
    try:
        case = case_get(actor=actor, case_id=case_id)
    except DomainError as exc:
        raise Http404(exc.detail) from exc
    try:
        appeal_file(
            actor=actor, case=case, reasons=request.POST.get("reasons", ""), files=request.FILES.getlist("evidence")
        )
    except DomainError as exc:
        reasons = request.POST.get("reasons", "")
        return _case_page(request, actor, case_get(actor=actor, case_id=case_id), error=exc, appeal_reasons=reasons)
    return redirect("console-case", case_id=case.pk)


@login_required
@require_POST
def appeal_decision(request: HttpRequest, appeal_id: int) -> HttpResponse:
    actor = _actor(request)
    appeal = Appeal.objects.filter(pk=appeal_id, case__in=cases_visible(actor)).select_related("case").first()
    if appeal is None:
        raise Http404(_("appeal not found"))
    upheld = {"yes": True, "no": False}.get(request.POST.get("upheld", ""))
    try:
        if upheld is None:
            raise DomainError("required", _("upheld: choose whether the appeal is upheld"), status=422)
        appeal_decide(actor=actor, appeal=appeal, upheld=upheld, note=request.POST.get("note", ""))
    except DomainError as exc:
        typed = {"appeal": appeal.pk, "upheld": request.POST.get("upheld", ""), "note": request.POST.get("note", "")}
        return _case_page(request, actor, case_get(actor=actor, case_id=appeal.case_id), error=exc, decision=typed)
    return redirect("console-case", case_id=appeal.case_id)


@login_required
def appeals(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    now = timezone.now()
    if not access_identity(actor):
        return _own_appeals(request, actor, now)
    rows = [{"appeal": a, "late": appeal_is_late(a, now)} for a in appeals_pending(actor=actor)[:200]]
    return render(request, "console/appeals.html", {"actor": actor, "rows": rows})


def _own_appeals(request: HttpRequest, actor: Actor, now: dt.datetime) -> HttpResponse:
    """R14, for the rated staff member: the bad reviews they may still appeal, until when, and their
    own appeals with their state and deadlines."""
    open_cases = []
    for case in cases_not_appealed(actor=actor)[:200]:
        closes = appeal_window(case)
        if now <= closes.at:
            open_cases.append({"case": case, "closes": closes})
    rows = []
    for appeal in appeals_filed(actor=actor)[:200]:
        shown = case_text_shown(actor=actor, case=appeal.case)
        appeal.reasons, appeal.decision_note = shown(appeal.reasons), shown(appeal.decision_note)
        rows.append({"appeal": appeal, "late": appeal_is_late(appeal, now)})
    return render(
        request,
        "console/own_appeals.html",
        {"actor": actor, "open_cases": open_cases, "rows": rows, "appeal_days": APPEAL_FILE.amount},
    )


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The first and last byte of a single `Range: bytes=…` request; None to send the whole file
    (no header, or one this view does not serve in parts, such as several ranges). Raises
    ValueError for a range that starts past the end (416)."""
    found = _RANGE.match(header.strip())
    if found is None or found.group(1) == found.group(2) == "":
        return None
    first, last = found.group(1), found.group(2)
    if first == "":  # the last `last` bytes
        if int(last) == 0:
            raise ValueError(header)
        return max(size - int(last), 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size:
        raise ValueError(header)
    return (start, end) if start <= end else None


class _Part:
    """A byte range of an open file, read block by block by FileResponse."""

    def __init__(self, file: Any, start: int, length: int) -> None:
        file.seek(start)
        self.file, self.left = file, length

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        data: bytes = self.file.read(self.left if size < 0 else min(size, self.left))
        self.left -= len(data)
        return data

    def close(self) -> None:
        self.file.close()


@login_required
def evidence_file(request: HttpRequest, evidence_id: int) -> HttpResponseBase:
    """Evidence is served only to those who may see its case. A recording or a clip plays where it is
    listed, so it is served inline and in byte ranges (a player seeks with them); photos and scans
    download."""
    actor = _actor(request)
    item = evidence_visible(actor=actor).filter(pk=evidence_id).first()
    if item is None:
        raise Http404(_("file not found"))
    try:
        content = item.file.open("rb")
        size = item.file.size
    except FileNotFoundError as exc:  # its step committed but the file could not be written
        raise Http404(_("file not found")) from exc
    playable = bool(evidence_player(item.content_type))
    try:
        part = _byte_range(request.headers.get("Range", ""), size) if playable else None
    except ValueError:
        content.close()
        response: HttpResponseBase = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return _evidence_headers(response)
    if part is None:
        response = FileResponse(content, content_type=item.content_type, as_attachment=not playable, filename=item.name)
    else:
        start, end = part
        response = FileResponse(
            _Part(content, start, end - start + 1), content_type=item.content_type, status=206, filename=item.name
        )
        response["Content-Length"] = str(end - start + 1)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    if playable:
        response["Accept-Ranges"] = "bytes"
    return _evidence_headers(response)


def _evidence_headers(response: HttpResponseBase) -> HttpResponseBase:
    response["X-Content-Type-Options"] = "nosniff"
    # A file opened in the browser runs under the page's policy, never with scripts.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def blocked(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not actor.has("manager"):
        raise Http404(_("page not found"))
    error = None
    if request.method == "POST":
        try:
            if "remove" in request.POST:
                entry = blocked_visible(actor=actor).filter(pk=_int(request.POST.get("remove"))).first()
                if entry is None:
                    raise Http404(_("entry not found"))
                blocked_evaluator_remove(actor=actor, entry=entry, reason=request.POST.get("reason", ""))
            else:
                case = case_get(actor=actor, case_id=_int(request.POST.get("case")))
                blocked_evaluator_add(actor=actor, case=case, reason=request.POST.get("reason", ""))
            return redirect("console-blocked")
        except DomainError as exc:
            error = exc
    entries = blocked_visible(actor=actor).select_related("region")[:500]
    return render(
        request,
        "console/blocked.html",
        {"actor": actor, "entries": entries, "error": error and error_labelled(error, FIELD_LABELS)},
        status=error.status if error else 200,
    )


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


@login_required
def spot_checks(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not actor.has("manager") or actor.region is None:
        raise Http404(_("page not found"))
    error = None
    if request.method == "POST":
        try:
            share = request.POST.get("share", "").strip()
            count = request.POST.get("count", "").strip()
            check = spot_check_draw(
                actor=actor,
                region=actor.region,
                closed_from=_date(request.POST.get("from")) or timezone.localdate() - dt.timedelta(days=30),
                closed_to=_date(request.POST.get("to")) or timezone.localdate(),
                share=float(share) / 100 if _number(share) else None,
                count=whole_number(count),
            )
            return redirect("console-spot-check", check_id=check.pk)
        except DomainError as exc:
            error = exc
    checks = spot_checks_visible(actor=actor)[:100]
    return render(
        request,
        "console/spot_checks.html",
        {
            "actor": actor,
            "checks": checks,
            "error": error and error_labelled(error, FIELD_LABELS),
            "today": timezone.localdate(),
        },
        status=error.status if error else 200,
    )


def _number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


@login_required
def spot_check(request: HttpRequest, check_id: int) -> HttpResponse:
    actor = _actor(request)
    check = spot_checks_visible(actor=actor).filter(pk=check_id).first()
    if check is None:
        raise Http404(_("spot check not found"))
    error = None
    if request.method == "POST":
        item = SpotCheckItem.objects.filter(pk=_int(request.POST.get("item")), spot_check=check).first()
        if item is None:
            raise Http404(_("case not found"))
        try:
            spot_check_record(
                actor=actor, item=item, passed=request.POST.get("result") == "passed", note=request.POST.get("note", "")
            )
            return redirect("console-spot-check", check_id=check.pk)
        except DomainError as exc:
            error = exc
    items = check.items.select_related("case", "case__unit", "case__item").order_by("case_id")
    return render(
        request,
        "console/spot_check.html",
        {"actor": actor, "check": check, "items": items, "error": error and error_labelled(error, FIELD_LABELS)},
        status=error.status if error else 200,
    )


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """Messages for the user, their unit, or their region (managers): newest first, unread marked,
    by kind and read state, 50 a page. Sending the form marks messages read (one, or the page)."""
    actor = _actor(request)
    if request.method == "POST":
        ids = [_int(v) for v in request.POST.getlist("read")]
        messages_mark_read(actor=actor, user=actor.user, message_ids=[i for i in ids if i > 0])
        return redirect(request.get_full_path())
    params = request.GET
    kind = params.get("kind") if params.get("kind") in Message.Kind.values else None
    unread_only = params.get("unread") == "1"
    people = ("case__record__applicant", "case__record__agent", "case__evaluator")
    listed = messages_for(actor=actor, user=actor.user).select_related(*people)
    if kind:
        listed = listed.filter(kind=kind)
    if unread_only:
        listed = listed.exclude(reads__user=actor.user)
    page = Paginator(listed.order_by("-created_at", "-id"), 50).get_page(params.get("page"))
    messages = list(page.object_list)
    read = messages_read(user=actor.user, messages=messages)
    decided = notices_decided(messages)
    rows = []
    for message in messages:  # R10, as on the case page; read for this page only, never saved
        message.text = case_text_shown(actor=actor, case=message.case)(message.text)
        rows.append({"message": message, "read": message.pk in read, "decided": decided.get(message.pk)})
    return render(
        request,
        "console/inbox.html",
        {
            "actor": actor,
            "rows": rows,
            "page": page,
            "kinds": Message.Kind.choices,
            "kind": kind or "",
            "unread_only": unread_only,
            "query": _without_page(params),
        },
    )


# Evaluators open this link from a text message, often in browsers that drop cookies: a signed
# form token bound to the link stands in for the CSRF cookie (haoping.formtokens).
@csrf_exempt
@public_limit(block=False)
@require_http_methods(["GET", "HEAD", "POST"])
def revisit(request: HttpRequest, token: str) -> HttpResponse:
    """The evaluator's page: the answer they got, and whether they are satisfied with it."""
    if request.limited and request.method != "POST":  # type: ignore[attr-defined]
        raise Ratelimited()
    try:
        public_id = public_id_from_revisit_token(token)
    except DomainError as exc:
        raise Http404(exc.detail) from exc
    case = BadReviewCase.objects.select_related("item").filter(public_id=public_id).first()
    if case is None:
        raise Http404(_("no such link"))
    error = None
    if request.method == "POST":
        satisfied = {"yes": True, "no": False}.get(request.POST.get("satisfied", ""))
        try:
            if request.limited:  # type: ignore[attr-defined]
                raise DomainError(
                    "too_many_requests",
                    _("Too many requests came from your network just now; wait a moment and send again."),
                    status=429,
                )
            if not form_token_valid(token=request.POST.get(FORM_TOKEN_FIELD, ""), purpose="revisit", bound_to=token):
                raise DomainError(
                    "form_token",
                    _("This page was open too long or could not be checked; check your answer and send it again."),
                    status=403,
                )
            if satisfied is None:
                raise DomainError("required", _("please choose satisfied or not satisfied"), status=422)
            case_revisit_by_evaluator(public_id=public_id, satisfied=satisfied, note=request.POST.get("note", ""))
            return redirect("revisit", token=token)
        except OperationalError:
            error = DomainError(
                "busy", _("The system is busy and your answer was not saved; send it again in a moment."), status=503
            )
        except DomainError as exc:
            error = exc
    answer = case.events.filter(action="reply").order_by("-id").first()
    return render(
        request,
        "rectification/revisit.html",
        {
            "case": case,
            "answer": answer.note if answer else "",
            "error": error and error_labelled(error, {"note": gettext_lazy("Anything to add (optional)")}),
            "open": case.state == BadReviewCase.State.REPLIED,
            # What the evaluator sent stays on the page when it could not be saved.
            "chosen": request.POST.get("satisfied", ""),
            "note": request.POST.get("note", ""),
            "form_token": form_token_issue(purpose="revisit", bound_to=token),
        },
        status=error.status if error else 200,
    )
