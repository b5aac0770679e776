from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from haoping.demo import services


@dataclass
class DemoOptions:
    port: int
    lan: bool = False
    records: int | None = None
    help: bool = False
    problems: list[str] = field(default_factory=list)


def _number(text: str, *, lowest: int, highest: int | None) -> int | None:
    if not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    if value < lowest or (highest is not None and value > highest):
        return None
    return value


def demo_options(argv: list[str], *, default_port: str) -> DemoOptions:
    """What `./scripts/demo` was asked for: --port N, --lan, --records N, --help; each problem named."""
    port_problem = _("--port must be a number from 1 to 65535")
    records_problem = _("--records must be a whole number of at least 1")
    port = _number(default_port, lowest=1, highest=65535)
    options = DemoOptions(port=port or 8000)
    if port is None:
        options.problems.append(port_problem)
    rest = list(argv)
    while rest:
        arg = rest.pop(0)
        name, has_value, value = arg.partition("=")
        if arg in ("-h", "--help"):
            options.help = True
        elif arg == "--lan":
            options.lan = True
        elif name in ("--port", "--records"):
            if not has_value:
                value = rest.pop(0) if rest else ""
            if name == "--port":
                number = _number(value, lowest=1, highest=65535)
                if number is None:
                    options.problems.append(port_problem)
                else:
                    options.port = number
            else:
                number = _number(value, lowest=1, highest=None)
                if number is None:
                    options.problems.append(records_problem)
                else:
                    options.records = number
        else:
            options.problems.append(_("unknown option %(option)s (see --help)") % {"option": arg})
    return options


def usage() -> str:
    return "\n".join(
        [
            _("Usage: ./scripts/demo [--port N] [--lan] [--records N]"),
            _("Install, create the SQLite database, load the demo city and serve it at http://127.0.0.1:8000"),
            _("  --port N      serve on port N instead (or PORT=N)"),
            _("  --lan         serve on the local network, so that a phone can open the links and scan the QR codes"),
            _("  --records N   load a smaller or larger city (%(records)d service records by default)")
            % {"records": services.DEFAULT_RECORDS},
        ]
    )


class Command(BaseCommand):
    help = (
        "Read ./scripts/demo's options and print them as shell assignments (port, lan, records); "
        "a wrong option is named in the demo's language."
    )
    requires_system_checks: list[str] = []

    def run_from_argv(self, argv: list[str]) -> None:
        # The demo's own options, not Django's: taken as they were given.
        options = demo_options(argv[2:], default_port=os.environ.get("PORT", "8000"))
        if options.help:
            # stdout is read by the shell; the help text is for the person.
            self.stderr.write(usage())
            self.stdout.write("help=1")
            return
        if options.problems:
            for problem in options.problems:
                self.stderr.write(_("scripts/demo: %(problem)s") % {"problem": problem})
            raise SystemExit(2)
        self.stdout.write("help=")
        records = str(options.records) if options.records is not None else ""
        self.stdout.write(f"port={options.port}")
        self.stdout.write(f"lan={'1' if options.lan else ''}")
        self.stdout.write(f"records={shlex.quote(records)}")

    def handle(self, *args: object, **options: object) -> None:
        raise CommandError(_("run it as ./scripts/demo does: python manage.py demo_options [options]"))
