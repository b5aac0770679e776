from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "haoping.accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from haoping.accounts.middleware import session_started

        user_logged_in.connect(session_started, dispatch_uid="haoping.accounts.session_started")
