"""综合点评 (R18): the public web form at /gongkai/comment/ (no login, no JavaScript, a rate limit
and the form's own challenge), and the console's inbox where units and managers work comments
and staff key in what the suggestion box holds."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django_ratelimit.core import is_ratelimited

from haoping.accounts.access import Actor, actor_for_user, within_region
from haoping.directory.models import Department, Institution, Platform, Region, ServiceItem
from haoping.errors import DomainError, Invalid, error_labelled
from haoping.feedback.challenge import challenge_new, challenge_passed
from haoping.feedback.models import SocialComment
from haoping.feedback.selectors import comment_counts, comments_visible
from haoping.feedback.services import (
    TRANSITIONS,
    access_comment,
    comment_act,
    comment_for_answer_token,
    comment_receive,
    comment_reroute,
    reroute_choices,
    sender_phone,
)
from haoping.lib.masking import mask_text
from haoping.throttle import public_limit

# The re-route form's value for the region's managers (a unit's code is never empty).
TO_MANAGERS = "-"

LABELS = {
    "text": _lazy("Your comment"),
    "contact": _lazy("Contact (optional)"),
    "code": _lazy("About"),
    "note": _lazy("Answer"),
    "unit": _lazy("Send to"),
    "reason": _lazy("Reason"),
}


def comment_rate(group: str, request: HttpRequest) -> str:
    from django.conf import settings

    return str(settings.HAOPING_COMMENT_RATE)


def _objects(region: Region) -> list[tuple[str, str]]:
    """What a comment about this region can be about, as (target:code, label)."""
    choices = [(f"region:{region.code}", _("%(name)s in general") % {"name": region.name})]
    choices += [
        (f"institution:{code}", name)
        for code, name in Institution.objects.filter(within_region(region)).order_by("code").values_list("code", "name")
    ]
    choices += [
        (f"department:{code}", name)
        for code, name in Department.objects.filter(within_region(region)).order_by("code").values_list("code", "name")
    ]
    choices += [
        (f"platform:{code}", name)
        for code, name in Platform.objects.filter(within_region(region)).order_by("code").values_list("code", "name")
    ]
    items = ServiceItem.objects.filter(within_region(region, field="department__region")).order_by("code")
    choices += [
        (f"item:{code}", _("Item: %(name)s") % {"name": name}) for code, name in items.values_list("code", "name")
    ]
    return choices


@public_limit()
def comment_form(request: HttpRequest) -> HttpResponse:
    """Anyone may comment on a hall, department, platform or item (R18)."""
    regions = list(Region.objects.order_by("path"))
    code = request.POST.get("region") or request.GET.get("region") or ""
    region = next((r for r in regions if r.code == code), None)
    context: dict[str, Any] = {
        "regions": regions,
        "region": region,
        "values": request.POST,
        "kinds": SocialComment.Kind.choices,
    }
    status = 200
    if region is not None and request.method == "POST":
        error = None
        if request.POST.get("website"):
            error = _("The form could not be sent. Please try again.")  # the hidden field a bot fills in
        elif not challenge_passed(request.POST.get("token", ""), request.POST.get("answer", "")):
            error = _("The sum is not right (or the form was left open too long). Please answer the new one.")
        elif is_ratelimited(request, group="haoping.comment", key="ip", rate=comment_rate, increment=True):
            error = _("Too many comments from this address. Please try again later.")
            status = 429
        else:
            target, _sep, object_code = (request.POST.get("about") or "").partition(":")
            try:
                comment, _new = comment_receive(
                    within=region,
                    channel=SocialComment.Channel.WEB,
                    kind=request.POST.get("kind") or "",
                    target=target,
                    code="" if target == "region" else object_code,
                    text=request.POST.get("text") or "",
                    contact=request.POST.get("contact") or "",
                    entered_by_label=_("web form"),
                )
                context["received"] = comment
                return render(request, "feedback/received.html", context, status=201)
            except DomainError as exc:
                error = error_labelled(exc, LABELS).detail
                status = exc.status
        context["error"] = error
        status = status if status != 200 else 400
    if region is not None:
        context["objects"] = _objects(region)
    context["question"], context["token"] = challenge_new()
    return render(request, "feedback/form.html", context, status=status)


@public_limit()
def comment_answer(request: HttpRequest, token: str) -> HttpResponse:
    """R18: the answer to a comment whose sender left a phone number, behind the link the SMS
    carries: what the comment said and the answer, both as stored (masked); nothing else about the
    sender. A forged link is 403, an unknown one 404; guessing is rate-limited."""
    title = _("Answer to your comment")
    try:
        comment = comment_for_answer_token(token)
    except DomainError as exc:
        return render(request, "feedback/answer.html", {"error": exc.detail, "title": title}, status=exc.status)
    response = render(request, "feedback/answer.html", {"comment": comment, "title": title})
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


# ---------------------------------------------------------------------------------------------
# Console


def _actor(request: HttpRequest) -> Actor:
    actor = actor_for_user(request.user)
    if actor is None or (actor.region is None and actor.unit_id is None):
        raise Http404(_("page not found"))
    return actor


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    comments = comments_visible(actor)
    state = request.GET.get("state") or ""
    listed = comments.filter(state=state) if state in SocialComment.State.values else comments
    page = Paginator(listed.order_by("answer_due", "pk"), 50).get_page(request.GET.get("page"))
    since = (timezone.localdate().replace(day=1) - dt.timedelta(days=330)).replace(day=1)
    context = {
        "actor": actor,
        "title": _("Social comments"),
        "page": page,
        "state": state,
        "states": SocialComment.State.choices,
        "by_object": comment_counts(comments, since=since),
        "now": timezone.now(),
    }
    return render(request, "feedback/inbox.html", context)


@login_required
def comment_detail(request: HttpRequest, comment_id: int) -> HttpResponse:
    actor = _actor(request)
    comment = comments_visible(actor).filter(pk=comment_id).select_related("unit", "region").first()
    if comment is None:
        raise Http404(_("page not found"))
    error = None
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("action") == "reroute":
                unit_code = request.POST.get("unit") or ""
                if not unit_code:
                    raise Invalid("unit_required", _("unit: choose where the comment goes"), field="unit")
                comment_reroute(
                    actor=actor,
                    comment=comment,
                    # The form names the region's managers apart from "nothing chosen".
                    unit_code="" if unit_code == TO_MANAGERS else unit_code,
                    reason=request.POST.get("reason") or "",
                )
                if not _visible(actor, comment):
                    return redirect("console-comments")
            else:
                comment_act(
                    actor=actor,
                    comment=comment,
                    action=request.POST.get("action") or "",
                    note=request.POST.get("note") or "",
                )
            return redirect("console-comment", comment_id=comment.pk)
        except DomainError as exc:
            error = error_labelled(exc, LABELS).detail
            status = exc.status
    try:
        access_comment(actor, comment)
        actions = [a for a, (sources, _t) in TRANSITIONS.items() if comment.state in sources]
    except DomainError:
        actions = []
    context = {
        "actor": actor,
        "title": _("Social comment"),
        "comment": comment,
        "contact": mask_text(comment.contact) if "@" not in comment.contact else _mask_address(comment.contact),
        "answered_by": _("SMS") if sender_phone(comment.contact) else _("e-mail"),
        "events": comment.events.all(),
        "actions": actions,
        "to_managers": TO_MANAGERS,
        "units": reroute_choices(actor) if comment.state in ("received", "accepted") else [],
        "error": error,
        "now": timezone.now(),
    }
    return render(request, "feedback/detail.html", context, status=status)


def _mask_address(address: str) -> str:
    name, _at, domain = address.partition("@")
    return f"{name[:1]}***@{domain}"


@login_required
def comment_key_in(request: HttpRequest) -> HttpResponse:
    """Staff key in what the suggestion box held (R18), routed like any other comment."""
    actor = _actor(request)
    home = actor.region
    if home is None:
        assert actor.unit_id is not None
        home = Department.objects.select_related("region").get(pk=actor.unit_id).region
    context: dict[str, Any] = {"actor": actor, "title": _("Key in a suggestion box comment"), "values": request.POST}
    status = 200
    if request.method == "POST":
        target, _sep, object_code = (request.POST.get("about") or "").partition(":")
        try:
            comment, _new = comment_receive(
                within=home,
                channel=SocialComment.Channel.BOX,
                kind=request.POST.get("kind") or "",
                target=target,
                code="" if target == "region" else object_code,
                text=request.POST.get("text") or "",
                contact=request.POST.get("contact") or "",
                entered_by_label=actor.label,
            )
            return (
                redirect("console-comment", comment_id=comment.pk)
                if _visible(actor, comment)
                else redirect("console-comments")
            )
        except DomainError as exc:
            context["error"] = error_labelled(exc, LABELS).detail
            status = exc.status
    context["objects"] = _objects(home)
    context["kinds"] = SocialComment.Kind.choices
    return render(request, "feedback/key_in.html", context, status=status)


def _visible(actor: Actor, comment: SocialComment) -> bool:
    return comments_visible(actor).filter(pk=comment.pk).exists()
