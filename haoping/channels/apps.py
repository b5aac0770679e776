from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConfig(AppConfig):
    name = "haoping.channels"
    verbose_name = _("Rating channels")

    def ready(self) -> None:
        from haoping.channels.selectors import paper_grace_for
        from haoping.evaluations.services import paper_grace_source

        # R2, R3: a paper form keyed in by any path has its region's grace.
        paper_grace_source(paper_grace_for)
