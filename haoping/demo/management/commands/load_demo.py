from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from haoping.demo import services
from haoping.errors import DomainError
from haoping.rectification.models import BadReviewCase


class Command(BaseCommand):
    help = (
        "Load the demo city 示例市 (directory, three months of service records, ratings and bad-review cases) "
        "into an empty database, then print the admin and console logins, the city's API key, open rating "
        "links, a revisit link and a receipt code. "
        "Running it again loads nothing and prints the same logins."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--records", type=int, default=services.DEFAULT_RECORDS, help="service records to load")
        parser.add_argument("--seed", type=int, default=services.DEFAULT_SEED, help="seed of the random data")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["records"] < 1:
            raise CommandError(_("--records must be at least 1"))
        if services.demo_loaded():
            self.stdout.write(
                _("Demo city %(city)s is already loaded; nothing added.") % {"city": services.city_label()}
            )
        else:
            try:
                report = services.demo_load(records=options["records"], seed=options["seed"])
            except DomainError as exc:
                raise CommandError(exc.detail) from exc
            self.stdout.write(
                _(
                    "Loaded demo city %(city)s: %(records)d records, %(visits)d window visits, %(evaluations)d "
                    "ratings (%(defaults)d by default), %(cases)d bad-review cases, in %(seconds).1f s."
                )
                % {
                    "city": services.city_label(),
                    "records": report.records,
                    "visits": report.visits,
                    "evaluations": report.evaluations,
                    "defaults": report.defaults,
                    "cases": report.cases.cases,
                    "seconds": report.seconds,
                }
            )
            states = _("、").join(
                f"{BadReviewCase.State(state).label} {n}" for state, n in report.cases.by_state.items()
            )
            self.stdout.write(
                "  "
                + _("Cases by state: %(states)s; overdue %(overdue)d.")
                % {"states": states, "overdue": report.cases.overdue}
            )
            if options["verbosity"] >= 2:
                for phase, (wall, cpu) in report.phases.items():
                    self.stdout.write(f"  {phase}: {wall:.2f} s (CPU {cpu:.2f} s)")
        self._print_logins()

    def _print_logins(self) -> None:
        username, password = services.demo_admin()
        site = settings.SITE_URL
        self.stdout.write("")
        self.stdout.write(_("Open the demo at %(url)s") % {"url": f"{site}/"})
        if not services.site_is_local():
            self.stdout.write("  " + _("Phones on the same network can open it and scan the QR codes of its links."))
        if password is None:
            shown = _("not known to load_demo (set one with `manage.py changepassword %(user)s`)") % {"user": username}
        else:
            shown = password
        self.stdout.write(
            _("Admin: %(url)s  user: %(user)s  password: %(password)s")
            % {"url": f"{site}/admin/", "user": username, "password": shown}
        )
        self._print_console_users()
        self.stdout.write(
            _("API key of %(city)s: %(key)s") % {"city": services.city_label(), "key": services.demo_api_key()}
        )
        self.stdout.write(
            "  " + _("(saved in %(dir)s; API docs at %(url)s)") % {"dir": settings.VAR_DIR, "url": f"{site}/api/docs"}
        )
        self._print_links()

    def _print_console_users(self) -> None:
        password, logins = services.demo_console_users()
        if not logins:
            return
        site = settings.SITE_URL
        if password is None:
            shown = _("not known to load_demo (set one with `manage.py changepassword <user>`)")
        else:
            shown = password
        self.stdout.write(
            _("Console: %(url)s  password of every user below: %(password)s")
            % {"url": f"{site}/console/", "password": shown}
        )
        width = max(len(login.username) for login in logins)
        for login in logins:
            self.stdout.write(f"  {login.username:<{width}}  {login.name} · {login.role} · {login.scope}")

    def _print_links(self) -> None:
        links = services.demo_open_links()
        if links:
            self.stdout.write(_("Rating links to try:"))
            for link in links:
                self.stdout.write(f"  {link.label}：{link.item} · {link.record_no}")
                self.stdout.write(f"    {link.url}")
        else:
            self.stdout.write(_("Rating links to try: none open any more (the demo's rating windows have closed)"))
        invitations = services.demo_invitations()
        if invitations:
            self.stdout.write(
                _("SMS invitations sent (the outbox keeps them); open the short link, or reply as that number:")
            )
            for invitation in invitations:
                self.stdout.write(f"  {invitation.item}：{invitation.url}")
                self.stdout.write(f'    manage.py sms_inbound --phone {invitation.phone} --text "5 办得很快"')
        revisit = services.demo_revisit_link()
        if revisit is not None:
            self.stdout.write(
                _("Revisit link of case %(case)d (%(item)s), where the evaluator says if the answer satisfies them:")
                % {"case": revisit.case_id, "item": revisit.item}
            )
            self.stdout.write(f"    {revisit.url}")
        receipt = services.demo_receipt()
        if receipt is not None:
            self.stdout.write(
                _("Receipt code to try: %(code)s (%(item)s), its receipt page:")
                % {"code": receipt.code, "item": receipt.item}
            )
            self.stdout.write(f"    {receipt.url}")
