"""The public rating page an applicant reaches from a QR code or an SMS link. No JavaScript."""

from __future__ import annotations

import io
import logging
import re
from urllib.parse import urlencode

import segno
from django import forms
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django_ratelimit.exceptions import Ratelimited

from haoping.directory.selectors import kiosk_return_check
from haoping.errors import Busy, DomainError, Forbidden, Invalid, NotFound
from haoping.evaluations import rules
from haoping.evaluations.models import LEVEL_LABELS, Evaluation
from haoping.evaluations.rules import MAX_COMMENT, MAX_SUGGESTION, Content, Questionnaire
from haoping.evaluations.selectors import SlotState, slot_state, submission_for_receipt
from haoping.evaluations.services import evaluation_submit, slot_questionnaire
from haoping.formtokens import FIELD as FORM_TOKEN_FIELD
from haoping.formtokens import form_token_issue, form_token_valid
from haoping.records.links import evaluation_url
from haoping.records.models import RatingSlot
from haoping.records.selectors import slot_for_token, theme_records
from haoping.throttle import public_limit

logger = logging.getLogger(__name__)
FORM_PURPOSE = "rate"

ANSWER_CHOICES = [("", _("Not answered"))] + [(str(level), LEVEL_LABELS[level]) for level in (5, 4, 3, 2, 1)]


class RatingForm(forms.Form):
    level = forms.TypedChoiceField(
        label=_("Your rating"),
        coerce=int,
        choices=[(level, LEVEL_LABELS[level]) for level in (5, 4, 3, 2, 1)],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose one of the five levels.")},
    )
    reasons = forms.MultipleChoiceField(
        label=_("What went wrong"),
        choices=[],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    comment = forms.CharField(
        label=_("Comment"), max_length=MAX_COMMENT, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    rated_by = forms.ChoiceField(
        label=_("I am"),
        choices=Evaluation.RatedBy.choices,
        initial=Evaluation.RatedBy.APPLICANT,
        required=False,
        widget=forms.RadioSelect,
    )
    suggestion = forms.CharField(
        label=_("Suggestions"), max_length=MAX_SUGGESTION, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: object, questionnaire: Questionnaire, **kwargs: object) -> None:
        """The form of one service: its questions and reason tags are its questionnaire's (R8, R9)."""
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.question_keys = [o.key for o in questionnaire.questions]
        reasons = self.fields["reasons"]
        assert isinstance(reasons, forms.MultipleChoiceField)
        reasons.choices = [(o.key, o.label) for o in questionnaire.reasons]
        for option in questionnaire.questions:
            self.fields[f"q_{option.key}"] = forms.TypedChoiceField(
                label=option.label, choices=ANSWER_CHOICES, coerce=int, empty_value=None, required=False
            )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        level = data.get("level")
        if isinstance(level, int):
            # R8, as the page says it: every channel of this page is a screen.
            content = Content(
                level=level,
                channel=Evaluation.Channel.MOBILE,
                rated_by=Evaluation.RatedBy.APPLICANT,
                answers={},
                reasons=data.get("reasons") or [],
                comment=data.get("comment") or "",
            )
            try:
                rules.bad_rating_reason_check(content)
            except Invalid:
                self.add_error("reasons", _("For a rating of 1 or 2, choose a reason or write a comment."))
        return data

    def answers(self) -> dict[str, object]:
        answers: dict[str, object] = {
            key: self.cleaned_data[f"q_{key}"] for key in self.question_keys if self.cleaned_data.get(f"q_{key}")
        }
        if self.cleaned_data.get("suggestion"):
            answers["suggestion"] = self.cleaned_data["suggestion"]
        return answers

    def question_fields(self) -> list[forms.BoundField]:
        return [self[f"q_{key}"] for key in self.question_keys]


def _channel(request: HttpRequest, kiosk_return: str = "") -> str:
    # A link printed in a QR code carries ?via=qr; a link opened on a computer may say ?via=pc; an
    # SMS invitation's short link (haoping.channels) leads here with ?via=sms; a self-service kiosk
    # sends the applicant here with the address of its home (?return=, R22).
    if kiosk_return:
        return Evaluation.Channel.KIOSK
    via = request.GET.get("via") or request.POST.get("via")
    channels = {"qr": Evaluation.Channel.QRCODE, "pc": Evaluation.Channel.PC, "sms": Evaluation.Channel.SMS}
    return channels.get(via or "", Evaluation.Channel.MOBILE)


def _kiosk_return(request: HttpRequest, slot: RatingSlot) -> str:
    """The kiosk home to go back to (?return=), checked against the kiosks' lists; '' for none."""
    back = request.GET.get("return") or request.POST.get("return") or ""
    return kiosk_return_check(url=back, region=slot.region) if back else ""


def _problem(request: HttpRequest, exc: DomainError) -> HttpResponse:
    messages = {
        403: _("This rating link is not valid. Please use the link or QR code you were given."),
        404: _("This rating link does not exist."),
    }
    return render(
        request,
        "evaluations/problem.html",
        {"message": messages.get(exc.status, exc.detail), "status": exc.status},
        status=exc.status,
    )


def _service_context(slot: RatingSlot) -> dict[str, object]:
    record = slot.record
    context: dict[str, object] = {"slot": slot}
    if slot.kind == RatingSlot.Kind.THEME:
        context["theme_records"] = theme_records(slot)
        context["bundle"] = slot.bundle
        return context
    assert record is not None
    window = slot.visit.window if slot.visit else record.window
    staff = (slot.visit.staff or record.staff) if slot.visit else record.staff
    context.update(
        record=record,
        item=record.item,
        place=window.institution if window else (record.institution or record.platform),
        window=window,
        staff_no=staff.staff_no if staff else "",
        has_agent=record.agent_id is not None,
    )
    return context


# What the link says when it cannot take a rating: (page title, heading, explanation).
STATE_MESSAGES = {
    SlotState.RATED: (
        _("Already rated"),
        _("This service has already been rated."),
        _("Each service can be rated once. Thank you for taking part."),
    ),
    SlotState.CLOSED: (
        _("Rating period ended"),
        _("The rating period for this service has ended."),
        _("A service can be rated within a set number of days after it took place."),
    ),
    SlotState.NOT_READY: (
        _("Not ready to be rated"),
        _("This service cannot be rated yet."),
        _("You can rate it once it has been completed."),
    ),
}
STATE_STATUS = {SlotState.RATED: 409, SlotState.CLOSED: 410, SlotState.NOT_READY: 409}
# R22: a kiosk's receipt page goes back to the kiosk's home this long after it is shown (seconds);
# any of its pages does after a minute without a touch (static/public/kiosk.js).
KIOSK_RETURN_AFTER_RATING = 10
RECEIPT_FORMAT = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")


def _state_page(request: HttpRequest, state: SlotState, context: dict[str, object], status: int) -> HttpResponse:
    title, heading, explanation = STATE_MESSAGES[state]
    context = {**context, "title": title, "heading": heading, "explanation": explanation}
    return render(request, "evaluations/state.html", context, status=status)


# Why a posted rating was not stored although the form was valid: (status, message). The form is
# shown again with what the applicant entered, so that one press of the button sends it again.
UNSTORED = {
    "form_token": (
        403,
        _(
            "This page was open too long or could not be checked, so your rating was not sent yet. "
            "Your answers are still below: check them and press the button again."
        ),
    ),
    "limited": (
        429,
        _(
            "Too many requests came from your network just now, so your rating was not stored. "
            "Your answers are still below: wait a moment and press the button again."
        ),
    ),
    "busy": (
        503,
        _(
            "The system is busy and your rating was not stored. "
            "Your answers are still below: press the button again in a moment."
        ),
    ),
}


def _rate_form_page(
    request: HttpRequest, token: str, context: dict[str, object], form: RatingForm, *, unstored: str = ""
) -> HttpResponse:
    status, message = UNSTORED.get(unstored, (400 if form.is_bound and form.errors else 200, ""))
    context.update(form=form, unstored=message, form_token=form_token_issue(purpose=FORM_PURPOSE, bound_to=token))
    context.setdefault("via", request.POST.get("via", ""))
    return render(request, "evaluations/rate.html", context, status=status)


# The applicant's browser may not keep cookies (WeChat, privacy browsers): the signed form token,
# bound to this link, stands in for the CSRF cookie (haoping.formtokens).
@csrf_exempt
@public_limit(block=False)
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def rate(request: HttpRequest, token: str) -> HttpResponse:
    if request.limited and request.method != "POST":  # type: ignore[attr-defined]
        raise Ratelimited()
    try:
        slot = slot_for_token(token)
    except (NotFound, Forbidden) as exc:
        return _problem(request, exc)
    try:
        kiosk_return = _kiosk_return(request, slot)
    except Invalid as exc:
        return _problem(request, exc)
    context = _service_context(slot)
    context["via"] = request.GET.get("via", "")
    context["kiosk_return"] = kiosk_return
    state = slot_state(slot)
    if state != SlotState.OPEN:
        status = 200 if request.method != "POST" else STATE_STATUS[state]
        return _state_page(request, state, context, status)

    questionnaire = slot_questionnaire(slot)
    if request.method != "POST":
        return _rate_form_page(request, token, context, RatingForm(questionnaire=questionnaire))
    form = RatingForm(request.POST, questionnaire=questionnaire)
    if request.limited:  # type: ignore[attr-defined]
        return _rate_form_page(request, token, context, form, unstored="limited")
    if not form_token_valid(token=request.POST.get(FORM_TOKEN_FIELD, ""), purpose=FORM_PURPOSE, bound_to=token):
        return _rate_form_page(request, token, context, form, unstored="form_token")
    if not form.is_valid():
        return _rate_form_page(request, token, context, form)
    try:
        submission = evaluation_submit(
            client=None,
            token=token,
            level=form.cleaned_data["level"],
            channel=_channel(request, kiosk_return),
            rated_by=form.cleaned_data.get("rated_by") or Evaluation.RatedBy.APPLICANT,
            answers=form.answers(),
            reasons=form.cleaned_data["reasons"],
            comment=form.cleaned_data["comment"],
        )
    except (OperationalError, Busy) as exc:
        # A busy or unreachable database: the rating is not lost, it is still in the form. Only the
        # error's type is logged: a database error's text can quote the values it was given.
        logger.warning("rating page: database busy (%s), rating not stored", type(exc).__name__)
        return _rate_form_page(request, token, context, form, unstored="busy")
    except DomainError as exc:
        if exc.code == "already_rated":
            return _state_page(request, SlotState.RATED, context, 409)
        if exc.code == "window_closed":
            return _state_page(request, SlotState.CLOSED, context, 410)
        form.add_error(None, exc.detail)
        return _rate_form_page(request, token, context, form)
    done = redirect("rate-done", token=token, receipt=submission.receipt)
    if kiosk_return:
        done["Location"] += "?" + urlencode({"return": kiosk_return})
    return done


@public_limit()
@never_cache
@require_http_methods(["GET", "HEAD"])
def rate_done(request: HttpRequest, token: str, receipt: str) -> HttpResponse:
    try:
        slot = slot_for_token(token)
    except (NotFound, Forbidden) as exc:
        return _problem(request, exc)
    try:
        kiosk_return = _kiosk_return(request, slot)
    except Invalid as exc:
        return _problem(request, exc)
    rows = submission_for_receipt(slot=slot, receipt=receipt) if RECEIPT_FORMAT.fullmatch(receipt) else []
    if not rows:
        return _problem(request, NotFound("not_found", str(_("No rating with this receipt."))))
    context = _service_context(slot)
    context.update(receipt=receipt, evaluation=rows[0], rows=rows, kiosk_return=kiosk_return)
    context["kiosk_return_seconds"] = KIOSK_RETURN_AFTER_RATING
    return render(request, "evaluations/receipt.html", context)


QR_TYPES = {"svg": "image/svg+xml", "png": "image/png"}


@public_limit()
@require_http_methods(["GET", "HEAD"])
def rate_qr(request: HttpRequest, token: str, kind: str) -> HttpResponse:
    """The rating link as a QR code: SVG for pages, PNG for printers and receipt slips."""
    try:
        slot = slot_for_token(token)
    except (NotFound, Forbidden) as exc:
        return _problem(request, exc)
    qr = segno.make(evaluation_url(slot.public_id) + "?via=qr", error="m")
    out = io.BytesIO()
    # A standalone SVG document (XML declaration and namespace), so that <img> can show it.
    qr.save(out, kind=kind, scale=6, border=4)
    response = HttpResponse(out.getvalue(), content_type=QR_TYPES[kind])
    response["Cache-Control"] = "public, max-age=86400"
    return response
