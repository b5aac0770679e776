"""The managers' view of the upload: what waits, what went, what was refused and why; resend."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from haoping.accounts.access import actor_for_user
from haoping.exchange.models import OutgoingRow
from haoping.exchange.selectors import delivery_state
from haoping.exchange.services import endpoint_for_region, exchange_resend


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def exchange(request: HttpRequest) -> HttpResponse:
    actor = actor_for_user(request.user)
    if actor is None or not actor.has("manager") or actor.region is None:
        raise Http404(_("page not found"))
    error = ""
    if request.method == "POST":
        statuses = request.POST.getlist("status")
        allowed = {OutgoingRow.Status.REJECTED, OutgoingRow.Status.TRANSPORT_ERROR}
        if not statuses or not set(statuses) <= allowed:
            error = _("Choose the rows to send again: refused ones, undelivered ones, or both.")
        else:
            exchange_resend(user=request.user, region=actor.region, statuses=statuses)
            return redirect("console-exchange")
    state = delivery_state(actor=actor)
    labels = dict(OutgoingRow.Status.choices)
    return render(
        request,
        "console/exchange.html",
        {
            "actor": actor,
            "state": state,
            "endpoint": endpoint_for_region(actor.region),
            "status_counts": [(status, labels[status], n) for status, n in state.counts.items()],
            "error": error,
        },
        status=400 if error else 200,
    )
