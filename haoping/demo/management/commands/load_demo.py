from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from haoping.demo import services
from haoping.errors import DomainError


class Command(BaseCommand):
    help = (
        "Load the demo city 示例市 (directory, three months of service records, ratings and bad-review cases) "
        "into an empty database, then print the admin and console logins, the city's API key and open rating "
        "links. "
        "Running it again loads nothing and prints the same logins."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--records", type=int, default=services.DEFAULT_RECORDS, help="service records to load")
        parser.add_argument("--seed", type=int, default=services.DEFAULT_SEED, help="seed of the random data")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["records"] < 1:
            raise CommandError("--records must be at least 1")
        if services.demo_loaded():
            self.stdout.write(f"Demo city {services.city_label()} is already loaded; nothing added.")
        else:
            try:
                report = services.demo_load(records=options["records"], seed=options["seed"])
            except DomainError as exc:
                raise CommandError(exc.detail) from exc
            self.stdout.write(
                f"Loaded demo city {services.city_label()}: {report.records} records, {report.visits} visits, "
                f"{report.evaluations} evaluations ({report.defaults} default), {report.cases.cases} bad-review "
                f"cases, in {report.seconds:.1f} s (cases {report.case_seconds:.1f} s)."
            )
            states = ", ".join(f"{state} {n}" for state, n in report.cases.by_state.items())
            self.stdout.write(f"  Cases 差评工单 by state: {states}; overdue {report.cases.overdue}.")
        self._print_logins()

    def _print_logins(self) -> None:
        username, password = services.demo_admin()
        site = settings.SITE_URL
        self.stdout.write("")
        if password is None:
            self.stdout.write(
                f"Admin 管理后台: {site}/admin/  user: {username}  password: not known to load_demo "
                f"(set one with `manage.py changepassword {username}`)"
            )
        else:
            self.stdout.write(f"Admin 管理后台: {site}/admin/  user: {username}  password: {password}")
        self._print_console_users()
        self.stdout.write(f"API key 接口密钥 {services.city_label()}: {services.demo_api_key()}")
        self.stdout.write(f"  (saved in {settings.VAR_DIR}; API docs at {site}/api/docs)")
        links = services.demo_open_links()
        if not links:
            self.stdout.write("Open rating links 评价链接: none open any more (the demo's rating windows have closed)")
            return
        self.stdout.write("Open rating links 评价链接:")
        for link in links:
            self.stdout.write(f"  {link.label}: {link.item} · {link.record_no}")
            self.stdout.write(f"    {link.url}")

    def _print_console_users(self) -> None:
        password, logins = services.demo_console_users()
        if not logins:
            return
        site = settings.SITE_URL
        if password is None:
            shown = "not known to load_demo (set one with `manage.py changepassword <user>`)"
        else:
            shown = password
        self.stdout.write(f"Console 工作台: {site}/console/  password of every user below: {shown}")
        width = max(len(login.username) for login in logins)
        for login in logins:
            self.stdout.write(f"  {login.username:<{width}}  {login.name} · {login.role} · {login.scope}")
