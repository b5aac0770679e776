from __future__ import annotations

from django.conf import settings
from django.contrib.staticfiles.management.commands.runserver import Command as RunServer
from django.utils.translation import gettext as _


class Command(RunServer):
    help = (
        "Serve the demo with Django's development server and its static files (what ./scripts/demo runs), "
        "announcing it in the language of the demo's other output."
    )

    def on_bind(self, server_port: int) -> None:
        # Django's own banner is English and names the bound address (0.0.0.0 with --lan); people
        # trying the demo need the address the demo's links use, and how to stop it.
        self.stdout.write(_("The demo is served at %(url)s/ (press Ctrl-C to stop it).") % {"url": settings.SITE_URL})
        self.stdout.write(
            _(
                "This is Django's development server, for trying the system only; in production serve it "
                "with granian as README.md (Serving) says."
            )
        )
