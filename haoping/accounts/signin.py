"""How many failed sign-ins lock an account and how many lock an address (django-axes)."""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest


class SignInLocks(AxesDatabaseHandler):  # type: ignore[misc]
    """An account locks after AXES_FAILURE_LIMIT failures from any address; an address only after
    HAOPING_LOGIN_ADDRESS_FAILURE_LIMIT failures over all accounts. A hall's windows often share one
    address behind NAT: one person's typos must not lock out everyone else there.

    axes compares one count with one limit, so the address's count is scaled to the account's
    limit: it reaches that limit exactly when the address reaches its own.
    """

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        by_account, by_address = (
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        limit, address_limit = settings.AXES_FAILURE_LIMIT, settings.HAOPING_LOGIN_ADDRESS_FAILURE_LIMIT
        return max(by_account, by_address * limit // address_limit)
