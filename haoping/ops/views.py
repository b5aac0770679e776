"""The console page of the background jobs' health, for administrators."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from haoping.accounts.access import access_operations, actor_for_user
from haoping.ops.selectors import jobs_health


@login_required
def health(request: HttpRequest) -> HttpResponse:
    access_operations(request.user)
    context = {
        "title": _("Background jobs"),
        "actor": actor_for_user(request.user),
        "jobs": jobs_health(now=timezone.now()),
    }
    return render(request, "console/health.html", context)
